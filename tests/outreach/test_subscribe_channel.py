"""Subscription notices as the reminder channel (YIBAO_REMINDER_CHANNEL=subscribe): the user's acceptance in
WeChat's popup arrives as subscribe_msg_popup_event and is their consent; bizsend's 43101 fails the message
without marking the follower unreachable."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
from sqlalchemy import select

from bot.app import REGISTRY, SESSIONS
from bot.config import Settings
from bot.store.models import Follower, OutboxMessage, ReminderConsent
from bot.wechat.client import WeChatClient
from scheduler.planner import plan_job
from scheduler.sender import Sender
from scheduler.timetable import find_job
from tests.outreach.helpers import wire
from tests.scheduler.helpers import Person, add_people

REMIND_5D = "lingchuan-2025:2024-11-25:reminder-5d"


async def test_reminders_by_subscription_notice(make_bot, fake):
    bot = await make_bot(reminder_channel="subscribe")
    state = wire(bot, fake)
    template = bot.settings.subscribe_template_id
    accepted, refused = await add_people(bot.app[SESSIONS], [Person("礼义镇", consents=None), Person("礼义镇")])
    choice = {"openid": accepted.openid, "template_id": template, "accept": True}
    async with aiohttp.ClientSession() as http, http.post(fake.make_url("/_fake/popup"), json=choice) as resp:
        assert resp.status == 200
    async with bot.app[SESSIONS]() as session:
        consent = await session.get(ReminderConsent, accepted.openid)
        assert (consent.consent, consent.via) == (True, "popup")

    sessions, registry = bot.app[SESSIONS], bot.app[REGISTRY]
    spec = find_job(registry, Settings(), REMIND_5D)
    async with sessions.begin() as session:
        await plan_job(session, registry, spec, planned_at=spec.run_at)
    settings = replace(bot.settings, send_rate_per_s=0)
    async with aiohttp.ClientSession() as http:
        client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                              base=settings.wechat_api_base, sessions=sessions)
        await Sender(sessions, client, registry, settings, clock=lambda: spec.run_at).drain()
    calls = [c for c in state.calls if c["endpoint"] == "message/subscribe/bizsend"]
    assert {c["body"]["touser"]: c["errcode"] for c in calls} == {accepted.openid: 0, refused.openid: 43101}
    assert not [c for c in state.calls if c["endpoint"] == "message/template/send"]
    async with sessions() as session:
        rows = dict((await session.execute(select(OutboxMessage.openid, OutboxMessage.status))).all())
        unreachable = (await session.get(Follower, refused.openid)).unreachable
    assert rows == {accepted.openid: "sent", refused.openid: "failed"} and not unreachable
