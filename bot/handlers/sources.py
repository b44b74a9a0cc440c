"""What an answer cites beyond its main figure: who may choose a tier, the subsidy basis, group standards,
benefit periods and the waiting period (for the 依据 line)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.rules.calculator import CalendarState
from bot.rules.schema import Policy, Source, Tier


def extra_fee_sources(policy: Policy, shown: Sequence[Tier]) -> list[Source]:
    sources = [t.eligibility.source for t in shown if t.eligibility is not None]
    if policy.contribution.subsidy_basis is not None and policy.categories:
        sources.append(policy.contribution.subsidy_basis.source)
    sources += [g.source for g in policy.group_standards]
    return sources


def benefit_sources(policy: Policy) -> list[Source]:
    """Where the notice sets benefit periods and the waiting period."""
    sources = [policy.benefit_period.source] if policy.benefit_period else []
    sources += [g.benefit_period.source for g in policy.group_standards if g.benefit_period]
    if policy.waiting_period is not None:
        sources.append(policy.waiting_period.fixed.source)
    return sources


def window_sources(policy: Policy, cal: CalendarState) -> list[Source | None]:
    """Where the period line that closes a fee or channels answer comes from (_macros.j2 `window`): the
    collection period, its monthly window, and the late period it names when one is open."""
    c = policy.collection
    return [c.source, c.monthly_window.source if c.monthly_window else None,
            cal.extension.source if cal.status in {"in_extension", "before_extension"} and cal.extension else None]
