"""A place that is not ours is never answered with our figures, whatever county the follower is remembered by: a
county we lack (霍邱县) is said so, and a full name written otherwise than ours (清河县, a real county in Hebei) is
asked about (您问的是青禾县吗), the question answered once the resident names ours."""

from __future__ import annotations

import datetime as dt

from bot.pipeline import respond
from bot.rules.loader import PolicyRegistry
from bot.types import Context, Speaker

TODAY = dt.date(2026, 10, 12)


async def test_a_place_written_otherwise_is_asked_about_and_the_question_answered_once_named(
        registry: PolicyRegistry) -> None:
    ctx = Context(today=TODAY, registry=registry, speaker=Speaker(region="青禾县"))
    reply = await respond("清河县交多少钱", ctx)
    assert "您问的是青禾县吗" in reply.text
    assert "元" not in reply.text  # no figures of ours
    reply = await respond("青禾县", Context(today=TODAY, registry=registry, speaker=reply.speaker))
    assert "【青禾县" in reply.text and "元" in reply.text


async def test_a_county_we_lack_is_not_answered_with_the_followers_county(registry: PolicyRegistry) -> None:
    ctx = Context(today=TODAY, registry=registry, speaker=Speaker(region="乐至县"))
    reply = await respond("霍邱县交多少钱", ctx)
    assert "暂时没有霍邱县的缴费通知" in reply.text
    assert "乐至县 " not in reply.text and "元" not in reply.text
