"""Figures and dates computed from a policy: personal amount, collection calendar, which policy applies.

Pure functions of (policy, inputs, date): no I/O, no text. Money is whole yuan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from bot.rules.loader import PolicyRegistry
from bot.rules.schema import (
    Category,
    Extension,
    GroupStandard,
    MultipleCategoriesRule,
    NewbornWindow,
    Policy,
    Source,
    Tier,
)

Status = Literal[
    "in_period",  # inside the collection period, payments open today
    "between_windows",  # inside the period, but past this month's cutoff (每月1—25日)
    "in_extension",  # after the period, inside an extension for some people
    "before_extension",  # after the period, before a late period that opens later (暂停办理 between them)
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
        return self.status in {"in_period", "between_windows", "in_extension", "before_extension", "before_period"}


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
        if open_extension(p, on) is not None:
            return Resolution(p, "in_extension", p.insurance_year, coming)
        if c.end < on and any(on < c.extension_start(e) for e in c.extensions):
            return Resolution(p, "before_extension", p.insurance_year, coming)
    upcoming = [p for p in policies if p.collection.start > on]
    if upcoming and upcoming[0].insurance_year <= coming:
        return Resolution(upcoming[0], "before_period", upcoming[0].insurance_year, coming)
    past = [p for p in policies if p.collection.start <= on]
    latest = past[-1] if past else policies[-1]
    if latest.insurance_year >= coming - 1 and latest.collection.start <= on < _a_year_on(latest.collection.start):
        return Resolution(latest, "ended", latest.insurance_year, coming)
    # A year after the latest period opened, the next one is collecting under a notice we do not have: the
    # latest figures are given for reference only, never as this season's (陵川县 on 2023年10月10日: the
    # 2024年度 season, not the 2023年度 350元).
    return Resolution(latest, "unpublished", coming, coming)


def _a_year_on(day: dt.date) -> dt.date:
    return day.replace(year=day.year + 1, day=28) if (day.month, day.day) == (2, 29) else day.replace(
        year=day.year + 1)


# --- the collection calendar -------------------------------------------------------------------


def open_extension(policy: Policy, on: dt.date) -> Extension | None:
    """The late period (延长期, 补缴期) open on `on`, if any."""
    c = policy.collection
    return next((e for e in c.extensions if c.extension_start(e) <= on <= e.end), None)


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
    next_open: dt.date | None  # when the next window opens after a monthly cutoff, or the late period ahead
    days_left: int | None  # days from `on` to `cutoff`, inclusive of the cutoff day
    extension: Extension | None  # the extension open today, or the one still ahead
    monthly: bool  # the notice sets a monthly window (每月1—25日)

    @property
    def opens_this_month(self) -> bool:
        """Before this month's first paying day (每月5日至25日, on the 3rd): the window is ahead, not closed."""
        return self.next_open is not None and (self.next_open.year, self.next_open.month) == (self.on.year,
                                                                                               self.on.month)


def calendar(policy: Policy, on: dt.date) -> CalendarState:
    c = policy.collection
    w = c.monthly_window
    extension = open_extension(policy, on) or next((e for e in c.extensions if on <= e.end), None)
    base = dict(on=on, period_start=c.start, period_end=c.end, monthly=w is not None, extension=extension)
    if on < c.start:
        first_cut = cutoffs(policy)[0].date
        return CalendarState(status="before_period", open_today=False, cutoff=first_cut, next_open=c.start,
                             days_left=None, **base)
    if on > c.end:
        if extension is not None and on < c.extension_start(extension):
            # Between the period and a late period that opens later (暂停办理): the late period is ahead.
            return CalendarState(status="before_extension", open_today=False, cutoff=extension.end,
                                 next_open=c.extension_start(extension), days_left=None, **base)
        is_open = extension is not None and c.extension_start(extension) <= on
        status: Status = "in_extension" if is_open else "ended"
        cut = extension.end if is_open and extension is not None else None
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
    """One category's subsidy and the personal amount it leaves (None: the notice gives no figure).

    `base` is the tier the subsidy is computed on when the resident chose a dearer one and pays the
    difference (青禾县: 资助以一档为基数); otherwise None. `unsaid` is the tier the resident asked about when
    the notice sets the group's subsidy on another tier and says nothing of the asked one (乐至县: 低保按
    低档次资助; 低保户交高档 is not in the notice): the figures are the notice's tier's, and the answer says so.
    """

    category: Category
    tier: Tier
    subsidy: int | None
    amount: int | None
    base: Tier | None = None
    unsaid: Tier | None = None
    # Reckoned on a group's own standard (a student who is also 低保): `tier` is that standard as a tier;
    # `printed` when the notice prints the figures; `unclear` when it leaves them open (amount None).
    group: GroupStandard | None = None
    printed: bool = False
    unclear: bool = False


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
    group: GroupStandard | None = None  # a group's own standard replaced the tier choice (大学生)


