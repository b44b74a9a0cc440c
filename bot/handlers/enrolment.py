"""怎么参保 / 谁能参保 / 新生儿 / 转移参保地."""

from __future__ import annotations

from bot.handlers.common import Situation, cite, situated
from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.types import Answer, Context

router = Router()


@router.handles(Intent.REGISTRATION, cacheable=True)
@situated
async def registration(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    reg_channels = [c for c in p.channels if c.kind == "registration"]
    return Answer("registration", sit.data(
        eligibility=p.eligibility, registration=p.registration, reg_channels=reg_channels,
        enquiry=p.region.enquiry,
        cite=cite(p, *(e.source for e in p.eligibility), *(r.source for r in p.registration),
                  *(c.source for c in reg_channels)),
    ))


@router.handles(Intent.NEWBORN, cacheable=True)
@situated
async def newborn(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    return Answer("newborn", sit.data(
        newborn=p.newborn, registration=p.registration, enquiry=p.region.enquiry,
        cite=cite(p, p.newborn.source if p.newborn else p.region.enquiry.source),
    ))


@router.handles(Intent.MOVING, cacheable=True)
@situated
async def moving(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    return Answer("moving", sit.data(
        moving=p.moving, enquiry=p.region.enquiry,
        cite=cite(p, *(m.source for m in p.moving), p.region.enquiry.source if not p.moving else None),
    ))
