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


def _receipt(event: str, msgid: str, create_time: int, extra: str = "") -> str:
    """A send job's receipt as WeChat pushes it (the account's own id in FromUserName for a mass send)."""
    return (f"<xml><ToUserName><![CDATA[gh_yibao]]></ToUserName><FromUserName><![CDATA[o_receipt]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event><MsgID>{msgid}</MsgID>"
            f"<Status><![CDATA[success]]></Status>{extra}</xml>")


async def test_a_template_and_a_mass_receipt_with_the_same_id_are_both_kept(bot):
    """Template and mass sends number their ids apart: one id may come back once as each kind of receipt."""
    mass_counts = ("<TotalCount>2</TotalCount><FilterCount>2</FilterCount><SentCount>2</SentCount>"
                   "<ErrorCount>0</ErrorCount>")
    assert await bot.ask(_receipt("TEMPLATESENDJOBFINISH", "1000001", 1732060800)) is None
    assert await bot.ask(_receipt("MASSSENDJOBFINISH", "1000001", 1732060801, mass_counts)) is None
    assert await bot.ask(_receipt("MASSSENDJOBFINISH", "1000001", 1732060802, mass_counts)) is None  # WeChat again
    async with bot.app[SESSIONS]() as session:
        kept = (await session.execute(select(DeliveryReceipt.event, DeliveryReceipt.msgid))).all()
    assert sorted(kept) == [("MASSSENDJOBFINISH", "1000001"), ("TEMPLATESENDJOBFINISH", "1000001")]
