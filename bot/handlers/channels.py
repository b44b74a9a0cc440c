"""怎么交 / 家庭共济 / 手续费."""

from __future__ import annotations

import re

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


# The employee insurance's account named: the question is the family account's (家庭共济, 亲情账户). Without it,
# a relative paying (儿子给爹娘交, 用我的支付宝给我弟交) asks whether one may pay another's share at all, which
# no notice says: the answer says so, with the channels it lists, and the family account where it has one.
_EMPLOYEE_ACCOUNT = re.compile(r"职工|共济|亲情|账户|个账|医保卡|卡里|卡上")


@router.handles(Intent.FAMILY_ACCOUNT, cacheable=True)
@situated
async def family_account(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    family = [c for c in p.channels if c.kind == "family"]
    by_relative = not _EMPLOYEE_ACCOUNT.search(query.text)
    listed = [c for c in p.channels if c.kind == "online"] if by_relative else []
    return Answer("family_account", sit.data(
        family=p.family_account, channels=family, enquiry=p.region.enquiry, by_relative=by_relative,
        listed=list(dict.fromkeys(c.name for c in listed)),
        cite=cite(p, p.family_account.source if p.family_account else None, *(c.source for c in family + listed)),
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
