"""怎么参保 / 谁能参保 / 有职工医保还要交吗 / 新生儿 / 转移参保地."""

from __future__ import annotations

from bot.handlers.common import Situation, cite, situated
from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.rules.schema import Policy
from bot.types import Answer, Context

router = Router()


EMPLOYEE_INSURED = "employee_insured"  # the topic bot.nlu gives 有职工医保还要交居民医保吗


@router.handles(Intent.REGISTRATION, cacheable=True)
@situated
async def registration(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    if query.topic == EMPLOYEE_INSURED:
        return employee_insured(p, sit)
    # The registration channels say again what the registration rules say (乐至县 三（一）1、2 both): shown
    # only when the notice gives no rule in words.
    reg_channels = [] if p.registration else [c for c in p.channels if c.kind == "registration"]
    return Answer("registration", sit.data(
        eligibility=p.eligibility, registration=p.registration, reg_channels=reg_channels,
        enquiry=p.region.enquiry,
        cite=cite(p, *(e.source for e in p.eligibility), *(r.source for r in p.registration),
                  *(c.source for c in reg_channels)),
    ))


def employee_insured(p: Policy, sit: Situation) -> Answer:
    """Already in 职工医保, must one pay the residents' insurance too: what this notice says, or that it is
    silent and whom to ask (never another county's or year's rule)."""
    said = p.employee_insured
    return Answer("employee_insured", sit.data(
        employee_insured=said, enquiry=p.region.enquiry,
        cite=cite(p, *(e.source for e in said), None if said else p.region.enquiry.source),
    ))


@router.handles(Intent.NEWBORN, cacheable=True)
@situated
async def newborn(query: Query, ctx: Context, sit: Situation) -> Answer:
    """Only what the notice says of newborns: its registration rules speak of everyone (or of students), not of
    a baby, and are the registration answer's."""
    p = sit.policy
    return Answer("newborn", sit.data(
        newborn=p.newborn, enquiry=p.region.enquiry,
        cite=cite(p, p.newborn.source if p.newborn else p.region.enquiry.source,
                  *(w.source for w in (p.newborn.later if p.newborn else ()))),
    ))


@router.handles(Intent.MOVING, cacheable=True)
@situated
async def moving(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    return Answer("moving", sit.data(
        moving=p.moving, enquiry=p.region.enquiry,
        cite=cite(p, *(m.source for m in p.moving), p.region.enquiry.source if not p.moving else None),
    ))
