"""怎么交 / 家庭共济 / 手续费."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.handlers.common import Situation, cite, situated
from bot.handlers.router import Router
from bot.handlers.sources import window_sources
from bot.nlu import channel
from bot.nlu.intents import told
from bot.nlu.query import Intent, Query
from bot.rules.schema import Channel, Extension, Source
from bot.types import Answer, Context

router = Router()

_PARENTHESIS = re.compile(r"（[^）]*）")
CHANNEL_ORDER = ["online", "offline", "bank", "school", "family"]


@router.handles(Intent.CHANNELS, cacheable=True)
@situated
async def channels(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    chans = sorted((c for c in p.channels if c.kind != "registration"), key=lambda c: CHANNEL_ORDER.index(c.kind))
    if chans and (asked := channel.named(query.text)) is not None:
        return _one_channel(asked, chans, sit, query)
    # who pays named (学生怎么交, 老人不会用手机怎么交): the channels open to them first, where the notice has some
    if (payer := channel.for_payer(query.text)) is not None \
            and any(channel.lists(t, c.kind, c.name, c.detail) for t in payer.terms for c in chans):
        return _one_channel(payer, chans, sit, query, compact=True)
    groups = {kind: _merged([c for c in chans if c.kind == kind]) for kind in CHANNEL_ORDER}
    late = _late_for_teller(query, sit)
    return Answer("channels", sit.data(
        groups={k: v for k, v in groups.items() if v}, family=p.family_account, enquiry=p.region.enquiry,
        late=late,
        channels_cite=cite(p, *(c.source for c in chans)),  # the brief form's: the period is another answer's
        cite=cite(p, *(c.source for c in chans),
                  *_window(sit), *(e.source for e in late)),
    ))


def _late_for_teller(query: Query, sit: Situation) -> list[Extension]:
    """The late periods the notice opens to the migrant workers, when the one asking how to pay told they are one
    (我在外地打工能在网上交吗): one line each after the channels. None when the year is unpublished."""
    if sit.resolution.status == "unpublished" or not told(query.text, Intent.MIGRANT):
        return []
    return [e for e in sit.policy.collection.extensions if e.who]


def _window(sit: Situation) -> list[Source | None]:
    """The sources of the period line a channels answer closes with (none when the year is unpublished)."""
    return window_sources(sit.policy, sit.calendar) if sit.resolution.status != "unpublished" else []


@dataclass(frozen=True)
class Said:
    """Whether the notice lists a channel the resident named (可以用支付宝缴费 / 通知没有写…)."""

    phrase: str
    listed: bool
    # whom the notice opens it to, when every channel it lists under the name is for some people only (学校代收:
    # 大中专、职高、技校等在校学生): a yes says for whom, never a plain 可以
    only: tuple[str, ...] = ()


# The most lines the channels led with take (a payer's: 乐至县's three offline lines are one of names beyond it).
_MOST_LED = 2


def _one_channel(asked: channel.Asked, chans: list[Channel], sit: Situation, query: Query, *,
                 compact: bool = False) -> Answer:
    """能用支付宝交吗 / 微信怎么交: whether the notice lists the channels named, with their lines, then the others
    in one line; a channel the notice does not name is said to be unnamed, with whom to ask. `compact`: more
    than `_MOST_LED` lines of them are one line of their names."""
    p = sit.policy
    said: list[Said] = []
    matched: list[Channel] = []
    for term in asked.terms:
        found = [c for c in chans if channel.lists(term, c.kind, c.name, c.detail)]
        exact = [c for c in found if channel.exactly(term, c.name)]
        meant = exact or found
        only = tuple(dict.fromkeys(c.who for c in meant if c.who)) if all(c.who for c in meant) else ()
        said.append(Said(term.phrase, bool(found), only))
        matched.extend(c for c in meant if c not in matched)
    others = [c for c in chans if c not in matched]
    plain = list(dict.fromkeys(_PARENTHESIS.sub("", c.name) if c.kind != "family" else c.name
                               for c in others if c.kind != "family"))
    family = list(dict.fromkeys(_PARENTHESIS.sub("", c.name) for c in others if c.kind == "family"))
    # what the family channels are (家庭共济账户, 亲情账户代缴): their names' parenthesis, said once
    account = next((m.group(0) for c in others if c.kind == "family" and (m := _PARENTHESIS.search(c.name))), "")
    shown = matched if all(s.listed for s in said) else chans
    late = _late_for_teller(query, sit)
    lines = _merged(matched)
    if compact and len(lines) > _MOST_LED:
        lines = [Merged(tuple(dict.fromkeys(n for m in lines for n in m.names)), None, None)]
    return Answer("channel_asked", sit.data(
        said=said, how=asked.how, lines=lines, others=plain, family_others=family, account=account,
        enquiry=p.region.enquiry, late=late,
        cite=cite(p, *(c.source for c in shown),
                  *_window(sit), *(e.source for e in late)),
    ))


@dataclass(frozen=True)
class Merged:
    """Channels of one kind that the notice says the same of, as one line (微信、支付宝…：自助缴费)."""

    names: tuple[str, ...]
    detail: str | None
    who: str | None


def _merged(chans: list[Channel]) -> list[Merged]:
    """The channels in order, those with the same detail and the same people put on one line: a county
    naming six apps for 自行缴费 fits a phone screen."""
    out: dict[tuple[str | None, str | None], list[str]] = {}
    for c in chans:
        out.setdefault((c.detail, c.who), []).append(c.name)
    return [Merged(tuple(names), detail, who) for (detail, who), names in out.items()]


# The employee insurance's account named: the question is the family account's (家庭共济, 亲情账户). Without it,
# a relative paying (儿子给爹娘交, 用我的支付宝给我弟交) asks whether one may pay another's share at all, which
# no notice says: the answer says so, with the channels it lists, and the family account where it has one.
_EMPLOYEE_ACCOUNT = re.compile(r"职工|共济|亲情|账户|个账|医保卡|卡里|卡上")


@router.handles(Intent.FAMILY_ACCOUNT, cacheable=True)
@situated
async def family_account(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    family = [c for c in p.channels if c.kind == "family"]
    # The rule in words names its channels (山西医保公众号…医保经办机构窗口或参保点): a channel is listed again
    # only when the words do not name it.
    said = p.family_account.text if p.family_account else ""
    unsaid = [c for c in family if _PARENTHESIS.sub("", c.name) not in said]
    by_relative = not _EMPLOYEE_ACCOUNT.search(query.text)
    listed = [c for c in p.channels if c.kind == "online"] if by_relative else []
    return Answer("family_account", sit.data(
        family=p.family_account, channels=family if by_relative else unsaid, enquiry=p.region.enquiry,
        by_relative=by_relative, listed=list(dict.fromkeys(c.name for c in listed)),
        cite=cite(p, p.family_account.source if p.family_account else None, *(c.source for c in family + listed)),
    ))


@router.handles(Intent.HANDLING_FEE, cacheable=True)
@situated
async def handling_fee(query: Query, ctx: Context, sit: Situation) -> Answer:
    p = sit.policy
    ban = p.handling_fee_ban
    return Answer("handling_fee", sit.data(
        ban=ban, tiers=p.contribution.tiers, enquiry=p.region.enquiry,
        cite=cite(p, ban.source if ban else None, *(t.source for t in p.contribution.tiers)),
    ))
