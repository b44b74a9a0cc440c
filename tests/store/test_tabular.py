"""Reading rosters: every hostile file is refused with a TableError in Chinese (never a parser's exception),
bombs before a byte is decompressed; formula_safe for every cell we write."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from bot.store import tabular
from bot.store.tabular import TableError, formula_safe, open_table
from tests.store import hostile, rosters


def read_all(path: Path) -> list[tuple[int, list]]:
    with open_table(path) as table:
        return list(table.rows())


@pytest.mark.parametrize(("name", "builder"), hostile.HOSTILE_XLSX.values(), ids=hostile.HOSTILE_XLSX.keys())
def test_hostile_xlsx_is_refused_with_a_reason(tmp_path: Path, name: str, builder) -> None:
    path = builder(tmp_path / name)
    with pytest.raises(TableError) as refused:
        read_all(path)
    message = str(refused.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message) and "Traceback" not in message


def test_the_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    path = hostile.bomb_xlsx(tmp_path / "bomb.xlsx", 1024)
    assert path.stat().st_size < 2 << 20  # about 1 MB on disk, 1 GiB of shared strings
    tracemalloc.start()
    try:
        with pytest.raises(TableError, match="压缩炸弹"):
            read_all(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak >> 20} MB allocated while refusing"  # openpyxl would take some 2 GB


def test_a_big_part_is_refused_even_when_it_compresses_plausibly(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tabular, "MAX_XLSX_PART", 1 << 20)  # a 3 MiB sst over a 1 MiB limit, ratio within bounds
    monkeypatch.setattr(tabular, "MAX_XLSX_RATIO", 10_000)
    with pytest.raises(TableError, match="超过上限1 MB"):
        read_all(hostile.bomb_xlsx(tmp_path / "big.xlsx", 3))
    monkeypatch.setattr(tabular, "MAX_XLSX_TOTAL", 2 << 20)
    with pytest.raises(TableError, match="请拆分"):
        read_all(hostile.bomb_xlsx(tmp_path / "big.xlsx", 3))


def test_worksheets_may_be_bigger_than_other_parts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tabular, "MAX_XLSX_PART", 1000)  # styles, theme, ... are smaller; the sheet is not
    path = rosters.write_xlsx(tmp_path / "r.xlsx", rosters.RESIDENT_HEADER, rosters.residents(100))
    with pytest.raises(TableError, match="theme"):
        read_all(path)
    monkeypatch.setattr(tabular, "MAX_XLSX_PART", 11_000)
    assert len(read_all(path)) == 100  # sheet1.xml is some 20 KB


def test_a_small_bomb_is_still_a_valid_workbook(tmp_path: Path, monkeypatch) -> None:
    """The bomb of the tests is a real .xlsx: under generous limits it reads, with the huge shared string."""
    monkeypatch.setattr(tabular, "MAX_XLSX_RATIO", 10_000)
    rows = read_all(hostile.bomb_xlsx(tmp_path / "small.xlsx", 1))
    assert len(rows) == 30


def test_an_over_long_cell_is_refused(tmp_path: Path) -> None:
    people = rosters.residents(5)
    people[3][4] = "村" * 32_767  # the most openpyxl writes: the file is then edited past Excel's limit
    written = rosters.write_xlsx(tmp_path / "w.xlsx", rosters.RESIDENT_HEADER, people)
    with zipfile.ZipFile(written) as z:
        sheet = z.read(hostile.SHEET).replace(("村" * 32_767).encode(), ("村" * 40_000).encode())
    people[3][4] = "村" * 40_000
    for path in (hostile.replaced(tmp_path / "r.xlsx", written, {hostile.SHEET: sheet}),
                 rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people)):
        with pytest.raises(TableError, match="第5行有超过32767字"):
            read_all(path)
    (tmp_path / "huge.csv").write_text("姓名,身份证号\n" + "张" * 200_000 + ",1\n", encoding="utf-8")
    with pytest.raises(TableError, match="无法按CSV读取"):
        read_all(tmp_path / "huge.csv")


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("r.csv", None, "扩展名改为 .xlsx"),
    ("r.txt", None, "扩展名改为 .xlsx"),
    ("r.csv", "姓名,身份证号\n张三,1\n".encode("utf-16"), "UTF-16|Unicode文本"),
    ("r.csv", b"", "0字节"),
    ("r.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "旧版 .xls"),
])
def test_csv_that_is_not_text_is_refused(tmp_path: Path, name: str, content: bytes | None, reason: str) -> None:
    path = tmp_path / name
    if content is None:
        hostile.xlsx_as_csv(path)
    else:
        path.write_bytes(content)
    with pytest.raises(TableError, match=reason):
        read_all(path)


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://x\",\"点击\")", "'=HYPERLINK(\"http://x\",\"点击\")"),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("＝1+1", "'＝1+1"), ("张三", "张三"), ("140524********1234", "140524********1234"), (7, 7), (None, None),
])
def test_formula_safe(cell: object, written: object) -> None:
    assert formula_safe(cell) == written
