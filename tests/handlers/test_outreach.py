"""The outreach's intents through bot.pipeline.respond without a follower (as `yibao ask` runs them); with one,
end to end through the webhook, in tests/outreach."""

from __future__ import annotations

import datetime as dt

from bot.config import TZ
from bot.nlu.query import Intent, Query
from bot.pipeline import respond
from bot.rules.loader import PolicyRegistry
from bot.types import Context

NOW = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)


async def test_reminder_words_without_a_follower_say_where_to_subscribe(registry: PolicyRegistry) -> None:
    ctx = Context(today=NOW.date(), registry=registry, now=NOW)
    for text, topic in [("订阅提醒", "on"), ("退订提醒", "off")]:
        reply = await respond(text, ctx)
        assert (reply.intent, reply.query.topic) == (Intent.REMINDERS, topic)
        assert "需在微信公众号中订阅" in reply.text


async def test_a_forged_scene_is_refused_and_remembers_no_pending_name(registry: PolicyRegistry) -> None:
    ctx = Context(today=NOW.date(), registry=registry, now=NOW)
    reply = await respond(Query(Intent.OFFICIAL_SCAN, "", topic="scan", extras={"scene": "o.1.leader.x.forged"}), ctx)
    assert "这个登记二维码无效" in reply.text
    assert "official" not in reply.speaker.state


async def test_reminders_asked_about_are_explained_with_how_to_turn_them_on(registry: PolicyRegistry) -> None:
    ctx = Context(today=NOW.date(), registry=registry, now=NOW)
    reply = await respond("有交费提醒吗", ctx)
    assert (reply.intent, reply.query.topic) == (Intent.REMINDERS, "ask")
    assert "订阅提醒" in reply.text and "绑定" in reply.text
    assert reply.speaker.consent is None