def _subsidy_on(tier: Tier, category: Category) -> int | None:
    s = category.subsidy
    if s.kind == "full":
        return tier.amount
    if s.kind == "fixed":
        return s.amount
    if s.kind == "rate":
        return s.amount if s.amount is not None else tier.amount * (s.rate_percent or 0) // 100
    return None


def category_amount(policy: Policy, category: Category, tier_key: str | None = None) -> CategoryAmount:
    """The subsidy and personal amount of one category at the resident's tier.

    Without a subsidy basis the category's own tier wins (乐至县: 低保按低档次资助). With one (青禾县:
    资助以一档为基数), the subsidy is worked out on the base tier and a dearer tier costs the difference.
    """
    basis = policy.contribution.subsidy_basis
    if basis is None:
        tier = policy.contribution.tier(category.subsidy.tier or tier_key)
        subsidy = _subsidy_on(tier, category)
        amount = None if subsidy is None else max(tier.amount - subsidy, 0)
        unsaid = policy.contribution.tier(tier_key) if tier_key and tier_key != tier.key else None
        return CategoryAmount(category, tier, subsidy, amount, unsaid=unsaid)
    base = policy.contribution.tier(category.subsidy.tier or basis.base_tier)
    chosen = policy.contribution.tier(tier_key or base.key)
    subsidy = _subsidy_on(base, category)
    amount = None if subsidy is None else max(chosen.amount - subsidy, 0)
    return CategoryAmount(category, chosen, subsidy, amount, base if chosen.key != base.key else None)


def group_tier(group: GroupStandard) -> Tier:
    """A group's own standard seen as the one tier its members pay."""
    return Tier(key=group.key, name=group.name, amount=group.amount, source=group.source)


def group_category_amount(policy: Policy, category: Category, group: GroupStandard) -> CategoryAmount:
    """The subsidy and personal amount of a category member who pays a group's own standard (see Category)."""
    as_tier = group_tier(group)
    printed = category.group_figure(group.key)
    if printed is not None:
        subsidy = printed.subsidy if printed.subsidy is not None else group.amount - printed.personal_amount
        return CategoryAmount(category, as_tier, subsidy, printed.personal_amount, group=group, printed=True)
    s = category.subsidy
    basis = policy.contribution.subsidy_basis
    base = None
    subsidy: int | None
    if s.kind == "full":
        subsidy = group.amount
    elif basis is not None and s.kind != "unspecified":
        base = policy.contribution.tier(s.tier or basis.base_tier)
        subsidy = _subsidy_on(base, category)
    elif s.kind == "fixed":
        subsidy = s.amount
    elif s.kind == "rate" and s.tier is None:
        subsidy = group.amount * (s.rate_percent or 0) // 100
    else:  # a percentage of one named tier, or no figure: the notice does not say what the group pays
        return CategoryAmount(category, as_tier, None, None, group=group, unclear=s.kind != "unspecified")
    assert subsidy is not None
    subsidy = min(subsidy, group.amount)
    return CategoryAmount(category, as_tier, subsidy, group.amount - subsidy, base=base, group=group)


def payable_amount(policy: Policy, categories: Iterable[str] = (), tier: str | None = None) -> Payable:
    """The personal amount for a resident in `categories` (keys) at `tier` (None: the first tier).

    A group standard among the keys (大学生) replaces the tier choice: the group pays its own standard, less
    the subsidy of any subsidised group also among the keys, reckoned on that standard.
    """
    group = next((g for g in map(policy.group_standard, categories) if g is not None), None)
    base_tier = policy.contribution.tier(tier) if group is None else group_tier(group)
    found: list[Category] = []
    unknown: list[str] = []
    for key in dict.fromkeys(categories):
        cat = policy.category(key)
        if group is not None and key == group.key:
            continue
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
    considered = [category_amount(policy, c, tier) if group is None else group_category_amount(policy, c, group)
                  for c in kept]
    common = dict(considered=considered, unknown_categories=unknown, excluded=excluded, group=group)
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


# --- when benefits start: benefit period, late periods, the waiting period ----------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it has fewer days: 1月31日 + 1 = 2月28日)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Wait:
    """待遇等待期 for one resident, from the notice's numbers.

    `variable` is None when the resident lapsed but the notice sets no per-year figure; `months` is then
    the fixed part only and `complete` is False. `start` / `benefit_from` are None without a payment date
    or when the notice does not say from when the wait counts.
    """

    fixed: int
    variable: int | None
    lapsed_years: int
    back_paid_years: int
    reduction: int  # months taken off the variable part by paying lapsed years back
    start: dt.date | None
    benefit_from: dt.date | None
    sources: tuple[Source, ...]

    @property
    def months(self) -> int:
        return self.fixed + (self.variable or 0)

    @property
    def complete(self) -> bool:
        return self.variable is not None or self.lapsed_years == 0


