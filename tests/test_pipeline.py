"""The pipeline: a question missing its county is asked back, and the next message completes it."""

from __future__ import annotations

import datetime as dt

from bot.nlu.query import Intent
from bot.pipeline import respond
from bot.rules.loader import load_registry
from bot.types import Context, Speaker

REGISTRY = load_registry()


async def test_pending_question_is_answered_when_the_region_comes():
    ctx = Context(today=dt.date(2024, 11, 20), registry=REGISTRY, speaker=Speaker(openid="o1"))
    first = await respond("低保户交多少", ctx)
    assert "请问您在哪个县" in first.text
    assert first.speaker.state["pending"] == "低保户交多少"

    second = await respond("陵川", Context(today=ctx.today, registry=REGISTRY, speaker=first.speaker))
    assert second.intent is Intent.FEE
    assert "您个人缴纳80元" in second.text
    assert second.speaker.region == "陵川县"
    assert "pending" not in second.speaker.state


async def test_region_in_text_answers_without_binding_it():
    ctx = Context(today=dt.date(2024, 10, 8), registry=REGISTRY, speaker=Speaker(region="陵川县"))
    reply = await respond("乐至低保户交多少", ctx)
    assert "【乐至县 2025年度城乡居民医保】" in reply.text
    assert reply.speaker.region == "陵川县"


async def test_setting_the_region_is_remembered():
    ctx = Context(today=dt.date(2024, 11, 20), registry=REGISTRY)
    reply = await respond("我是陵川县礼义镇的", ctx)
    assert reply.intent is Intent.SET_REGION
    assert (reply.speaker.region, reply.speaker.township) == ("陵川县", "礼义镇")
    assert "礼义镇" in reply.text
    follow = await respond("什么时候截止", Context(today=ctx.today, registry=REGISTRY, speaker=reply.speaker))
    assert "本月截止11月25日" in follow.text


async def test_switching_region_asks_again():
    ctx = Context(today=dt.date(2024, 11, 20), registry=REGISTRY, speaker=Speaker(region="陵川县", township="礼义镇"))
    reply = await respond("切换地区", ctx)
    assert "请问您在哪个县" in reply.text
    assert reply.speaker.region is None
