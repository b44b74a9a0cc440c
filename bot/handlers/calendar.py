"""什么时候截止 / 还能交吗 / 返乡延长期 / 什么时候享受待遇."""

from __future__ import annotations

from bot.handlers import verdict
from bot.handlers.common import Situation, cite, situated
from bot.handlers.offers import DETAILS, descriptor, offer
from bot.handlers.router import Router
from bot.handlers.sources import benefit_sources
from bot.nlu.query import Intent, Query
from bot.types import Answer, Context

router = Router()


@router.handles(Intent.DEADLINE, cacheable=True)
@situated
async def deadline(query: Query, ctx: Context, sit: Situation) -> Answer:
    c = sit.policy.collection
    sources = [c.source, c.monthly_window.source if c.monthly_window else None,
               *(e.source for e in c.extensions)]
    if query.topic == DETAILS:  # "1" after a deadline answer: every period in full
        return Answer("deadline_details", sit.data(enquiry=sit.policy.region.enquiry,
                                                   cite=cite(sit.policy, *sources)))
    year = sit.policy.insurance_year if sit.explicit_year else None
    items = [("channels", descriptor(Intent.CHANNELS, region=sit.region, year=year))]
    if len(c.extensions) > 1:  # one late period is said in full in the answer; more, in one line
        items.insert(0, ("deadline_details", descriptor(Intent.DEADLINE, region=sit.region, year=year,
                                                        topic=DETAILS)))
    labels, remember = offer(*items, rate=Intent.DEADLINE)
    return Answer("deadline", sit.data(enquiry=sit.policy.region.enquiry, cite=cite(sit.policy, *sources),
                                       offers=labels, feedback=True,
                                       verdict=verdict.deadline(query, sit.policy, sit.calendar)), remember=remember)


@router.handles(Intent.MIGRANT, cacheable=True)
@situated
async def migrant(query: Query, ctx: Context, sit: Situation) -> Answer:
    c = sit.policy.collection
    return Answer("migrant", sit.data(
        extensions=c.extensions, enquiry=sit.policy.region.enquiry,
        cite=cite(sit.policy, c.source, *(e.source for e in c.extensions)),
    ))


@router.handles(Intent.BENEFIT_START, cacheable=True)
@situated
async def benefit_start(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    ext = [e for e in p.collection.extensions if e.benefit_start]
    return Answer("benefit_start", sit.data(
        extensions=ext, newborn=p.newborn, enquiry=p.region.enquiry,
        cite=cite(p, *benefit_sources(p), *(e.source for e in ext), p.newborn.source if p.newborn else None,
                  *(w.source for w in (p.newborn.later if p.newborn else ())), p.region.enquiry.source),
    ))
