"""Every intent, for every region, on dates across the calendar: an answer that names its notice."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handlers import ROUTES, dispatch
from bot.nlu.query import Intent, Query
from bot.render import render
from bot.rules.loader import load_registry
from bot.types import Context, Speaker

REGISTRY = load_registry()
POLICY_INTENTS = [
    Intent.FEE, Intent.FISCAL_SUBSIDY, Intent.DEADLINE, Intent.CHANNELS, Intent.FAMILY_ACCOUNT,
    Intent.REGISTRATION, Intent.NEWBORN, Intent.MIGRANT, Intent.MOVING, Intent.HANDLING_FEE,
    Intent.BENEFIT_START, Intent.WAITING_PERIOD, Intent.ENROLMENT_REWARD,
]
DATES = ["2022-10-10", "2024-08-20", "2024-10-08", "2024-11-27", "2025-01-10", "2025-03-05", "2026-11-24"]


def test_every_intent_has_a_handler():
    missing = [i for i in Intent if i not in ROUTES and i not in {Intent.BIND, Intent.UNBIND, Intent.MY_STATUS}]
    assert missing == []


@pytest.mark.parametrize("intent", POLICY_INTENTS)
@pytest.mark.parametrize("region", REGISTRY.regions())
@pytest.mark.parametrize("on", DATES)
async def test_policy_answer_names_year_and_notice(intent, region, on):
    ctx = Context(today=dt.date.fromisoformat(on), registry=REGISTRY, speaker=Speaker(region=region))
    text = render(await dispatch(Query(intent=intent, text="?"), ctx))
    assert text.startswith(f"【{region} "), text
    assert "年度" in text
    docs = {p.document.number for p in REGISTRY.for_region(region)}
    assert any(f"依据：{d}" in text for d in docs), text
    assert "None" not in text and "{{" not in text


@pytest.mark.parametrize("region", REGISTRY.regions())
async def test_every_category_of_every_policy_gets_an_amount_or_says_none(region):
    for policy in REGISTRY.for_region(region):
        on = policy.collection.start
        for cat in policy.categories:
            ctx = Context(today=on, registry=REGISTRY, speaker=Speaker(region=region))
            text = render(await dispatch(Query(intent=Intent.FEE, text="?", categories=(cat.key,)), ctx))
            assert cat.name in text
            if cat.subsidy.kind == "unspecified":
                assert "通知未写明资助金额" in text
            else:
                assert "您个人缴纳" in text


@pytest.mark.parametrize("intent", [Intent.GREETING, Intent.HELP, Intent.OUT_OF_SCOPE, Intent.FALLBACK])
async def test_general_answers_list_what_the_bot_answers(intent):
    ctx = Context(today=dt.date(2024, 11, 20), registry=REGISTRY)
    text = render(await dispatch(Query(intent=intent, text="?", topic="养老保险"), ctx))
    assert "交多少钱" in text
    if intent is not Intent.OUT_OF_SCOPE:  # out of scope: one line saying what we answer, no county list
        assert "陵川县" in text  # asks for the county, listing the supported ones
    if intent is not Intent.HELP:  # only help lists everything
        assert len(text.splitlines()) <= 2, text


@pytest.mark.parametrize("topic", ["养老保险", "社保卡", "职工医保", None])
async def test_out_of_scope_is_one_line_saying_what_we_answer(topic):
    ctx = Context(today=dt.date(2024, 11, 20), registry=REGISTRY, speaker=Speaker(region="陵川县"))
    text = render(await dispatch(Query(intent=Intent.OUT_OF_SCOPE, text="?", topic=topic), ctx))
    assert len(text.splitlines()) == 1, text
    assert "城乡居民医保" in text and "交多少钱" in text
    assert topic is None or topic in text


async def test_year_not_encoded_is_said_with_known_years():
    ctx = Context(today=dt.date(2024, 11, 20), registry=REGISTRY, speaker=Speaker(region="陵川县"))
    text = render(await dispatch(Query(intent=Intent.FEE, text="?", year=2024), ctx))
    assert "暂时没有陵川县2024年度的缴费通知" in text
    assert "2023年度、2025年度" in text


async def test_two_tier_county_shows_both_tiers():
    ctx = Context(today=dt.date(2024, 10, 8), registry=REGISTRY, speaker=Speaker(region="乐至县"))
    text = render(await dispatch(Query(intent=Intent.FEE, text="?"), ctx))
    assert "540元" in text and "400元" in text


async def test_tier_asked_where_there_is_one_tier():
    ctx = Context(today=dt.date(2024, 11, 20), registry=REGISTRY, speaker=Speaker(region="陵川县"))
    text = render(await dispatch(Query(intent=Intent.FEE, text="?", tier="high"), ctx))
    assert "只有一个缴费档次" in text
