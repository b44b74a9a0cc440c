"""Subscription notices as the reminder channel (YIBAO_REMINDER_CHANNEL=subscribe): the user's acceptance in
WeChat's popup arrives as subscribe_msg_popup_event and is their consent; bizsend's 43101 fails the message
without marking the follower unreachable."""

from __future__ import annotations

import aiohttp
from sqlalchemy import select

from bot.app import SESSIONS
from bot.store.models import Follower, OutboxMessage, ReminderConsent
from tests.outreach.helpers import run_job, wire
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

    await run_job(bot, REMIND_5D)
    calls = [c for c in state.calls if c["endpoint"] == "message/subscribe/bizsend"]
    assert {c["body"]["touser"]: c["errcode"] for c in calls} == {accepted.openid: 0, refused.openid: 43101}
    assert not [c for c in state.calls if c["endpoint"] == "message/template/send"]
    async with bot.app[SESSIONS]() as session:
        rows = dict((await session.execute(select(OutboxMessage.openid, OutboxMessage.status))).all())
        unreachable = (await session.get(Follower, refused.openid)).unreachable
    assert rows == {accepted.openid: "sent", refused.openid: "failed"} and not unreachable
