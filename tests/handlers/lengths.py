"""Every fee and deadline question a policy file allows, for the length check (tests/handlers/test_answer_length.py)
and bench.nlu's length section: for every policy in bot/rules/policies/, on a day in each part of its
calendar (before, open, between monthly windows, each late period, ended, a year on), every group alone and in
pairs (its own, other notices' and its group standards; a pair also compared), every tier (and one it does not
have), with and without the year named."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from bot.nlu.query import Intent, Query
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Policy

MAX_LINES = 6


@dataclass(frozen=True)
class Asked:
    policy: Policy
    on: dt.date
    query: Query


def days(policy: Policy) -> list[dt.date]:
    c = policy.collection
    day = dt.timedelta(days=1)
    found = {c.start - 10 * day, c.start, c.start + 27 * day, c.end, c.end + 40 * day, c.end + 400 * day}
    for e in c.extensions:
        found |= {c.extension_start(e), e.end, e.end + day}
    return sorted(found)


def questions(registry: PolicyRegistry) -> Iterator[Asked]:
    # ... and the groups residents name that a notice may not (退役军人), or only by grade (残疾人)
    every_category = sorted({c.key for p in registry.policies for c in p.categories} | {"disability", "veteran"})
    for policy in registry.policies:
        own = [c.key for c in policy.categories]
        groups = [g.key for g in policy.group_standards]
        named = [(), *((k,) for k in every_category + groups), *itertools.combinations(own, 2)]
        tiers = [None, *(t.key for t in policy.contribution.tiers), "no_such_tier"]
        for on in days(policy):
            for year in (None, policy.insurance_year):
                for tier in tiers:
                    for categories in named:
                        yield Asked(policy, on, Query(Intent.FEE, "?", region=policy.region.name, year=year,
                                                      categories=categories, tier=tier))
                        if len(categories) == 2:  # 低保和特困交的一样吗: side by side
                            yield Asked(policy, on, Query(Intent.FEE, "?", region=policy.region.name, year=year,
                                                          categories=categories, tier=tier, topic="compare"))
                yield Asked(policy, on, Query(Intent.DEADLINE, "?", region=policy.region.name, year=year))
