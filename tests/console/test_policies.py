"""Publishing a policy from the console: validation report, diff, atomic publication that the webhook,
`yibao ask` and another worker follow without a restart; a bad file is refused and changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from sqlalchemy import func, select

from bot.app import create_app
from bot.commands.ask import ask
from bot.keys import POLICIES, SESSIONS
from bot.store.models import AuditLog, PublishedPolicy
from scheduler.wiring import standalone

from .conftest import Console, csrf_of, fixed_clock, webhook_answer
from .policy_files import BAD, lingchuan_2025_at

QUESTION = "陵川县交多少钱"
ON = dt.date(2024, 11, 20)


async def upload(console: Console, name: str, text: str, path: str = "/console/policy-upload"):
    token = await console.token("/console/policy-upload")
    return await console.client.post(path, data={"csrf_token": token, "filename": name, "text": text},
                                     allow_redirects=False)


async def published_count(console: Console) -> int:
    async with console.app[SESSIONS]() as db:
        return await db.scalar(select(func.count()).select_from(PublishedPolicy))


async def test_review_shows_warnings_and_the_diff_and_changes_nothing(console: Console) -> None:
    assert await console.login("staff") == 303
    resp = await upload(console, "lingchuan-2025.yaml", lingchuan_2025_at(420))
    html = await resp.text()
    assert resp.status == 200 and "校验通过" in html
    assert re.search(r"<del>-\s+个人缴费标准：400元/人/年", html)
    assert re.search(r"<ins>\+\s+个人缴费标准：420元/人/年", html)
    assert "个人缴费印为120元，缴费标准420元减资助280元应为140元" in html  # the validator's warning
    assert "发布需要县局管理员账号" in html  # staff may check a file; an admin publishes
    assert await published_count(console) == 0
    assert "400元" in await console.ask_webhook(QUESTION)


async def test_bad_file_is_refused_with_its_errors(console: Console) -> None:
    assert await console.login("admin") == 303
    resp = await upload(console, "lingchuan-2026.yaml", BAD)
    html = await resp.text()
    assert resp.status == 422 and "此文件有错误，未发布" in html
    assert "insurance_year" in html and "document" in html and "缺少必填项" in html
    resp = await upload(console, "lingchuan-2026.yaml", BAD, path="/console/policy-publish")  # forced
    assert resp.status == 422
    resp = await upload(console, "../../etc/passwd", "id: x")
    assert resp.status == 422 and "文件名应为" in await resp.text()
    assert await published_count(console) == 0


async def test_staff_cannot_publish(console: Console) -> None:
    assert await console.login("staff") == 303
    resp = await upload(console, "lingchuan-2025.yaml", lingchuan_2025_at(420), path="/console/policy-publish")
    assert resp.status == 403
    assert await published_count(console) == 0


async def test_publish_changes_every_answer_without_restart(console: Console, aiohttp_client) -> None:
    # a second worker on the same database, started before the publication
    other = await aiohttp_client(create_app(console.settings, registry=console.registry, clock=fixed_clock,
                                            scheduler=False))
    assert "400元" in await webhook_answer(other, console.settings, QUESTION, "o-other")
    assert "400元" in await ask(QUESTION, region=None, on=ON, openid=None, settings=console.settings)

    assert await console.login("admin") == 303
    resp = await upload(console, "lingchuan-2025.yaml", lingchuan_2025_at(420), path="/console/policy-publish")
    assert resp.status == 303
    page = await console.client.get(resp.headers["Location"])
    assert "已发布（第1版）" in await page.text()

    answer = await console.ask_webhook(QUESTION)
    assert "420元" in answer and "400元" not in answer
    assert "420元" in await ask(QUESTION, region=None, on=ON, openid=None, settings=console.settings)
    for _ in range(40):  # the other worker checks the version every second
        if "420元" in (reply := await webhook_answer(other, console.settings, QUESTION, "o-other")):
            break
        await asyncio.sleep(0.1)
    assert "420元" in reply
    assert other.server.app[POLICIES].version == 1

    async with console.app[SESSIONS]() as db:
        rows = (await db.scalars(select(AuditLog).where(AuditLog.action == "policy.publish"))).all()
    assert [(r.actor, r.detail["policy"], r.detail["version"]) for r in rows] == [("admin", "lingchuan-2025", 1)]
    listing = await (await console.client.get("/console/policies")).text()
    assert re.search(r"控制台发布（第1版，admin", listing)


async def test_publish_needs_the_csrf_token(console: Console) -> None:
    assert await console.login("admin") == 303
    resp = await console.client.post("/console/policy-publish", data={
        "filename": "lingchuan-2025.yaml", "text": lingchuan_2025_at(420)}, allow_redirects=False)
    assert resp.status == 403
    assert await published_count(console) == 0
    assert csrf_of(await (await console.client.get("/console/policies")).text())


async def test_a_separate_scheduler_process_follows_a_publication(console: Console) -> None:
    """`yibao scheduler` beside `yibao serve --no-scheduler` workers: it plans and sends with what the console
    published, within about a second."""
    async with standalone(console.settings, registry=console.registry, clock=fixed_clock, run_jobs=False,
                          run_sender=False) as scheduling:
        assert scheduling.registry.get("陵川县", 2025).contribution.tiers[0].amount == 400
        assert await console.login("admin") == 303
        resp = await upload(console, "lingchuan-2025.yaml", lingchuan_2025_at(420), path="/console/policy-publish")
        assert resp.status == 303
        for _ in range(40):
            if scheduling.registry.get("陵川县", 2025).contribution.tiers[0].amount == 420:
                break
            await asyncio.sleep(0.1)
        assert scheduling.registry.get("陵川县", 2025).contribution.tiers[0].amount == 420
        assert scheduling.sender is not None and scheduling.sender.registry is scheduling.registry
