"""Attacks on the roster imports by a hostile file or a careless clerk, beyond test_imports/test_tabular: what
`yibao import` prints, files too big or too long, old and oddly typed ID numbers, a file with no rows. Each is
refused (or reported) with a reason in Chinese, and nothing is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.store import ids, tabular
from bot.store.imports import ImportRefused, ImportResult, import_file
from bot.store.models import Resident
from tests.conftest import HMAC_KEY, Store
from tests.store import rosters, variants

TODAY = dt.date(2024, 11, 20)


async def run(store: Store, kind: str, path: Path, region: str | None = "陵川县", **kw: Any) -> ImportResult:
    return await import_file(store.engine, store.registry, store.settings, kind, path, region=region,
                             today=TODAY, **kw)


async def residents_stored(store: Store) -> int:
    async with store.sessions() as s:
        return (await s.execute(select(func.count()).select_from(Resident))).scalar_one()


def reasons(result: ImportResult) -> dict[int, str]:
    return {e.row: f"{e.column}:{e.reason}" for e in result.error_sample}


# -- what `yibao import` prints -------------------------------------------------------------------------------


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YIBAO_DATABASE_URL", database_url)
    monkeypatch.setenv("YIBAO_ID_HMAC_KEY", HMAC_KEY)
    return database_url


MARKUP = {"closes nothing": "[/]", "a link": "[link=http://evil.example]点我[/link]", "a style": "[red]红[/red]",
          "terminal codes": "崇文镇\x1b[2J\x1b]0;pwned\x07"}


def test_the_report_prints_cells_as_they_are_never_as_markup_or_terminal_codes(env, tmp_path, capsys):
    """The report quotes cells: `[/]` made rich raise MarkupError (a traceback instead of the report),
    `[link=…]` put a link in the clerk's terminal, an escape sequence reached the terminal."""
    rows = rosters.residents(len(MARKUP) + 1)
    for row, township in zip(rows, MARKUP.values(), strict=False):
        row[3] = township
    path = rosters.write_csv(tmp_path / "[bold]名单.csv", rosters.RESIDENT_HEADER, rows)
    code = main(["import", "residents", str(path), "--region", "陵川县"])
    out = capsys.readouterr().out
    assert code == 1 and "未导入任何数据：[bold]名单.csv 有 4 处问题" in out
    for shown in ("“[/]”不是陵川县的乡镇", "[link=http://evil.example]点我[/link]", "“[red]红[/red]”不是"):
        assert shown in out, out
    assert "\x1b" not in out and "\x07" not in out


def test_a_refused_file_is_named_as_it_is(env, tmp_path, capsys):
    path = tmp_path / "[bold]名单.xlsx"
    path.write_text("姓名,身份证号\n", encoding="utf-8")  # text renamed .xlsx
    code = main(["import", "residents", str(path), "--region", "陵川县"])
    out = capsys.readouterr().out
    assert code == 1 and "未导入：无法读取 [bold]名单.xlsx" in out


# -- too big, too long, empty ------------------------------------------------------------------------------


async def test_a_file_over_the_size_cap_is_refused_before_it_is_read(store, tmp_path, monkeypatch):
    path = rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rosters.residents(100))
    monkeypatch.setattr(tabular, "MAX_FILE_BYTES", path.stat().st_size - 1)

    def unread(*_: object) -> str:
        raise AssertionError("the file was read")

    monkeypatch.setattr(tabular, "detect_encoding", unread)
    with pytest.raises(ImportRefused, match=r"超过上限.*请拆分"):
        await run(store, "residents", path)
    assert await residents_stored(store) == 0


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_a_file_over_the_row_cap_is_refused(store, tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(tabular, "MAX_ROWS", 50)  # rows as Excel numbers them: the header is row 1
    write = rosters.write_csv if suffix == ".csv" else rosters.write_xlsx
    path = write(tmp_path / f"r{suffix}", rosters.RESIDENT_HEADER, rosters.residents(50))
    with pytest.raises(ImportRefused, match=r"超过50行.*请拆分"):
        await run(store, "residents", path)
    assert await residents_stored(store) == 0 and not (tmp_path / f"r{suffix}.errors.csv").exists()
    path = write(tmp_path / f"ok{suffix}", rosters.RESIDENT_HEADER, rosters.residents(49))
    assert (await run(store, "residents", path)).inserted == 49


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_a_file_with_a_header_and_no_rows_is_refused(store, tmp_path, suffix):
    """The template sent back unfilled: "0 rows imported" would read as done."""
    write = rosters.write_csv if suffix == ".csv" else rosters.write_xlsx
    path = write(tmp_path / f"r{suffix}", rosters.RESIDENT_HEADER, [["", "", "", "", "", "", ""]])
    with pytest.raises(ImportRefused, match="只有表头，没有数据行"):
        await run(store, "residents", path)


async def test_a_nul_deep_in_a_csv_is_a_row_error(store, tmp_path):
    """Past the first 64 KB the binary sniff does not look, and Python 3.11's csv reads NUL: the cell is
    refused as a control character, and nothing is stored."""
    rows = rosters.residents(2000)
    rows[1500][1] = "张\x00三"
    result = await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows))
    assert list(reasons(result)) == [1502] and "控制字符" in reasons(result)[1502]
    assert await residents_stored(store) == 0


