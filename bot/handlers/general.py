"""Greeting and thanks, help, out of scope, not understood (a menu of what it may mean, or a short hint), and
choosing one's county. Only help lists everything; the others are a line or two."""

from __future__ import annotations

import re

from bot.handlers import clarify
from bot.handlers.common import Situation, cite, region_of, situated
from bot.handlers.offers import descriptor, offer
from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.types import Answer, Context

router = Router()
THANKS = "致谢"  # the topic bot.nlu gives thanks (谢谢, 好的谢谢), which GREETING answers


def _menu(ctx: Context) -> dict[str, object]:
    return {"regions": ctx.registry.regions(), "region": ctx.speaker.region, "township": ctx.speaker.township}


@router.handles(Intent.GREETING, cacheable=True, reads=("region", "township"))
async def greeting(query: Query, ctx: Context) -> Answer:
    if query.topic == THANKS:
        return Answer("thanks")
    return Answer("greeting", _menu(ctx))


@router.handles(Intent.HELP, cacheable=True, reads=("region", "township"))
async def help_(query: Query, ctx: Context) -> Answer:
    return Answer("help", _menu(ctx))


# Topics of our insurance that bot.nlu reads as out of scope because no answer of ours is about them: a notice
# may say something (按年度一次性足额缴纳), else it is silent, and the answer says so and whom to ask; never a guess.
REFUND, INSTALMENT, PAY_LESS = "退费", "分期缴费", "少交"
CORRECTION, PAID_TWICE = "更改缴费", "重复缴费"  # 交错档次了能改吗; 交重复了, 一个人交两份
SILENT_TOPICS = frozenset({REFUND, INSTALMENT, PAY_LESS, CORRECTION, PAID_TWICE})
# What a notice says of being insured twice (不得重复参保, 不重复参保的原则): the line a double payment is told.
_NOT_TWICE = "重复参保"
# What a notice's payment rule says of changing a payment (缴费后当年度不得变更档次): the line a correction is told.
_NO_CHANGE = re.compile(r"(?:不得|不能|不可|不予|不作|不做|不再|不准|不允许|不接受)(?:变更|更改|调整|更换|改变|修改)")


@router.handles(Intent.OUT_OF_SCOPE, cacheable=True, reads=("region", "township"))
async def out_of_scope(query: Query, ctx: Context) -> Answer:
    if query.topic in SILENT_TOPICS:
        return await notice_silent(query, ctx)
    return Answer("out_of_scope", {"topic": query.topic, **_menu(ctx)})


@situated
async def notice_silent(query: Query, ctx: Context, sit: Situation) -> Answer:
    """交了能退吗 / 能分期交吗 / 能少交点吗 / 交错档次了能改吗 / 交重复了: what this notice says of it (its payment
    rule, for a correction where it forbids changing the tier, its standard and the groups it subsidises, its
    rule against being insured twice), or that it does not say, and whom to ask."""
    p = sit.policy
    payment_rule = p.contribution.payment_rule
    forbids_change = payment_rule is not None and _NO_CHANGE.search(payment_rule.text) is not None
    told_rule = query.topic in (INSTALMENT, PAY_LESS) or (query.topic == CORRECTION and forbids_change)
    rule = payment_rule if told_rule else None
    tiers = p.contribution.tiers if query.topic == PAY_LESS else []
    subsidised = [c for c in p.categories if c.subsidy.kind != "unspecified"][:3] if tiers else []
    twice = next((r for r in p.employee_insured if _NOT_TWICE in r.text), None) if query.topic == PAID_TWICE else None
    refunds = list(p.refunds) if query.topic in (REFUND, PAID_TWICE) else []
    corrections = list(p.corrections) if query.topic == CORRECTION else []
    return Answer("notice_silent", sit.data(
        topic=query.topic, rule=rule, tiers=tiers, subsidised=[c.name for c in subsidised], enquiry=p.region.enquiry,
        twice=twice, refunds=refunds, corrections=corrections,
        cite=cite(p, rule.source if rule else None, *(t.source for t in tiers), *(c.source for c in subsidised),
                  twice.source if twice else None, *(r.source for r in refunds), *(c.source for c in corrections),
                  p.region.enquiry.source),
    ))


@router.handles(Intent.FALLBACK, cacheable=True, reads=("region", "township"))
async def fallback(query: Query, ctx: Context) -> Answer:
    intents = clarify.candidates(query)
    if not intents:  # a county named in it is not taken as the follower's (陵川县有啥新政策没): offered instead
        return Answer("fallback", {**_menu(ctx), "named": query.region})
    county_known = region_of(query, ctx) is not None  # else the pick asks for it, and waits with a plain question
    labels, remember = offer(*((str(i), descriptor(i, region=query.region, year=query.year,
                                                   categories=query.categories, tier=query.tier,
                                                   text=query.text if county_known else clarify.QUESTIONS[i]))
                               for i in intents))
    return Answer("clarify", {"items": labels}, remember=remember)


@router.handles(Intent.FEEDBACK)
async def feedback(query: Query, ctx: Context) -> Answer:
    """有用/没用 after a fee or deadline answer (recorded by the webhook, bot/handlers/records.py)."""
    return Answer("feedback", {"useful": query.topic == "useful"})


@router.handles(Intent.SET_REGION, cacheable=True, reads=("region", "township"))
async def set_region(query: Query, ctx: Context) -> Answer:
    if query.region is None:
        unknown = query.extras.get("unknown_region")
        if unknown:
            return Answer("unknown_region", {"asked": unknown, "regions": ctx.registry.regions(),
                                             "heard_as": query.extras.get("heard_as")})
        return Answer("ask_region", {"regions": ctx.registry.regions(), "unknown": None},
                      remember={"region": None, "township": None})
    township = query.township if query.region != ctx.speaker.region or query.township else ctx.speaker.township
    return Answer("region_set", {"region": query.region, "township": township},
                  remember={"region": query.region, "township": township})
