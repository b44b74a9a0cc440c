"""Campaigns: upcoming jobs, pause and resume (the scheduler's job then plans nothing), the dry-run preview
with sample texts as recipients read them, the outbox searchable; the audit log of it all."""

from __future__ import annotations

from sqlalchemy import func, select, update

from bot.console.recipients import short_openid
from bot.keys import SESSIONS
from bot.store.models import AuditLog, Contact, OutboxMessage
from scheduler import jobs
from scheduler.describe import preview
from scheduler.planner import plan_job
from scheduler.timetable import find_job

from .conftest import TODAY, Console

REMINDER = "lingchuan-2025:2024-11-25:reminder-1d"


async def post(console: Console, path: str, **data: str):
    token = await console.token("/console/campaigns")
    return await console.client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


async def test_upcoming_jobs_and_the_preview(console: Console) -> None:
    assert await console.login("staff") == 303
    html = await (await console.client.get("/console/campaigns?region=陵川县")).text()
    assert "2024-11-22 09:00" in html and "乡镇征缴进度 · 陵川县 11月25日月度截止" in html
    page = await console.client.get(f"/console/campaigns/preview?job={REMINDER}")
    html = await page.text()
    spec = find_job(console.registry, console.settings, REMINDER)
    async with console.app[SESSIONS]() as db:
        plan = await plan_job(db, console.registry, spec, commit=False, planned_at=TODAY, samples=3)
        first = await preview(db, console.registry, plan.samples[0], spec.run_at.date())
        assert await db.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # a dry run
    assert plan.total > 0 and f"收件人 {plan.total} 个" in html
    assert first.splitlines()[0] in html  # the text exactly as the resident will read it


async def test_pause_and_resume_a_stage(console: Console) -> None:
    assert await console.login("staff") == 303
    resp = await post(console, "/console/campaigns/pause", policy_id="lingchuan-2025", stage="reminder-1d")
    assert resp.status == 303
    html = await (await console.client.get(resp.headers["Location"])).text()
    assert "（已暂停）" in html
    jobs.install(jobs.Runtime(console.settings, console.registry, console.app[SESSIONS], clock=lambda: TODAY))
    try:
        assert await jobs.run_job(REMINDER) is None  # paused: nothing planned
        async with console.app[SESSIONS]() as db:
            assert await db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert (await post(console, "/console/campaigns/resume", policy_id="lingchuan-2025",
                           stage="reminder-1d")).status == 303
        plan = await jobs.run_job(REMINDER)
        assert plan is not None and plan.inserted == plan.total > 0
    finally:
        jobs.install(None)
    async with console.app[SESSIONS]() as db:
        actions = list((await db.scalars(select(AuditLog.action).order_by(AuditLog.id))).all())
    assert actions[-2:] == ["campaign.pause", "campaign.resume"]


async def test_pausing_the_season_stops_every_stage(console: Console) -> None:
    assert await console.login("admin") == 303
    assert (await post(console, "/console/campaigns/pause", policy_id="lingchuan-2025", stage="*")).status == 303
    jobs.install(jobs.Runtime(console.settings, console.registry, console.app[SESSIONS], clock=lambda: TODAY))
    try:
        assert await jobs.run_job("lingchuan-2025:2024-11-25:digest") is None
    finally:
        jobs.install(None)
    resp = await post(console, "/console/campaigns/pause", policy_id="lingchuan-2025", stage="no-such-stage")
    assert resp.status == 400


async def test_outbox_is_searchable(console: Console) -> None:
    async with console.app[SESSIONS]() as db, db.begin():
        spec = find_job(console.registry, console.settings, REMINDER)
        await plan_job(db, console.registry, spec, planned_at=TODAY)
        row = await db.scalar(select(OutboxMessage).limit(1))
        row.status, row.last_error = "failed", "unreachable: 43004 require subscribe hint"  # as the sender has it
    assert await console.login("staff") == 303
    html = await (await console.client.get("/console/outbox?status=failed")).text()
    assert "无法送达：43004（对方未关注公众号）" in html and html.count("<tr>") == 2  # the reason in Chinese
    assert "unreachable" not in html
    assert "居民缴费状态通知（截止前1天）" in html and "reminder-1d" not in html  # the stage in Chinese
    html = await (await console.client.get("/console/outbox?q=43004")).text()
    assert short_openid(row.openid) in html and html.count("<tr>") == 2
    html = await (await console.client.get("/console/outbox?q=nothing-like-this")).text()
    assert "没有消息" in html


async def test_a_preview_without_recipients_says_why_for_its_kind(console: Console) -> None:
    """No official registered: the digest's preview names the officials' QR code, never the residents; the
    escalation's gives its own reason (no township behind) or names the bureau's code, not both."""
    async with console.app[SESSIONS]() as db, db.begin():
        await db.execute(update(Contact).values(openid=None))
    assert await console.login("staff") == 303
    html = await (await console.client.get(
        "/console/campaigns/preview?job=lingchuan-2025:2024-11-25:digest")).text()
    assert "收件人 0 个" in html and "没有扫码登记微信的联系人" in html and "居民" not in html
    html = await (await console.client.get(
        "/console/campaigns/preview?job=lingchuan-2025:2024-11-25:escalation")).text()
    assert ('id="preview-note"' in html) != ('id="preview-none"' in html)
    assert 'id="preview-note"' in html or "县局联系人" in html
