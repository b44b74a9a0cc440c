"""Figures and dates computed from a policy: personal amount, collection calendar, which policy applies.

Pure functions of (policy, inputs, date): no I/O, no text. Money is whole yuan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Category, Extension, MultipleCategoriesRule, Policy, Tier

Status = Literal[
    "in_period",  # inside the collection period, payments open today
    "between_windows",  # inside the period, but past this month's cutoff (每月1—25日)
    "in_extension",  # after the period, inside an extension for some people
    "before_period",  # the coming year's period has not started yet
    "ended",  # the latest period is over; the next year is not published
    "unpublished",  # no notice for the coming year; only older figures are known
    "unknown_region",
]


def coming_year(on: dt.date) -> int:
    """The insurance year collected around `on`: autumn and winter collect for the next year."""
    return on.year + 1 if on.month >= 3 else on.year


@dataclass(frozen=True)
class Resolution:
    """Which policy answers a question about `region` on a date, and how it relates to the date."""

    policy: Policy | None
    status: Status
    year: int | None  # the insurance year the answer is about (the coming year when unpublished)
    coming_year: int

    @property
    def is_current(self) -> bool:
        """The policy's figures are this collection's figures (not older ones given for reference)."""
        return self.status in {"in_period", "between_windows", "in_extension", "before_period"}


def resolve_policy(registry: PolicyRegistry, region: str, on: dt.date) -> Resolution:
    policies = registry.for_region(region)
    coming = coming_year(on)
    if not policies:
        return Resolution(None, "unknown_region", None, coming)
    for p in reversed(policies):
        c = p.collection
        if c.start <= on <= c.end:
            status: Status = "in_period" if _in_monthly_window(p, on) else "between_windows"
            return Resolution(p, status, p.insurance_year, coming)
        if any(c.end < on <= ext.end for ext in c.extensions):
            return Resolution(p, "in_extension", p.insurance_year, coming)
    upcoming = [p for p in policies if p.collection.start > on]
    if upcoming and upcoming[0].insurance_year <= coming:
        return Resolution(upcoming[0], "before_period", upcoming[0].insurance_year, coming)
    past = [p for p in policies if p.collection.start <= on]
    latest = past[-1] if past else policies[-1]
    if latest.insurance_year >= coming - 1 and latest.collection.start <= on:
        return Resolution(latest, "ended", latest.insurance_year, coming)
    return Resolution(latest, "unpublished", coming, coming)


# --- the collection calendar -------------------------------------------------------------------


def _in_monthly_window(policy: Policy, on: dt.date) -> bool:
    w = policy.collection.monthly_window
    return w is None or w.first_day <= on.day <= w.last_day


def _add_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Cutoff:
    """A payment cutoff: each monthly 25th inside the period, the period end, an extension end."""

    date: dt.date
    kind: Literal["monthly", "period_end", "extension_end"]
    who: str | None = None  # for an extension: who may still pay


def cutoffs(policy: Policy) -> list[Cutoff]:
    c = policy.collection
    out: list[Cutoff] = []
    w = c.monthly_window
    if w is not None:
        month = dt.date(c.start.year, c.start.month, 1)
        while month <= c.end:
            day = month.replace(day=w.last_day)
            if c.start <= day < c.end:
                out.append(Cutoff(day, "monthly"))
            month = _add_month(month)
    out.append(Cutoff(c.end, "period_end"))
    out.extend(Cutoff(ext.end, "extension_end", ext.who) for ext in c.extensions)
    return out


@dataclass(frozen=True)
class CalendarState:
    """The collection calendar as seen on one day."""

    on: dt.date
    status: Status
    period_start: dt.date
    period_end: dt.date
    open_today: bool  # anyone may pay today (regular window)
    cutoff: dt.date | None  # the cutoff of the window open today (this month's 25th, or the period end)
    next_open: dt.date | None  # when the next window opens after a monthly cutoff
    days_left: int | None  # days from `on` to `cutoff`, inclusive of the cutoff day
    extension: Extension | None  # the extension open today, or the one still ahead
    monthly: bool  # the notice sets a monthly window (每月1—25日)


def calendar(policy: Policy, on: dt.date) -> CalendarState:
    c = policy.collection
    w = c.monthly_window
    extension = next((e for e in c.extensions if on <= e.end), None)
    base = dict(on=on, period_start=c.start, period_end=c.end, monthly=w is not None, extension=extension)
    if on < c.start:
        first_cut = cutoffs(policy)[0].date
        return CalendarState(status="before_period", open_today=False, cutoff=first_cut, next_open=c.start,
                             days_left=None, **base)
    if on > c.end:
        status: Status = "in_extension" if extension is not None else "ended"
        cut = extension.end if extension is not None else None
        days = (cut - on).days if cut else None
        return CalendarState(status=status, open_today=False, cutoff=cut, next_open=None, days_left=days, **base)
    if w is None:
        return CalendarState(status="in_period", open_today=True, cutoff=c.end, next_open=None,
                             days_left=(c.end - on).days, **base)
    if on.day < w.first_day:
        cut = min(on.replace(day=w.last_day), c.end)
        return CalendarState(status="between_windows", open_today=False, cutoff=cut,
                             next_open=on.replace(day=w.first_day), days_left=None, **base)
    if on.day <= w.last_day:
        cut = min(on.replace(day=w.last_day), c.end)
        return CalendarState(status="in_period", open_today=True, cutoff=cut, next_open=None,
                             days_left=(cut - on).days, **base)
    nxt = _add_month(on).replace(day=w.first_day)
    if nxt > c.end:
        # Past the last monthly cutoff before the period end: nothing more this period.
        return CalendarState(status="between_windows", open_today=False, cutoff=None, next_open=None,
                             days_left=None, **base)
    next_cut = min(nxt.replace(day=w.last_day), c.end)
    return CalendarState(status="between_windows", open_today=False, cutoff=next_cut, next_open=nxt,
                         days_left=None, **base)


# --- the personal amount -----------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryAmount:
    """One category's subsidy and the personal amount it leaves (None: the notice gives no figure)."""

    category: Category
    tier: Tier
    subsidy: int | None
    amount: int | None


