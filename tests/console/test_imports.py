"""Imports by upload: progress, the row errors shown and downloadable, nothing imported from a file with a
bad row, an audit entry either way."""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

from aiohttp import FormData
from sqlalchemy import func, select

from bot.console.imports import KEPT_S, WORK_DIR
from bot.keys import SESSIONS
from bot.store.models import AuditLog, Resident

from .conftest import Console

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
ROSTER = (SAMPLES / "residents.csv").read_bytes()
GOOD_ID = "140524194710061498"  # 汪福春, row 3 of the sample (the header is row 1)
BAD_ID = "140524194710061499"  # its check digit is wrong


async def upload(console: Console, data: bytes, name: str = "名册.csv", kind: str = "residents"):
    form = FormData()
    form.add_field("csrf_token", await console.token("/console/imports"))
    form.add_field("kind", kind)
    form.add_field("region", "陵川县")
    form.add_field("year", "2025")
    form.add_field("file", data, filename=name, content_type="text/csv")
    return await console.client.post("/console/imports", data=form, allow_redirects=False)


async def finished(console: Console, location: str) -> str:
    """The job's page once the import is over (it refreshes itself every second while it runs)."""
    for _ in range(300):
        html = await (await console.client.get(location)).text()
        if 'http-equiv="refresh"' not in html:
            return html
        await asyncio.sleep(0.1)
    raise AssertionError("the import did not finish")


async def residents(console: Console) -> int:
    async with console.app[SESSIONS]() as db:
        return await db.scalar(select(func.count()).select_from(Resident))


async def test_good_file_is_imported_and_audited(console: Console) -> None:
    assert await console.login("staff") == 303
    before = await residents(console)
    resp = await upload(console, ROSTER)
    assert resp.status == 303
    html = await finished(console, resp.headers["Location"])
    assert "导入完成" in html and "共12行，新增12" in html
    assert await residents(console) == before + 12
    async with console.app[SESSIONS]() as db:
        entry = await db.scalar(select(AuditLog).where(AuditLog.action == "import.residents"))
    assert entry is not None and entry.actor == "staff" and entry.detail["inserted"] == 12
    assert "名册.csv" in await (await console.client.get("/console/imports")).text()


async def test_file_with_a_bad_row_imports_nothing_and_reports_it(console: Console) -> None:
    assert await console.login("staff") == 303
    before = await residents(console)
    bad = ROSTER.decode("utf-8-sig").replace(GOOD_ID, BAD_ID).encode("utf-8-sig")
    resp = await upload(console, bad)
    html = await finished(console, resp.headers["Location"])
    assert "整份文件未导入" in html
    row = re.search(r"<tr><td>3</td><td>身份证号</td><td>([^<]*)</td><td>([^<]*)</td></tr>", html)
    assert row is not None and "校验位不正确" in row[2]
    assert BAD_ID not in html  # the ID number is masked in the report
    assert await residents(console) == before
    report = await console.client.get(resp.headers["Location"] + "/errors.csv")
    assert report.status == 200 and "attachment" in report.headers["Content-Disposition"]
    text = (await report.read()).decode("utf-8-sig")
    assert text.splitlines()[0] == "行号,列,内容,原因" and text.splitlines()[1].startswith("3,身份证号,")
    async with console.app[SESSIONS]() as db:
        actions = list((await db.scalars(select(AuditLog.action))).all())
    assert "import.residents.refused" in actions and "import.residents" not in actions


async def test_wrong_kind_of_file_is_refused_before_anything_runs(console: Console) -> None:
    assert await console.login("staff") == 303
    resp = await upload(console, b"MZ\x90\x00", name="setup.exe")
    assert resp.status == 422 and "只能导入 .csv 或 .xlsx 文件" in await resp.text()


async def test_a_township_leader_cannot_import(console: Console) -> None:
    assert await console.login("liyi") == 303
    assert (await console.client.get("/console/imports")).status == 403
    resp = await upload(console, ROSTER)
    assert resp.status == 403


async def test_old_imports_are_forgotten(console: Console) -> None:
    old = WORK_DIR / ("o" * 24)
    old.mkdir(parents=True, exist_ok=True)
    (old / "state.json").write_text("{}", encoding="utf-8")
    week_ago = time.time() - KEPT_S - 60
    os.utime(old, (week_ago, week_ago))
    assert await console.login("staff") == 303
    resp = await upload(console, ROSTER)
    assert resp.status == 303 and not old.exists()
    await finished(console, resp.headers["Location"])


async def test_the_form_opens_on_the_county_the_progress_page_shows(console: Console) -> None:
    """A region chosen by the list's order (乐至县 first) took a 陵川县 roster uploaded as it opened into 乐至县."""
    assert await console.login("staff") == 303
    html = await (await console.client.get("/console/imports")).text()
    assert re.search(r'<option[^>]*selected[^>]*>陵川县</option>', html)
    assert not re.search(r'<option[^>]*selected[^>]*>乐至县</option>', html)
    form = FormData()
    form.add_field("csrf_token", await console.token("/console/imports"))
    form.add_field("kind", "residents")
    form.add_field("region", "罗山县")
    form.add_field("file", b"x", filename="名册.txt", content_type="text/plain")
    refused = await console.client.post("/console/imports", data=form, allow_redirects=False)
    assert refused.status == 422  # the form shown again keeps the county chosen
    assert re.search(r'<option[^>]*selected[^>]*>罗山县</option>', await refused.text())


async def test_the_summary_counts_problems_not_rows(console: Console) -> None:
    """One row with two bad cells is one row and two problems: the page said 共2行，其中3行有错误."""
    assert await console.login("staff") == 303
    data = ("姓名,身份证号,乡镇,村（社区）,身份类别\n"
            f"张三,{BAD_ID},礼义镇,东村,低保\n李四,12345,没有这个镇,东村,\n")
    resp = await upload(console, data.encode())
    html = await finished(console, resp.headers["Location"])
    summary = re.search(r'id="import-errors-summary">([^<]*)<', html)[1]
    assert "共2行" in summary and "3处" in summary and "3行" not in summary
