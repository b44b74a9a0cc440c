"""断了两年没交，现在交了多久能报销 (待遇等待期) and 连续参保 / 零报销 incentives (国办发〔2024〕38号)."""

from __future__ import annotations

from bot.handlers.common import Situation, cite, situated
from bot.handlers.router import Router
from bot.nlu.lapse import lapse_in
from bot.nlu.query import Intent, Query
from bot.rules.calculator import benefit_start, waiting_time
from bot.types import Answer, Context

router = Router()


@router.handles(Intent.WAITING_PERIOD, cacheable=True)
@situated
async def waiting_period(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    wp = p.waiting_period
    if wp is None:
        return Answer("waiting_period", sit.data(wp=None, enquiry=p.region.enquiry,
                                                 cite=cite(p, p.region.enquiry.source)))
    lapse = lapse_in(query.text)
    lapsed, back = lapse.lapsed_years or 0, lapse.back_paid_years or 0
    # "现在交了": paying today. Where nobody can pay today, the months still follow from the numbers.
    start = benefit_start(p, ctx.today, lapsed_years=lapsed, back_paid_years=back)
    paid_on = ctx.today if start.rule != "not_open" else None
    wait = waiting_time(p, lapsed_years=lapsed, back_paid_years=back, paid_on=paid_on)
    assert wait is not None  # the notice has a waiting period
    sources = [*wait.sources, *start.sources, wp.who.source]
    if lapsed and not back and wp.back_payment is not None:
        sources.append(wp.back_payment.source)
    sources += [n.source for n in wp.notes]
    return Answer("waiting_period", sit.data(
        wp=wp, wait=wait, start=start, lapsed=lapse.lapsed_years, back=lapse.back_paid_years, today=ctx.today,
        enquiry=p.region.enquiry, cite=cite(p, *sources),
    ))


@router.handles(Intent.ENROLMENT_REWARD, cacheable=True)
@situated
async def enrolment_reward(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    inc = p.enrolment_incentives
    sources = [p.region.enquiry.source] if inc is None else [
        *(r.source for r in inc.rewards), inc.cap_source, inc.reset.source if inc.reset else None]
    return Answer("enrolment_reward", sit.data(inc=inc, enquiry=p.region.enquiry, cite=cite(p, *sources)))
