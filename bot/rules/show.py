"""Render one policy for bureau staff: every rule as encoded, each with its source (文号 + clause).

The text is meant for a terminal or a printout: sections in the order a resident asks about them
(how much, when, who, where, how), then the officials' plan and the target tables with the printed
total and the computed sum side by side. What the notice does not say is shown as such.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence

from bot.rules.problems import say
from bot.rules.schema import Category, Extension, Policy, Source, SourcedText, TargetTable
from bot.rules.validate import column_sum, computed_subsidy, subsidy_tier

INDENT = "  "


def _say(key: str, /, **fields: object) -> str:
    """An entry of [show] in templates/rules/zh.toml; `{unspecified}` is always there to fill in."""
    return say(f"show.{key}", unspecified=say("show.unspecified"), **fields)


def render_policy(policy: Policy) -> str:
    """The whole policy as readable Simplified Chinese text."""
    sections = [
        ("contribution", _contribution(policy)),
        ("categories", _categories(policy)),
        ("groups", _groups(policy)),
        ("calendar", _calendar(policy)),
        ("waiting", _waiting(policy)),
        ("eligibility", _texts(policy, policy.eligibility)),
        ("employee_insured", _texts(policy, policy.employee_insured)),
        ("registration", _texts(policy, policy.registration)),
        ("moving", _texts(policy, policy.moving)),
        ("refunds", _texts(policy, policy.refunds)),
        ("corrections", _texts(policy, policy.corrections)),
        ("channels", _channels(policy)),
        ("payment_check", _texts(policy, policy.payment_check)),
        ("family_account", _texts(policy, [policy.family_account] if policy.family_account else [])),
        ("handling_fee", _texts(policy, [policy.handling_fee_ban] if policy.handling_fee_ban else [])),
        ("officials", _officials(policy)),
        ("tables", _tables(policy)),
    ]
    lines = _header(policy)
    for i, (title, body) in enumerate(sections):
        lines.append("")
        lines.append(_say("section", numeral=_numeral(i + 1), title=_say(f"sections.{title}")))
        lines.extend(INDENT + line for line in (body or [_say("unspecified")]))
    return "\n".join(lines) + "\n"


# --- pieces ---------------------------------------------------------------------------------------


def _numeral(n: int) -> str:
    """1..20 as Chinese numerals (一 .. 二十: ten is the last of [show] numerals)."""
    numerals = _say("numerals")
    if n <= 10:
        return numerals[n - 1]
    return numerals[9] + numerals[n - 11]


def _date(day: dt.date) -> str:
    return _say("date", year=day.year, month=day.month, day=day.day)


def _cite(policy: Policy, source: Source, quote: bool = True) -> list[str]:
    """The source lines for one rule: 依据 (文号 + clause), then the quoted sentence if any."""
    lines = [INDENT + _say("cite", doc=source.doc or policy.doc_number, clause=source.clause)]
    if quote and source.quote:
        lines.append(INDENT + _say("quote", quote=source.quote))
    return lines


def _header(policy: Policy) -> list[str]:
    doc, region = policy.document, policy.region
    place = "".join(x for x in (region.province, region.city, region.county) if x)
    lines = [
        _say("title", region=region.name, year=policy.insurance_year),
        _say("document", number=doc.number, title=doc.title),
        _say("issued", issuer=doc.issuer, date=_date(doc.date)),
    ]
    if doc.based_on:
        lines.append(_say("based_on", docs="、".join(doc.based_on)))
    short = _say("short", names="、".join(region.short)) if region.short else ""
    lines.append(_say("region", name=region.name, short=short, place=place, level=_say(f"levels.{region.level}")))
    lines.append(_say("enquiry", text=region.enquiry.text))
    lines.extend(_cite(policy, region.enquiry.source))
    return lines


def _contribution(policy: Policy) -> list[str]:
    lines: list[str] = []
    for tier in policy.contribution.tiers:
        lines.append(_say("tier", name=tier.name, amount=tier.amount, key=tier.key))
        if tier.aliases:
            lines.append(INDENT + _say("aliases", aliases="、".join(tier.aliases)))
        lines.extend(_cite(policy, tier.source))
        if tier.eligibility is not None:
            lines.append(INDENT + _say("tier_eligibility", text=tier.eligibility.text))
            lines.extend(INDENT + line for line in _cite(policy, tier.eligibility.source, quote=False))
    basis = policy.contribution.subsidy_basis
    if basis is not None:
        base = policy.contribution.tier(basis.base_tier)
        lines.append(_say("subsidy_basis", name=base.name, amount=base.amount))
        lines.extend(_cite(policy, basis.source))
    rule = policy.contribution.payment_rule
    if rule is not None:
        lines.append(_say("payment_rule", text=rule.text))
        lines.extend(_cite(policy, rule.source, quote=False))
    fiscal = policy.fiscal_subsidy
    if fiscal is None:
        lines.append(_say("fiscal_none"))
    else:
        lines.append(_say("fiscal", least=_say("at_least") if fiscal.at_least else "", amount=fiscal.amount))
        lines.extend(_cite(policy, fiscal.source))
    return lines


def _subsidy_line(policy: Policy, cat: Category) -> list[str]:
    subsidy = cat.subsidy
    tier = subsidy_tier(policy, cat)
    payer = _say("payer", payer=subsidy.payer) if subsidy.payer else ""
    if subsidy.kind == "unspecified":
        note = [_say("note", text=subsidy.note)] if subsidy.note else []
        return [_say("subsidy_unlisted"), *note, _say("personal_none")]
    amount = computed_subsidy(tier.amount, subsidy)
    assert amount is not None
    how = _say(f"subsidy_{subsidy.kind}", amount=amount, rate=subsidy.rate_percent)
    lines = [_say("subsidy", how=how, tier=tier.name, tier_amount=tier.amount, payer=payer)]
    personal = tier.amount - amount
    if cat.personal_amount is None:
        lines.append(_say("personal_unprinted", personal=personal, tier=tier.amount, amount=amount))
    elif cat.personal_amount == personal:
        lines.append(_say("personal", personal=personal, tier=tier.amount, amount=amount))
    else:
        lines.append(_say("personal_differs", printed=cat.personal_amount, tier=tier.amount, amount=amount,
                          personal=personal))
    if subsidy.note:
        lines.append(_say("note", text=subsidy.note))
    if policy.contribution.subsidy_basis is not None:
        dearer = [t for t in policy.contribution.tiers if t.amount > tier.amount]
        if dearer:
            tiers = "，".join(_say("dearer_tier", name=t.name, personal=t.amount - amount) for t in dearer)
            lines.append(_say("dearer", tiers=tiers))
    return lines


def _categories(policy: Policy) -> list[str]:
    names = {c.key: c.name for c in policy.categories}
    lines: list[str] = []
    for cat in policy.categories:
        lines.append(f"· {cat.name} [{cat.key}]")
        body = _subsidy_line(policy, cat)
        if cat.includes:
            body.append(_say("includes", names="、".join(cat.includes)))
        if cat.covers:
            body.append(_say("covers", keys="、".join(cat.covers)))
        if cat.excluded_if:
            excluded = "、".join(f"{names.get(k, k)}[{k}]" for k in cat.excluded_if)
            body.append(_say("excluded", names=excluded))
        if cat.aliases:
            body.append(_say("aliases", aliases="、".join(cat.aliases)))
        lines.extend(INDENT + line for line in body)
        lines.extend(_cite(policy, cat.source))
    if not lines:
        return []
    rule = policy.multiple_categories
    if rule is None:
        lines.append(_say("multiple_none"))
    else:
        lines.append(_say("multiple"))
        lines.extend(_cite(policy, rule.source))
    return lines


def _groups(policy: Policy) -> list[str]:
    lines: list[str] = []
    for group in policy.group_standards:
        lines.append(_say("group", name=group.name, key=group.key, amount=group.amount))
        if group.paid_via:
            lines.append(INDENT + _say("paid_via", text=group.paid_via))
        if group.aliases:
            lines.append(INDENT + _say("aliases", aliases="、".join(group.aliases)))
        lines.extend(_cite(policy, group.source))
        period = group.benefit_period
        if period is not None:
            lines.append(INDENT + _say("group_benefit_period", start=_date(period.start), end=_date(period.end)))
            lines.extend(INDENT + line for line in _cite(policy, period.source))
    return lines


def _extension(policy: Policy, ext: Extension) -> str:
    if ext.start is None and ext.who:
        head = _say("extension_who", name=ext.name, who=ext.who, end=_date(ext.end))
    else:
        start = policy.collection.extension_start(ext)
        who = ext.who or _say("extension_who_default")
        head = _say("extension_span", name=ext.name, start=_date(start), end=_date(ext.end), who=who)
    if ext.benefit_start == "day_after_payment" and ext.start is None:
        return head + _say("extension_next_day")
    if not ext.benefit_start:
        return head
    return head + _say("extension_benefit", benefit=_say(f"benefits.{ext.benefit_start}"))


def _calendar(policy: Policy) -> list[str]:
    col = policy.collection
    lines = [_say("collection", name=col.name, start=_date(col.start), end=_date(col.end))]
    lines.extend(_cite(policy, col.source))
    window = col.monthly_window
    if window is None:
        lines.append(_say("monthly_none"))
    else:
        lines.append(_say("monthly", first=window.first_day, last=window.last_day))
        lines.extend(_cite(policy, window.source, quote=False))
    for ext in col.extensions:
        lines.append(_extension(policy, ext))
        if ext.who_aliases:
            lines.append(INDENT + _say("aliases", aliases="、".join(ext.who_aliases)))
        lines.extend(_cite(policy, ext.source))
    if not col.extensions:
        lines.append(_say("extension_none"))
    baby = policy.newborn
    if baby is None:
        lines.append(_say("newborn_none"))
    else:
        cover = _say("newborn_from_birth") if baby.coverage_from == "birth" else ""
        within = (_say("newborn_days", days=baby.days) if baby.days is not None else
                  _say("newborn_months", months=baby.months,
                       birth_month=_say("newborn_birth_month") if baby.birth_month_counts else ""))
        lines.append(_say("newborn", within=within, cover=cover))
        lines.extend(_cite(policy, baby.source))
        if baby.fee is not None:
            lines.append(INDENT + _say("newborn_fee", text=baby.fee.text))
        last = baby.days or 0
        for window in baby.later:
            span = (_say("newborn_until", first=last + 1, until=window.until_days) if window.until_days
                    else _say("newborn_after", days=last) if last
                    else _say("newborn_after_months", months=baby.months))
            lines.append(INDENT + _say("newborn_window", span=span, benefit=_say(f"benefits.{window.benefit_start}")))
            lines.extend(INDENT + line for line in _cite(policy, window.source))
            last = window.until_days or last
    period = policy.benefit_period
    if period is None:
        lines.append(_say("benefit_period_none"))
    else:
        lines.append(_say("benefit_period", start=_date(period.start), end=_date(period.end)))
        lines.extend(_cite(policy, period.source))
    return lines


def _waiting(policy: Policy) -> list[str]:
    lines: list[str] = []
    wp = policy.waiting_period
    if wp is not None:
        lines.append(_say("waiting_who", text=wp.who.text))
        lines.extend(_cite(policy, wp.who.source, quote=False))
        lines.append(_say("waiting_fixed", months=wp.fixed.months))
        lines.extend(_cite(policy, wp.fixed.source))
        parts = [
            ("waiting_lapsed", wp.per_lapsed_year),
            ("waiting_back_payment", wp.back_payment),
            ("waiting_max", wp.variable_max),
        ]
        for key, item in parts:
            lines.append(_say(key, months=item.months) if item else _say(f"{key}_none"))
            if item:
                lines.extend(_cite(policy, item.source))
        counted = wp.counted
        if counted is None:
            lines.append(_say("counted_none"))
        else:
            start = _say("counted_next_day" if counted.start == "day_after_payment" else "counted_same_day")
            extra = ""
            if counted.in_collection_from_benefit_period:
                extra = _say("counted_in_collection")
            lines.append(_say("counted", start=start, extra=extra))
            lines.extend(_cite(policy, counted.source))
        for note in wp.notes:
            lines.append(_say("note", text=note.text))
            lines.extend(_cite(policy, note.source, quote=False))
    inc = policy.enrolment_incentives
    if inc is not None:
        for reward in inc.rewards:
            if reward.after_years:
                after = _say("reward_after_years", years=reward.after_years)
            else:
                after = _say("reward_claim_free")
            least = _say("at_least") if reward.at_least else ""
            lines.append(_say("reward", kind=_say(f"rewards.{reward.kind}"), after=after, benefit=reward.benefit,
                              least=least, amount=reward.raise_yuan))
            lines.extend(_cite(policy, reward.source))
        if inc.cap_percent is not None and inc.cap_source is not None:
            lines.append(_say("incentive_cap", percent=inc.cap_percent))
            lines.extend(_cite(policy, inc.cap_source))
        if inc.reset is not None:
            lines.append(_say("reset", text=inc.reset.text))
            lines.extend(_cite(policy, inc.reset.source, quote=False))
    return lines


def _texts(policy: Policy, items: Sequence[SourcedText]) -> list[str]:
    lines: list[str] = []
    for item in items:
        lines.append(f"· {item.text}")
        lines.extend(_cite(policy, item.source))
    return lines


def _channels(policy: Policy) -> list[str]:
    lines: list[str] = []
    for ch in policy.channels:
        detail = f"：{ch.detail}" if ch.detail else ""
        lines.append(f"· [{_say(f'kinds.{ch.kind}')}] {ch.name}{detail}")
        if ch.who:
            lines.append(INDENT + _say("channel_who", who=ch.who))
        lines.extend(_cite(policy, ch.source, quote=False))
    return lines


def _officials(policy: Policy) -> list[str]:
    off = policy.officials
    lines: list[str] = []
    if off.goal is not None:
        lines.append(_say("goal", text=off.goal.text))
        lines.extend(_cite(policy, off.goal.source))
    for phase in off.phases:
        span = (_say("phase_span", start=_date(phase.start), end=_date(phase.end)) if phase.start
                else _say("phase_until", end=_date(phase.end)))
        lines.append(_say("phase", name=phase.name, span=span))
        if phase.text:
            lines.append(f"{INDENT}{phase.text}")
        lines.extend(_cite(policy, phase.source, quote=False))
    for deadline in off.deadlines:
        lines.append(_say("deadline", date=_date(deadline.date), who=deadline.who, text=deadline.text))
        lines.extend(_cite(policy, deadline.source, quote=False))
    for incentive in off.incentives:
        lines.append(_say("incentive", date=_date(incentive.deadline), basis=incentive.basis,
                          per_person=incentive.per_person))
        lines.extend(_cite(policy, incentive.source))
    for duty in off.duties:
        lines.append(_say("duty", text=duty.text))
        lines.extend(_cite(policy, duty.source))
    if off.bulletin is not None:
        b = off.bulletin
        every = _say("bulletin_interview_every", days=b.interview_every_days) if b.interview_every_days else ""
        name = f"（{b.name}）" if b.name else ""
        until = _say("bulletin_until", date=_date(b.end)) if b.end else ""
        lines.append(_say("bulletin", days=b.frequency_days, every=every, until=until, name=name))
        lines.append(f"{INDENT}{b.text}")
        if b.interview is not None:
            i = b.interview
            lines.append(INDENT + _say("interview", after=i.after_bulletins, bottom=i.bottom, who=i.who))
        lines.extend(_cite(policy, b.source, quote=False))
    return lines


# --- tables ---------------------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def render_table(policy: Policy, table: TargetTable) -> list[str]:
    """A target table with aligned columns, the printed 合计 and the rows' sum one under the other."""
    # Long printed headers keep their parenthetical in a legend under the table, so columns stay narrow.
    header = [_say(f"table_levels.{table.level}"), *(c.name.split("（")[0] for c in table.columns)]
    legend = [
        _say("table_legend", short=short, name=c.name)
        for c, short in zip(table.columns, header[1:], strict=True)
        if short != c.name
    ]
    body = [[row.name, *(_cell(row.values.get(c.key)) for c in table.columns)] for row in table.rows]
    printed = [_say("table_printed"), *(_cell(table.printed_total.get(c.key)) for c in table.columns)]
    summed = [_say("table_summed"), *(str(column_sum(table, c.key)) for c in table.columns)]
    check = [_say("table_check")]
    for c in table.columns:
        total = table.printed_total.get(c.key)
        diff = None if total is None else column_sum(table, c.key) - total
        check.append(_say("table_unprinted") if diff is None else _say("table_agrees") if diff == 0
                     else _say("table_differs", diff=diff))
    grid = [header, *body, printed, summed, check]
    widths = [max(display_width(r[i]) for r in grid) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(cell, widths[i], right=i > 0) for i, cell in enumerate(cells)).rstrip()

    lines = [_say("table_title", title=table.title, key=table.key, column=table.target_column), line(header)]
    lines.extend(line(r) for r in body)
    lines.append("-" * display_width(line(header)))
    lines.extend(line(r) for r in (printed, summed, check))
    lines.extend(legend)
    lines.extend(table.notes)
    lines.extend(_cite(policy, table.source, quote=False))
    return lines


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _tables(policy: Policy) -> list[str]:
    lines: list[str] = []
    for i, table in enumerate(policy.targets):
        if i:
            lines.append("")
        lines.extend(render_table(policy, table))
    return lines