@dataclass(frozen=True)
class Payable:
    """个人缴费: what one resident pays for (policy, categories, tier), with the basis of the figure."""

    amount: int | None  # personal amount in yuan; None when the notice gives no figure or is ambiguous
    standard: int  # the tier's contribution (个人缴费标准)
    subsidy: int | None  # 资助 applied
    category: Category | None  # the category that applied
    tier: Tier
    considered: list[CategoryAmount] = field(default_factory=list)  # every category the resident named
    rule: MultipleCategoriesRule | None = None  # applied to choose among several categories
    unknown_categories: list[str] = field(default_factory=list)  # keys this notice does not name
    excluded: list[tuple[Category, Category]] = field(default_factory=list)  # (dropped, because of)
    ambiguous: bool = False  # several categories and the notice does not say how they combine


def category_amount(policy: Policy, category: Category, tier_key: str | None = None) -> CategoryAmount:
    tier = policy.contribution.tier(category.subsidy.tier or tier_key)
    s = category.subsidy
    if s.kind == "full":
        subsidy: int | None = tier.amount
    elif s.kind == "fixed":
        subsidy = s.amount
    elif s.kind == "rate":
        subsidy = s.amount if s.amount is not None else tier.amount * (s.rate_percent or 0) // 100
    else:
        subsidy = None
    amount = None if subsidy is None else max(tier.amount - subsidy, 0)
    return CategoryAmount(category, tier, subsidy, amount)


def payable_amount(policy: Policy, categories: Iterable[str] = (), tier: str | None = None) -> Payable:
    """The personal amount for a resident in `categories` (keys) at `tier` (None: the first tier)."""
    base_tier = policy.contribution.tier(tier)
    found: list[Category] = []
    unknown: list[str] = []
    for key in dict.fromkeys(categories):
        cat = policy.category(key)
        if cat is None:
            unknown.append(key)
        elif cat not in found:
            found.append(cat)
    present = {c.key for c in found} | {k for c in found for k in c.covers}
    excluded = [
        (c, next(o for o in found if o.key in c.excluded_if or set(o.covers) & set(c.excluded_if)))
        for c in found
        if set(c.excluded_if) & (present - {c.key})
    ]
    dropped = {d.key for d, _ in excluded}
    kept = [c for c in found if c.key not in dropped]
    considered = [category_amount(policy, c, tier) for c in kept]
    common = dict(considered=considered, unknown_categories=unknown, excluded=excluded)
    if not considered:
        return Payable(amount=base_tier.amount, standard=base_tier.amount, subsidy=0, category=None,
                       tier=base_tier, **common)
    if len(considered) == 1:
        only = considered[0]
        return Payable(amount=only.amount, standard=only.tier.amount, subsidy=only.subsidy,
                       category=only.category, tier=only.tier, **common)
    rule = policy.multiple_categories
    known = [c for c in considered if c.subsidy is not None]
    if rule is not None and rule.rule == "highest_only" and known:
        best = max(known, key=lambda c: (c.subsidy or 0, -(c.amount or 0)))
        return Payable(amount=best.amount, standard=best.tier.amount, subsidy=best.subsidy,
                       category=best.category, tier=best.tier, rule=rule, **common)
    return Payable(amount=None, standard=base_tier.amount, subsidy=None, category=None, tier=base_tier,
                   ambiguous=True, **common)
