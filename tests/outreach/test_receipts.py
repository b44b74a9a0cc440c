"""Delivery receipts: WeChat's TEMPLATESENDJOBFINISH for a reminder reaches the webhook and marks the outbox
row delivered (or blocked); `yibao outbox` counts them."""

from __future__ import annotations

import io
from dataclasses import replace

import aiohttp
from sqlalchemy import select

from bot.app import REGISTRY, SESSIONS
from bot.commands.outbox import outbox_command
from bot.config import Settings
from bot.store.models import DeliveryReceipt, OutboxMessage
from bot.wechat.client import WeChatClient
from bot.wechat.protocol import parse_xml
from scheduler.planner import plan_job
from scheduler.sender import Sender
from scheduler.timetable import find_job
from tests.outreach.helpers import wire
from tests.scheduler.helpers import Person, add_people
from tests.wechat.conftest import fixed_clock

REMIND_5D = "lingchuan-2025:2024-11-25:reminder-5d"


async def send_reminders(bot) -> None:
    sessions, registry = bot.app[SESSIONS], bot.app[REGISTRY]
    async with sessions.begin() as session:
        await plan_job(session, registry, find_job(registry, Settings(), REMIND_5D), planned_at=fixed_clock())
    settings = replace(bot.settings, send_rate_per_s=0)
    async with aiohttp.ClientSession() as http:
        client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                              base=settings.wechat_api_base, sessions=sessions)
        await Sender(sessions, client, registry, settings, clock=fixed_clock).drain()


async def test_a_receipt_marks_a_reminder_delivered_or_blocked(bot, fake):
    state = wire(bot, fake)
    delivered, blocked = await add_people(bot.app[SESSIONS], [Person("礼义镇"), Person("崇文镇")])
    state.blocked.add(blocked.openid)
    await send_reminders(bot)
    await state.settle()
    assert [p["status"] for p in state.pushed] == [200, 200]
    assert {parse_xml(p["xml"].encode())["Status"] for p in state.pushed} == {"success", "failed:user block"}
    async with bot.app[SESSIONS]() as session:
        rows = (await session.execute(
            select(OutboxMessage.openid, DeliveryReceipt.status)
            .join(DeliveryReceipt, DeliveryReceipt.msgid == OutboxMessage.wechat_msgid))).all()
    assert dict(rows) == {delivered.openid: "success", blocked.openid: "failed:user block"}
    out = io.StringIO()
    await outbox_command(bot.settings, None, 5, out)
    assert "微信回执：已送达1条，用户拒收1条" in out.getvalue()


async def test_a_receipt_delivered_twice_is_kept_once(bot, fake):
    state = wire(bot, fake)
    await add_people(bot.app[SESSIONS], [Person("礼义镇")])
    await send_reminders(bot)
    await state.settle()
    xml = state.pushed[-1]["xml"]
    state.push("again", xml.replace(str(state._create_times[next(iter(state._create_times))]), "1700000000"))
    await state.settle()
    async with bot.app[SESSIONS]() as session:
        assert len((await session.execute(select(DeliveryReceipt))).all()) == 1