def waiting_time(policy: Policy, *, lapsed_years: int = 0, back_paid_years: int = 0,
                 paid_on: dt.date | None = None) -> Wait | None:
    """The waiting period of a resident who lapsed `lapsed_years` and paid `back_paid_years` of them back,
    paying on `paid_on`; None when the notice sets no waiting period."""
    wp = policy.waiting_period
    if wp is None:
        return None
    lapsed = max(lapsed_years, 0)
    back = min(max(back_paid_years, 0), lapsed)
    sources: list[Source] = [wp.fixed.source]
    variable: int | None = 0
    reduction = 0
    if lapsed:
        if wp.per_lapsed_year is None:
            variable = None
        else:
            sources.append(wp.per_lapsed_year.source)
            variable = wp.per_lapsed_year.months * lapsed
            if wp.variable_max is not None:
                sources.append(wp.variable_max.source)
                variable = min(variable, wp.variable_max.months)
            if back and wp.back_payment is not None:
                sources.append(wp.back_payment.source)
                reduction = min(wp.back_payment.months * back, variable)
                variable -= reduction
    start = None
    if paid_on is not None and wp.counted is not None:
        sources.append(wp.counted.source)
        start = paid_on + dt.timedelta(days=1) if wp.counted.start == "day_after_payment" else paid_on
        c, period = policy.collection, policy.benefit_period
        if wp.counted.in_collection_from_benefit_period and period is not None and c.start <= paid_on <= c.end:
            start = max(start, period.start)
    wait = Wait(wp.fixed.months, variable, lapsed, back, reduction, start, None, tuple(sources))
    if start is not None and wait.complete:
        return replace(wait, benefit_from=add_months(start, wait.months))
    return wait


BenefitRule = Literal[
    "benefit_period",  # paid in the collection period: from the benefit period's start (1月1日)
    "group_period",  # a group's own benefit period (大学生: 9月1日)
    "day_after_payment",
    "payment_date",
    "waiting_period",
    "birth",
    "unspecified",  # the notice does not say
    "not_open",  # no payment is possible on that day
]


@dataclass(frozen=True)
class BenefitStart:
    """From when a resident who pays on a day is covered, and why."""

    rule: BenefitRule
    date: dt.date | None
    extension: Extension | None = None  # the late period the payment falls in
    wait: Wait | None = None
    newborn_window: NewbornWindow | None = None
    sources: tuple[Source, ...] = ()


def _by_rule(policy: Policy, rule: BenefitRule | None, paid_on: dt.date, lapsed_years: int,
             back_paid_years: int, **extra: object) -> BenefitStart:
    if rule == "day_after_payment":
        return BenefitStart("day_after_payment", paid_on + dt.timedelta(days=1), **extra)
    if rule == "payment_date":
        return BenefitStart("payment_date", paid_on, **extra)
    if rule == "waiting_period":
        wait = waiting_time(policy, lapsed_years=lapsed_years, back_paid_years=back_paid_years, paid_on=paid_on)
        if wait is not None:
            sources = (*extra.pop("sources", ()), *wait.sources)  # type: ignore[misc]
            return BenefitStart("waiting_period", wait.benefit_from, wait=wait, sources=sources, **extra)
    return BenefitStart("unspecified", None, **extra)


def benefit_start(policy: Policy, paid_on: dt.date, *, lapsed_years: int = 0, back_paid_years: int = 0,
                  group: str | None = None) -> BenefitStart:
    """When benefits start for a resident who pays on `paid_on` (after `lapsed_years` without insurance)."""
    c = policy.collection
    standard = policy.group_standard(group) if group else None
    if paid_on < c.start:
        return BenefitStart("not_open", None)
    if paid_on <= c.end:
        if lapsed_years and policy.waiting_period is not None:
            return _by_rule(policy, "waiting_period", paid_on, lapsed_years, back_paid_years)
        if standard is not None and standard.benefit_period is not None:
            period = standard.benefit_period
            return BenefitStart("group_period", period.start, sources=(period.source,))
        if policy.benefit_period is not None:
            return BenefitStart("benefit_period", max(policy.benefit_period.start, paid_on),
                                sources=(policy.benefit_period.source,))
        return BenefitStart("unspecified", None)
    ext = open_extension(policy, paid_on)
    if ext is None:
        return BenefitStart("not_open", None)
    rule = "waiting_period" if lapsed_years and policy.waiting_period is not None else ext.benefit_start
    return _by_rule(policy, rule, paid_on, lapsed_years, back_paid_years, extension=ext, sources=(ext.source,))


def newborn_start(policy: Policy, born: dt.date, paid_on: dt.date) -> BenefitStart:
    """When a newborn paid for on `paid_on` is covered: the window its age falls in decides."""
    baby = policy.newborn
    if baby is None:
        return BenefitStart("unspecified", None)
    age = (paid_on - born).days
    if paid_on <= baby.last_day(born):
        if baby.coverage_from == "birth":
            return BenefitStart("birth", born, sources=(baby.source,))
        return BenefitStart("unspecified", None, sources=(baby.source,))
    for window in baby.later:
        if window.until_days is None or age <= window.until_days:
            return _by_rule(policy, window.benefit_start, paid_on, 0, 0, newborn_window=window,
                            sources=(window.source,))
    return BenefitStart("unspecified", None)