# -- ID numbers as clerks type them ------------------------------------------------------------------------


async def test_an_old_15_digit_id_number_says_so(store, tmp_path):
    rows = rosters.residents(2)
    number = rows[1][2]
    rows[1][2] = number[:6] + number[8:17]  # the same person's pre-1999 number
    result = await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows))
    assert list(reasons(result)) == [3] and "15位旧身份证号" in reasons(result)[3] and "18位" in reasons(result)[3]
    assert rows[1][2] not in result.errors_path.read_text(encoding="utf-8-sig")


async def test_one_person_typed_several_ways_is_one_person(store, tmp_path):
    """Full-width digits, spaces, dashes and a lower-case x are the same number: a duplicate, not a new
    resident; and however typed it never reaches the report in clear."""
    number = variants.id_with_x()
    typed = variants.id_variants(number)
    rows = rosters.residents(len(typed))
    for row, written in zip(rows, typed.values(), strict=True):
        row[2] = written
    result = await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows))
    got = reasons(result)
    assert result.errors == len(typed) - 1 and all("与第2行重复" in got[r] for r in range(3, len(typed) + 2))
    assert await residents_stored(store) == 0
    assert number not in result.errors_path.read_text(encoding="utf-8-sig")
    assert ids.mask(number)  # masked form is what staff see


# -- sheets laid out for printing --------------------------------------------------------------------------


