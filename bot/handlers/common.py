"""What most answers share: which region and policy they speak of, and the header and source lines."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.nlu.query import Query
from bot.rules.calculator import CalendarState, Resolution, calendar, resolve_policy
from bot.rules.schema import Policy, Source
from bot.types import Answer, Context


@dataclass(frozen=True)
class Situation:
    """The policy a question is answered from, and how the date relates to it."""

    region: str
    policy: Policy
    resolution: Resolution
    calendar: CalendarState
    explicit_year: bool  # the resident named the year

    def data(self, **extra: Any) -> dict[str, Any]:
        return {
            "region": self.region,
            "policy": self.policy,
            "res": self.resolution,
            "cal": self.calendar,
            "explicit_year": self.explicit_year,
            "doc": self.policy.document.number,
            **extra,
        }


def region_of(query: Query, ctx: Context) -> str | None:
    """The region a question is answered for: the one it names, else the follower's; none where it names a place
    that is not ours (霍邱县交多少钱, 清河县…: another county's resident must never get our figures)."""
    if query.region is None and "unknown_region" in query.extras:
        return None
    return query.region or ctx.speaker.region or ctx.settings.default_region


def ask_region(query: Query, ctx: Context) -> Answer:
    """The question needs a county: ask which (the one a place written otherwise sounds like first: 清河县, 您问的是
    青禾县吗), and keep the question to answer when it comes."""
    return Answer(
        "ask_region",
        {"regions": ctx.registry.regions(), "unknown": query.extras.get("unknown_region"),
         "heard_as": query.extras.get("heard_as")},
        # the place written and ours it sounds like, for a yes or no to 您问的是青禾县吗 (bot/pipeline.py)
        remember={"pending": query.text, "heard": [query.extras["unknown_region"], query.extras["heard_as"]]
                  if query.extras.get("heard_as") and query.extras.get("unknown_region") else None},
    )


def situate(query: Query, ctx: Context) -> Situation | Answer:
    """The policy for the question's region and year (or today's), or an answer asking for what is missing."""
    region = region_of(query, ctx)
    if region is None:
        return ask_region(query, ctx)
    name = ctx.registry.region_name(region)
    if name is None:
        return Answer("unknown_region", {"asked": region, "regions": ctx.registry.regions()})
    if query.year is not None:
        policy = ctx.registry.get(name, query.year)
        if policy is None:
            known = [p.insurance_year for p in ctx.registry.for_region(name)]
            return Answer("unknown_year", {"region": name, "year": query.year, "known": known,
                                           "enquiry": ctx.registry.for_region(name)[-1].region.enquiry})
        res = resolve_policy(ctx.registry, name, ctx.today)
        if res.policy is not policy:
            status = "in_period" if policy.collection.start <= ctx.today <= policy.collection.end else (
                "before_period" if ctx.today < policy.collection.start else "ended")
            res = Resolution(policy, status, policy.insurance_year, res.coming_year)
        return Situation(name, policy, res, calendar(policy, ctx.today), True)
    res = resolve_policy(ctx.registry, name, ctx.today)
    assert res.policy is not None  # region is known, so it has at least one policy
    return Situation(name, res.policy, res, calendar(res.policy, ctx.today), False)


def situated(
    fn: Callable[[Query, Context, Situation], Awaitable[Answer]],
) -> Callable[[Query, Context], Awaitable[Answer]]:
    """A handler that answers from a policy: the policy is found first, or the missing county or year is
    asked about instead."""

    @functools.wraps(fn)
    async def handler(query: Query, ctx: Context) -> Answer:
        sit = situate(query, ctx)
        if not isinstance(sit, Situation):
            return sit
        return await fn(query, ctx, sit)

    return handler


def cite(policy: Policy, *sources: Source | None) -> str:
    """依据 line: 文号 and clauses, e.g. 陵政办函〔2024〕16号 第四条."""
    by_doc: dict[str, list[str]] = {}
    for src in sources:
        if src is None:
            continue
        clauses = by_doc.setdefault(src.doc or policy.document.number, [])
        if src.clause not in clauses:
            clauses.append(src.clause)
    if not by_doc:
        by_doc[policy.document.number] = []
    return "；".join(f"{doc} {'，'.join(clauses)}".strip() for doc, clauses in by_doc.items())
