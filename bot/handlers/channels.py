"""怎么交 / 家庭共济 / 手续费."""

from __future__ import annotations

from bot.handlers.common import Situation, cite, situated
from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.types import Answer, Context

router = Router()

CHANNEL_ORDER = ["online", "offline", "bank", "school", "family"]


@router.handles(Intent.CHANNELS, cacheable=True)
@situated
async def channels(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    chans = sorted((c for c in p.channels if c.kind != "registration"), key=lambda c: CHANNEL_ORDER.index(c.kind))
    groups = {kind: [c for c in chans if c.kind == kind] for kind in CHANNEL_ORDER}
    return Answer("channels", sit.data(
        groups={k: v for k, v in groups.items() if v}, family=p.family_account, enquiry=p.region.enquiry,
        cite=cite(p, *(c.source for c in chans)),
    ))


@router.handles(Intent.FAMILY_ACCOUNT, cacheable=True)
@situated
async def family_account(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    family = [c for c in p.channels if c.kind == "family"]
    return Answer("family_account", sit.data(
        family=p.family_account, channels=family, enquiry=p.region.enquiry,
        cite=cite(p, p.family_account.source if p.family_account else None, *(c.source for c in family)),
    ))


@router.handles(Intent.HANDLING_FEE, cacheable=True)
@situated
async def handling_fee(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    ban = p.handling_fee_ban
    return Answer("handling_fee", sit.data(
        ban=ban, tiers=p.contribution.tiers, enquiry=p.region.enquiry,
        cite=cite(p, ban.source if ban else p.contribution.tiers[0].source),
    ))