def merged_roster(path: Path, people: list[list[Any]], *, title: str | None = None) -> Path:
    """The bureau's layout: an optional title merged across the top, then each township's name merged down
    over its residents (only the first row holds it)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    if title is not None:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rosters.RESIDENT_HEADER))
    ws.append(rosters.RESIDENT_HEADER)
    first = ws.max_row + 1
    for i, person in enumerate(people):
        ws.append([*person[:3], person[3] if i % 5 == 0 else None, *person[4:]])
    for start in range(first, first + len(people), 5):
        ws.merge_cells(start_row=start, start_column=4, end_row=min(start + 4, first + len(people) - 1),
                       end_column=4)
    wb.save(path)
    return path


async def test_a_township_merged_down_holds_for_every_row_it_covers(store, tmp_path):
    people = rosters.residents(12)
    for i, person in enumerate(people):
        person[3] = rosters.LINGCHUAN_TOWNSHIPS[i // 5]
    result = await run(store, "residents", merged_roster(tmp_path / "r.xlsx", people))
    assert result.ok and result.inserted == 12, result.error_sample
    async with store.sessions() as s:
        townships = dict((await s.execute(select(Resident.name, Resident.township))).all())
    assert townships == {p[1]: p[3] for p in people}


async def test_a_title_above_the_header_is_not_the_header(store, tmp_path):
    """「陵川县2025年度城乡居民医保参保名册」merged across the top: the header is the next row, and rows keep
    the numbers Excel shows."""
    people = rosters.residents(10)
    for i, person in enumerate(people):
        person[3] = rosters.LINGCHUAN_TOWNSHIPS[i // 5]
    people[6][2] = people[6][2][:17] + ("0" if people[6][2][17] != "0" else "1")
    path = merged_roster(tmp_path / "r.xlsx", people, title="陵川县2025年度城乡居民医保参保名册")
    result = await run(store, "residents", path)
    assert list(reasons(result)) == [9] and "校验位" in reasons(result)[9]
    csv_path = tmp_path / "r.csv"
    rosters.write_csv(csv_path, ["陵川县2025年度城乡居民医保参保名册", "", "", "", "", "", ""], [
        rosters.RESIDENT_HEADER, *rosters.residents(3)])
    assert (await run(store, "residents", csv_path)).inserted == 3


async def test_a_sheet_of_countless_merged_areas_is_refused(store, tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_MERGES", 2)
    people = rosters.residents(15)
    with pytest.raises(ImportRefused, match="合并单元格超过2处"):
        await run(store, "residents", merged_roster(tmp_path / "r.xlsx", people))


# -- invisible characters and numbers that were text -------------------------------------------------------


async def test_invisible_characters_in_headers_and_cells_are_dropped(store, tmp_path):
    """Copied from a web page or a chat: zero-width spaces, a second BOM (a tool added one to a file that had
    one), a right-to-left override. The clerk sees 姓名 and 崇文镇; so does the import, and the stored name is
    the one a resident types when binding."""
    header = ["\ufeff序号", "姓\u200b名", "身份证号\u2060", "乡镇", "村（社区）", "身份类别", "手机号"]
    rows = rosters.residents(3)
    rows[0][1], rows[0][3] = "张\u200b三", "崇文镇\u200d"
    rows[1][1], rows[1][4] = "\u202e李四", "第2村\ufeff"
    path = rosters.write_csv(tmp_path / "r.csv", header, rows)
    result = await run(store, "residents", path)
    assert result.ok and result.inserted == 3, result.error_sample
    async with store.sessions() as s:
        stored = set((await s.execute(select(Resident.name, Resident.township, Resident.village))).all())
    assert ("张三", "崇文镇", rows[0][4]) in stored and ("李四", rows[1][3], "第2村") in stored


async def test_an_id_number_excel_stored_as_a_whole_number_says_so(store, tmp_path):
    """Excel keeps 15 significant digits: 140524199001011234 typed into a number cell is saved as
    140524199001011000, which some tools write as a whole number (no exponent)."""
    rows = rosters.residents(2)
    number = rows[1][2]
    rows[1][2] = int(number[:15] + "000")
    path = rosters.write_xlsx(tmp_path / "r.xlsx", rosters.RESIDENT_HEADER, rows)
    result = await run(store, "residents", path)
    assert list(reasons(result)) == [3] and "存成了数字" in reasons(result)[3]


# -- a workbook with a password ------------------------------------------------------------------------------


def encrypted_workbook(path: Path) -> Path:
    """What Excel and WPS save for a workbook with an open password: not a zip but an OLE compound file whose
    directory names an EncryptionInfo and an EncryptedPackage stream (here a minimal one: header, one FAT
    sector, one directory sector)."""
    import struct

    def entry(name: str, kind: int, start: int = 0xFFFFFFFE, size: int = 0) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB3I", len(encoded), kind, 1, 0xFFFFFFFF, 0xFFFFFFFF,
                                                       0xFFFFFFFF) + bytes(16) + bytes(4) + bytes(16)
                + struct.pack("<IQ", start, size))

    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9)
              + struct.pack("<H", 6) + bytes(6) + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 0x1000, 0xFFFFFFFE, 0,
                                                                     0xFFFFFFFE, 0))
    header += struct.pack("<I", 0) + b"\xff" * 4 * 108  # the FAT is sector 0
    fat = struct.pack("<II", 0xFFFFFFFD, 0xFFFFFFFE).ljust(512, b"\xff")
    directory = entry("Root Entry", 5) + entry("EncryptionInfo", 2) + entry("EncryptedPackage", 2) + bytes(128)
    path.write_bytes(header.ljust(512, b"\0") + fat + directory)
    return path


@pytest.mark.parametrize("name", ["名单.xlsx", "名单.csv"])
async def test_a_workbook_with_a_password_says_so(store, tmp_path, name):
    """It was refused as an old .xls ("save it as .xlsx"), which it is not: the password must come off."""
    with pytest.raises(ImportRefused, match="密码"):
        await run(store, "residents", encrypted_workbook(tmp_path / name))


async def test_a_roster_on_the_second_sheet_is_refused_naming_the_sheets(store, tmp_path):
    """The first sheet is the instructions (one line), the roster is on the second: which sheet was read,
    and where the roster must be, is said."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "填表说明"
    wb.active.append(["请按下页格式填写，身份证号列设为文本"])
    roster = wb.create_sheet("参保名单")
    roster.append(rosters.RESIDENT_HEADER)
    for row in rosters.residents(3):
        roster.append(row)
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(ImportRefused, match=r"第一个工作表“填表说明”没有表头行.*参保名单"):
        await run(store, "residents", tmp_path / "r.xlsx")
