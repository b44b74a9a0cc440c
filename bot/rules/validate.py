"""Check loaded policies beyond the schema: arithmetic, dates, tables and cross-file consistency.

The data copies the notices exactly, including their mistakes; the validator is where a disagreement is
reported (as a warning naming file, place and both figures), never where it is "fixed". An error is
something the bot cannot answer correctly from (a negative personal amount, dates out of order, a phone
number in a policy file).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.rules.loader import PolicyRegistry
from bot.rules.problems import say
from bot.rules.schema import SHARED_CATEGORY_NAMES, Category, Policy, Subsidy, TableColumn, TargetTable, Tier

# The category keys shared by all files (see the schema docstring); other keys are allowed but flagged
# when referenced from `covers` / `excluded_if` without being defined, since that is usually a typo.
SHARED_CATEGORY_KEYS = frozenset(SHARED_CATEGORY_NAMES)

# Officials' dates further than this from the collection period are probably a wrong year.
PLAUSIBLE_MARGIN = dt.timedelta(days=92)

# Phone numbers as notices print them, matched after NFKC (full-width digits, brackets and dashes become
# ASCII): mobiles 13912345678 / 139-1234-5678 / 139 1234 5678; landlines 0371-12345678, (0371)1234567,
# 0371 1234 5678; either with +86 or 0086; and a 7-8 digit local number right after 电话/热线/联系方式.
_SEP = r"[ \-\u2010\u2011]?"
_COUNTRY = rf"(?:(?:\+|00)86{_SEP})?"
_PHONE = re.compile(
    rf"(?<![\d+])(?:"
    rf"{_COUNTRY}1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}"
    rf"|{_COUNTRY}(?:\(0\d{{2,3}}\)|0\d{{2,3}}){_SEP}\d{{3,4}}{_SEP}\d{{4}}"
    rf")(?!\d)"
)
_PHONE_CONTEXT = re.compile(r"(?:电话|热线|联系方式|手机|座机|tel)[:：是为 ]{0,3}(\d{3,4}[ \-]?\d{4})(?!\d)", re.I)
# A table column whose header says it holds phone numbers.
_PHONE_HEADER = re.compile(r"电话|手机|联系方式|tel", re.I)


def find_phones(text: str) -> list[str]:
    """Every phone number written in `text`, in any usual form (as normalised)."""
    norm = unicodedata.normalize("NFKC", text)
    found = [m.group(0) for m in _PHONE.finditer(norm)]
    found += [m.group(1) for m in _PHONE_CONTEXT.finditer(norm) if not any(m.group(1) in f for f in found)]
    return found


def _looks_like_phone(value: int) -> bool:
    """A figure in a table that is a mobile number (11 digits, 13x-19x) rather than a count."""
    return 13_000_000_000 <= value < 20_000_000_000

Level = Literal["warning", "error"]  # shown as [validate] level_warning / level_error


@dataclass(frozen=True)
class Finding:
    """One problem found in a policy file: where it is and what is wrong (message in Chinese)."""

    level: Level
    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{say(f'validate.level_{self.level}')}] {self.file} {self.where}: {self.message}"


def computed_subsidy(tier_amount: int, subsidy: Subsidy) -> int | None:
    """The subsidy in yuan by the notice's rule; None when the notice gives no figure.

    A printed amount wins over the rate (the notice's figure is what residents are told); the validator
    reports a printed amount that disagrees with rate x tier.
    """
    if subsidy.kind == "full":
        return tier_amount
    if subsidy.kind == "fixed":
        return subsidy.amount
    if subsidy.kind == "rate":
        if subsidy.amount is not None:
            return subsidy.amount
        assert subsidy.rate_percent is not None  # the schema requires it for a rate
        return tier_amount * subsidy.rate_percent // 100
    return None


def subsidy_tier(policy: Policy, cat: Category) -> Tier:
    """The tier a category's subsidy is computed on: its own, else the notice's base tier, else the first."""
    basis = policy.contribution.subsidy_basis
    return policy.contribution.tier(cat.subsidy.tier or (basis.base_tier if basis else None))


def column_sum(table: TargetTable, column: str) -> int:
    """The sum of the rows' figures in one column (rows without a figure count as nothing)."""
    return sum(v for row in table.rows if (v := row.values.get(column)) is not None)


def check_policy(policy: Policy, path: Path | str) -> list[Finding]:
    """Every finding for one policy file."""
    file = str(path)
    findings: list[Finding] = []

    def add(level: Level, where: str, message: str) -> None:
        findings.append(Finding(level, file, where, message))

    for where, level, message in _check_categories(policy):
        add(level, where, message)
    for where, level, message in _check_dates(policy):
        add(level, where, message)
    for table in policy.targets:
        for where, level, message in _check_table(table):
            add(level, where, message)
    for where, level, message in _check_periods(policy):
        add(level, where, message)
    for where, text in _strings(policy.model_dump(mode="json"), ""):
        if find_phones(text):
            add("error", where, say("validate.phone_in_text"))
    for table in policy.targets:
        for column in table.columns:
            if _PHONE_HEADER.search(unicodedata.normalize("NFKC", column.name)):
                add("error", f"targets[{table.key}].columns[{column.key}]",
                    say("validate.phone_column", column=column_label(column)))
        for row in table.rows:
            for key, value in row.values.items():
                if value is not None and _looks_like_phone(value):
                    add("error", f"targets[{table.key}].{row.name}.{key}", say("validate.phone_in_table"))
    return findings


def check_registry(registry: PolicyRegistry) -> list[Finding]:
    """Every policy's findings, then what only shows across files (region names, overlapping periods)."""

    def file(policy: Policy) -> str:
        return str(registry.paths.get(policy.id, f"{policy.id}.yaml"))

    findings: list[Finding] = []
    for policy in registry.policies:
        findings.extend(check_policy(policy, file(policy)))

    def add(level: Level, policy: Policy, where: str, message: str) -> None:
        findings.append(Finding(level, file(policy), where, message))

    # A region's name or short form must point at one region only.
    owner: dict[str, Policy] = {}
    for policy in registry.policies:
        for word in [policy.region.name, *policy.region.short]:
            first = owner.setdefault(word, policy)
            if first.region.name != policy.region.name:
                clash = say("validate.name_clash", word=word, first=first.region.name, first_id=first.id,
                            other=policy.region.name)
                add("error", policy, "region.short", clash)

    for name in registry.regions():
        years = registry.for_region(name)
        first = years[0]
        for policy in years[1:]:
            for attr in ("level", "county", "city", "province"):
                a, b = getattr(first.region, attr), getattr(policy.region, attr)
                if a != b:
                    changed = say("validate.region_changed", region=name, first_id=first.id, was=a, now=b)
                    add("warning", policy, f"region.{attr}", changed)
        for earlier, later in itertools.pairwise(years):
            if later.collection.start <= _last_day(earlier):
                add(
                    "warning",
                    later,
                    "collection.start",
                    say("validate.years_overlap", year=later.insurance_year, start=later.collection.start,
                        earlier_year=earlier.insurance_year, earlier_end=_last_day(earlier), earlier_id=earlier.id),
                )
    return findings


# --- categories -----------------------------------------------------------------------------------


def _check_categories(policy: Policy) -> Iterator[tuple[str, Level, str]]:
    defined = {c.key for c in policy.categories}
    for cat in policy.categories:
        where = f"categories[{cat.key}]"
        yield from _check_amounts(policy, cat, where)
        if cat.key not in SHARED_CATEGORY_KEYS and not cat.aliases:
            yield f"{where}.aliases", "warning", say("validate.no_aliases", name=cat.name, key=cat.key)
        for field in ("covers", "excluded_if"):
            for key in getattr(cat, field):
                if key == cat.key:
                    how = say(f"validate.field_{field}")
                    yield f"{where}.{field}", "error", say("validate.covers_itself", how=how, key=key)
                elif key not in defined and key not in SHARED_CATEGORY_KEYS:
                    yield f"{where}.{field}", "warning", say("validate.unknown_key", key=key)
                elif field == "excluded_if" and key not in defined:
                    yield f"{where}.{field}", "warning", say("validate.excluded_undefined", key=key)
                elif field == "covers" and key in defined:
                    yield f"{where}.{field}", "warning", say("validate.covers_defined", key=key)



def _check_amounts(policy: Policy, cat: Category, where: str) -> Iterator[tuple[str, Level, str]]:
    subsidy = cat.subsidy
    tier = subsidy_tier(policy, cat)
    label = say("validate.category_label", name=cat.name, tier=tier.name, amount=tier.amount)
    if subsidy.kind == "unspecified":
        if cat.personal_amount is not None:
            yield (
                f"{where}.personal_amount",
                "warning",
                say("validate.unspecified_with_personal", name=cat.name, personal=cat.personal_amount),
            )
        return
    if subsidy.kind == "full" and subsidy.amount is not None and subsidy.amount != tier.amount:
        yield (
            f"{where}.subsidy.amount",
            "warning",
            say("validate.full_subsidy_differs", label=label, printed=subsidy.amount, tier=tier.amount),
        )
    if subsidy.kind == "rate" and subsidy.amount is not None:
        assert subsidy.rate_percent is not None
        exact = tier.amount * subsidy.rate_percent
        if exact != subsidy.amount * 100:
            yield (
                f"{where}.subsidy.amount",
                "warning",
                say("validate.rate_subsidy_differs", label=label, printed=subsidy.amount, rate=subsidy.rate_percent,
                    computed=exact / 100),
            )
    amount = computed_subsidy(tier.amount, subsidy)
    assert amount is not None
    personal = tier.amount - amount
    if personal < 0:
        yield (f"{where}.subsidy", "error",
               say("validate.subsidy_exceeds", label=label, amount=amount, personal=personal))
    elif cat.personal_amount is not None and cat.personal_amount != personal:
        yield (
            f"{where}.personal_amount",
            "warning",
            say("validate.personal_differs", label=label, printed=cat.personal_amount, tier=tier.amount, amount=amount,
                personal=personal),
        )


# --- dates ----------------------------------------------------------------------------------------


def _last_day(policy: Policy) -> dt.date:
    """The last day anyone may pay: the collection end or the latest extension."""
    return max([policy.collection.end, *(e.end for e in policy.collection.extensions)])


def _check_dates(policy: Policy) -> Iterator[tuple[str, Level, str]]:
    col = policy.collection
    year = policy.insurance_year
    if col.end < col.start:
        yield "collection.end", "error", say("validate.collection_reversed", end=col.end, start=col.start)
    for i, ext in enumerate(col.extensions):
        if ext.end <= col.end:
            yield (f"collection.extensions[{i}].end", "error",
                   say("validate.extension_not_after", ext_end=ext.end, end=col.end))
    if col.start.year not in (year - 1, year):
        yield "collection.start", "warning", say("validate.collection_start_year", year=year, start=col.start)
    if _last_day(policy) > dt.date(year, 12, 31):
        yield "collection.end", "warning", say("validate.collection_past_year", year=year, end=_last_day(policy))
    window = col.monthly_window
    if window is not None and not window.first_day <= col.end.day <= window.last_day:
        yield (
            "collection.monthly_window",
            "warning",
            say("validate.end_outside_window", end=col.end, first=window.first_day, last=window.last_day),
        )

    doc_date = policy.document.date
    if doc_date.year not in (year - 1, year):
        yield "document.date", "warning", say("validate.document_year", date=doc_date, year=year)
    if doc_date > _last_day(policy):
        yield "document.date", "warning", say("validate.document_late", date=doc_date, end=_last_day(policy))

    low, high = col.start - PLAUSIBLE_MARGIN, _last_day(policy) + PLAUSIBLE_MARGIN
    officials = policy.officials

    def outside(day: dt.date) -> bool:
        return not low <= day <= high

    for i, phase in enumerate(officials.phases):
        where = f"officials.phases[{i}]"
        if phase.start is not None and phase.end < phase.start:
            yield where, "error", say("validate.phase_reversed", name=phase.name, end=phase.end, start=phase.start)
        for day in (phase.start, phase.end):
            if day is not None and outside(day):
                yield where, "warning", say("validate.phase_far", name=phase.name, day=day, start=col.start,
                                            end=_last_day(policy))
    for i, deadline in enumerate(officials.deadlines):
        if outside(deadline.date):
            yield (
                f"officials.deadlines[{i}].date",
                "warning",
                say("validate.deadline_far", name=deadline.name, day=deadline.date, start=col.start,
                    end=_last_day(policy)),
            )
    for i, incentive in enumerate(officials.incentives):
        if outside(incentive.deadline):
            yield (
                f"officials.incentives[{i}].deadline",
                "warning",
                say("validate.incentive_far", day=incentive.deadline, start=col.start, end=_last_day(policy)),
            )
    if policy.newborn is not None and policy.newborn.days is not None and policy.newborn.days > 366:
        yield "newborn.days", "warning", say("validate.newborn_days", days=policy.newborn.days)


def _check_periods(policy: Policy) -> Iterator[tuple[str, Level, str]]:
    """The benefit periods, the newborn windows and the waiting period against the insurance year."""
    year = policy.insurance_year
    periods = [("benefit_period", policy.benefit_period)]
    periods += [(f"group_standards[{g.key}].benefit_period", g.benefit_period) for g in policy.group_standards]
    for where, period in periods:
        if period is not None and year not in (period.start.year, period.end.year):
            yield where, "warning", say("validate.benefit_period_year", start=period.start, end=period.end, year=year)
    tiers = {t.amount for t in policy.contribution.tiers}
    for g in policy.group_standards:
        if g.amount not in tiers:
            yield (f"group_standards[{g.key}].amount", "warning",
                   say("validate.group_not_a_tier", name=g.name, amount=g.amount))
    wp = policy.waiting_period
    if wp is not None:
        if wp.fixed.months > 12:
            yield "waiting_period.fixed", "warning", say("validate.waiting_over_a_year", months=wp.fixed.months)
        if wp.back_payment is not None and wp.per_lapsed_year is None:
            yield "waiting_period.back_payment", "warning", say("validate.back_payment_alone")
    b = policy.officials.bulletin
    if b is not None and b.end is not None and not policy.collection.start <= b.end <= _last_day(policy):
        yield "officials.bulletin.end", "warning", say("validate.bulletin_outside", day=b.end,
                                                       start=policy.collection.start, end=_last_day(policy))


# --- tables ---------------------------------------------------------------------------------------


def table_label(table: TargetTable) -> str:
    return say("validate.table_label", key=table.key, title=table.title)


def column_label(column: TableColumn) -> str:
    return say("validate.column_label", key=column.key, name=column.name)


def _check_table(table: TargetTable) -> Iterator[tuple[str, Level, str]]:
    where = f"targets[{table.key}]"
    for name, count in Counter(row.name for row in table.rows).items():
        if count > 1:
            yield where, "warning", say("validate.row_repeated", table=table_label(table), name=name, count=count)
    for column in table.columns:
        printed = table.printed_total.get(column.key)
        if printed is None:
            continue
        total = column_sum(table, column.key)
        if total != printed:
            missing = sum(1 for row in table.rows if row.values.get(column.key) is None)
            gap = say("validate.rows_missing", missing=missing) if missing else ""
            yield (
                f"{where}.{column.key}",
                "warning",
                say("validate.total_differs", table=table_label(table), column=column_label(column), total=total,
                    printed=printed, diff=total - printed, gap=gap),
            )


# --- text -----------------------------------------------------------------------------------------


def _strings(node: object, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a dumped policy, with its key path."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{where}[{i}]")
