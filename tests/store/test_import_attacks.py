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
from bot.store.imports import ImportResult, import_file
from bot.store.models import Resident
from tests.conftest import HMAC_KEY, Store
from tests.store import rosters

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


# -- cells deep in the file -------------------------------------------------------------------------------


async def test_a_nul_deep_in_a_csv_is_a_row_error(store, tmp_path):
    """Past the first 64 KB the binary sniff does not look, and Python 3.11's csv reads NUL: the cell is
    refused as a control character, and nothing is stored."""
    rows = rosters.residents(2000)
    rows[1500][1] = "张\x00三"
    result = await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows))
    assert list(reasons(result)) == [1502] and "控制字符" in reasons(result)[1502]
    assert await residents_stored(store) == 0
