"""Render one policy for bureau staff: every rule as encoded, each with its source (文号 + clause).

The text is meant for a terminal or a printout: sections in the order a resident asks about them
(how much, when, who, where, how), then the officials' plan and the target tables with the printed
total and the computed sum side by side. What the notice does not say is shown as such.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence

from bot.rules.schema import Category, Extension, Policy, Source, SourcedText, TargetTable
from bot.rules.validate import column_sum, computed_subsidy, subsidy_tier

NOT_SPECIFIED = "通知未规定"
INDENT = "  "

KIND_LABEL = {
    "online": "线上",
    "offline": "线下",
    "bank": "银行",
    "school": "学校",
    "family": "家庭共济/亲情账户",
    "registration": "参保登记",
}
LEVEL_LABEL = {"county": "县", "town": "镇"}
BENEFIT_LABEL = {
    "day_after_payment": "自缴费次日起享受待遇",
    "payment_date": "自缴费之日起享受待遇",
    "waiting_period": "设待遇等待期，等待期满后享受待遇（见“待遇等待期和参保激励”）",
}
REWARD_LABEL = {"continuous_enrolment": "连续参保激励", "claim_free": "零报销激励"}
TABLE_LEVEL_LABEL = {"township": "乡镇", "village": "村别"}
_NUMERALS = "一二三四五六七八九十"


def render_policy(policy: Policy) -> str:
    """The whole policy as readable Simplified Chinese text."""
    sections = [
        ("缴费标准", _contribution(policy)),
        ("资助参保", _categories(policy)),
        ("特定人群缴费标准", _groups(policy)),
        ("缴费时间", _calendar(policy)),
        ("待遇等待期和参保激励", _waiting(policy)),
        ("参保对象", _texts(policy, policy.eligibility)),
        ("已参加职工医保的人员", _texts(policy, policy.employee_insured)),
        ("参保登记", _texts(policy, policy.registration)),
        ("参保地变更", _texts(policy, policy.moving)),
        ("缴费渠道", _channels(policy)),
        ("缴费后查询", _texts(policy, policy.payment_check)),
        ("家庭共济/亲情账户代缴", _texts(policy, [policy.family_account] if policy.family_account else [])),
        ("手续费", _texts(policy, [policy.handling_fee_ban] if policy.handling_fee_ban else [])),
        ("工作安排（乡镇、部门）", _officials(policy)),
        ("任务分解表", _tables(policy)),
    ]
    lines = _header(policy)
    for i, (title, body) in enumerate(sections):
        lines.append("")
        lines.append(f"{_numeral(i + 1)}、{title}")
        lines.extend(INDENT + line for line in (body or [NOT_SPECIFIED]))
    return "\n".join(lines) + "\n"


# --- pieces ---------------------------------------------------------------------------------------


def _numeral(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n - 1]
    return "十" + _NUMERALS[n - 11]


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _cite(policy: Policy, source: Source, quote: bool = True) -> list[str]:
    """The source lines for one rule: 依据 (文号 + clause), then the quoted sentence if any."""
    lines = [f"{INDENT}依据：{source.doc or policy.doc_number} {source.clause}"]
    if quote and source.quote:
        lines.append(f"{INDENT}原文：“{source.quote}”")
    return lines


def _header(policy: Policy) -> list[str]:
    doc, region = policy.document, policy.region
    place = "".join(x for x in (region.province, region.city, region.county) if x)
    lines = [
        f"【{region.name} {policy.insurance_year}年度城乡居民基本医疗保险】",
        f"文件：{doc.number}《{doc.title}》",
        f"发文：{doc.issuer}，{_date(doc.date)}",
    ]
    if doc.based_on:
        lines.append(f"上级依据：{'、'.join(doc.based_on)}")
    short = f"（简称：{'、'.join(region.short)}）" if region.short else ""
    lines.append(f"地区：{region.name}{short}，{place}，{LEVEL_LABEL[region.level]}级")
    lines.append(f"通知未说明时请咨询：{region.enquiry.text}")
    lines.extend(_cite(policy, region.enquiry.source))
    return lines


def _contribution(policy: Policy) -> list[str]:
    lines: list[str] = []
    for tier in policy.contribution.tiers:
        lines.append(f"{tier.name}：{tier.amount}元/人/年（档次 {tier.key}）")
        if tier.aliases:
            lines.append(f"{INDENT}群众说法：{'、'.join(tier.aliases)}")
        lines.extend(_cite(policy, tier.source))
        if tier.eligibility is not None:
            lines.append(f"{INDENT}选择条件：{tier.eligibility.text}")
            lines.extend(INDENT + line for line in _cite(policy, tier.eligibility.source, quote=False))
    basis = policy.contribution.subsidy_basis
    if basis is not None:
        base = policy.contribution.tier(basis.base_tier)
        lines.append(f"资助基数：按{base.name}（{base.amount}元）计算资助；选择更高档次的，资助不变，差额由个人承担")
        lines.extend(_cite(policy, basis.source))
    rule = policy.contribution.payment_rule
    if rule is not None:
        lines.append(f"缴费要求：{rule.text}")
        lines.extend(_cite(policy, rule.source, quote=False))
    fiscal = policy.fiscal_subsidy
    if fiscal is None:
        lines.append(f"财政补助：{NOT_SPECIFIED}")
    else:
        lines.append(f"财政补助：{'不低于' if fiscal.at_least else ''}{fiscal.amount}元/人/年")
        lines.extend(_cite(policy, fiscal.source))
    return lines


def _subsidy_line(policy: Policy, cat: Category) -> list[str]:
    subsidy = cat.subsidy
    tier = subsidy_tier(policy, cat)
    payer = f"，由{subsidy.payer}支付" if subsidy.payer else ""
    if subsidy.kind == "unspecified":
        note = [f"说明：{subsidy.note}"] if subsidy.note else []
        return ["资助：通知未列资助金额", *note, f"个人缴费：{NOT_SPECIFIED}"]
    amount = computed_subsidy(tier.amount, subsidy)
    assert amount is not None
    how = {
        "full": f"全额资助{amount}元",
        "fixed": f"定额资助{amount}元",
        "rate": f"按{subsidy.rate_percent}%资助{amount}元",
    }[subsidy.kind]
    lines = [f"资助：{how}（{tier.name}{tier.amount}元{payer}）"]
    personal = tier.amount - amount
    if cat.personal_amount is None:
        lines.append(f"个人缴费：{personal}元（{tier.amount}−{amount}，通知未印）")
    elif cat.personal_amount == personal:
        lines.append(f"个人缴费：{personal}元（{tier.amount}−{amount}）")
    else:
        lines.append(f"个人缴费：通知印为{cat.personal_amount}元，按{tier.amount}−{amount}计算为{personal}元（不一致）")
    if subsidy.note:
        lines.append(f"说明：{subsidy.note}")
    if policy.contribution.subsidy_basis is not None:
        dearer = [t for t in policy.contribution.tiers if t.amount > tier.amount]
        if dearer:
            lines.append("选择更高档次：" + "，".join(f"{t.name}个人缴费{t.amount - amount}元" for t in dearer))
    return lines


def _categories(policy: Policy) -> list[str]:
    names = {c.key: c.name for c in policy.categories}
    lines: list[str] = []
    for cat in policy.categories:
        lines.append(f"· {cat.name} [{cat.key}]")
        body = _subsidy_line(policy, cat)
        if cat.includes:
            body.append(f"包括：{'、'.join(cat.includes)}")
        if cat.covers:
            body.append(f"包含类别（键）：{'、'.join(cat.covers)}")
        if cat.excluded_if:
            excluded = "、".join(f"{names.get(k, k)}[{k}]" for k in cat.excluded_if)
            body.append(f"不含：已属于{excluded}的人员")
        if cat.aliases:
            body.append(f"群众说法：{'、'.join(cat.aliases)}")
        lines.extend(INDENT + line for line in body)
        lines.extend(_cite(policy, cat.source))
    if not lines:
        return []
    rule = policy.multiple_categories
    if rule is None:
        lines.append(f"同时符合多类资助条件：{NOT_SPECIFIED}")
    else:
        lines.append("同时符合多类资助条件：就高不就低，只按资助最高的一种身份享受资助")
        lines.extend(_cite(policy, rule.source))
    return lines


def _groups(policy: Policy) -> list[str]:
    lines: list[str] = []
    for group in policy.group_standards:
        lines.append(f"· {group.name} [{group.key}]：{group.amount}元/人/年，不选择档次")
        if group.paid_via:
            lines.append(f"{INDENT}缴费方式：{group.paid_via}")
        if group.aliases:
            lines.append(f"{INDENT}群众说法：{'、'.join(group.aliases)}")
        lines.extend(_cite(policy, group.source))
        period = group.benefit_period
        if period is not None:
            lines.append(f"{INDENT}待遇享受期：{_date(period.start)}至{_date(period.end)}")
            lines.extend(INDENT + line for line in _cite(policy, period.source))
    return lines


def _extension(policy: Policy, ext: Extension) -> str:
    if ext.start is None and ext.who:
        head = f"{ext.name}：{ext.who}可延至{_date(ext.end)}"
    else:
        start = policy.collection.extension_start(ext)
        head = f"{ext.name}：{_date(start)}至{_date(ext.end)}，{ext.who or '未在缴费期内缴费的居民'}可缴费"
    if ext.benefit_start == "day_after_payment" and ext.start is None:
        return head + "，延长期缴费的自参保缴费次日起享受待遇"
    return head + (f"，{BENEFIT_LABEL[ext.benefit_start]}" if ext.benefit_start else "")


def _calendar(policy: Policy) -> list[str]:
    col = policy.collection
    lines = [f"{col.name}：{_date(col.start)}至{_date(col.end)}"]
    lines.extend(_cite(policy, col.source))
    window = col.monthly_window
    if window is None:
        lines.append(f"每月可缴日：{NOT_SPECIFIED}")
    else:
        lines.append(f"每月可缴日：每月{window.first_day}—{window.last_day}日")
        lines.extend(_cite(policy, window.source, quote=False))
    for ext in col.extensions:
        lines.append(_extension(policy, ext))
        if ext.who_aliases:
            lines.append(f"{INDENT}群众说法：{'、'.join(ext.who_aliases)}")
        lines.extend(_cite(policy, ext.source))
    if not col.extensions:
        lines.append(f"延长期：{NOT_SPECIFIED}")
    baby = policy.newborn
    if baby is None:
        lines.append(f"新生儿参保：{NOT_SPECIFIED}")
    else:
        cover = "，自出生之日起享受待遇" if baby.coverage_from == "birth" else ""
        lines.append(f"新生儿参保：出生{baby.days}天内完成参保缴费{cover}")
        lines.extend(_cite(policy, baby.source))
        last = baby.days
        for window in baby.later:
            span = f"出生{last + 1}天至{window.until_days}天" if window.until_days else f"出生{last}天以后"
            lines.append(f"{INDENT}{span}参保：{BENEFIT_LABEL[window.benefit_start]}")
            lines.extend(INDENT + line for line in _cite(policy, window.source))
            last = window.until_days or last
    period = policy.benefit_period
    if period is None:
        lines.append(f"待遇享受期：{NOT_SPECIFIED}")
    else:
        lines.append(f"待遇享受期：{_date(period.start)}至{_date(period.end)}（集中缴费期内缴费的）")
        lines.extend(_cite(policy, period.source))
    return lines


def _waiting(policy: Policy) -> list[str]:
    lines: list[str] = []
    wp = policy.waiting_period
    if wp is not None:
        lines.append(f"适用人员：{wp.who.text}")
        lines.extend(_cite(policy, wp.who.source, quote=False))
        lines.append(f"固定待遇等待期：{wp.fixed.months}个月")
        lines.extend(_cite(policy, wp.fixed.source))
        parts = [
            ("变动待遇等待期：每断保1年增加{}个月", wp.per_lapsed_year),
            ("缴费修复：每补缴1年减少{}个月变动待遇等待期", wp.back_payment),
            ("变动待遇等待期最长：{}个月", wp.variable_max),
        ]
        for label, item in parts:
            lines.append(label.format(item.months) if item else label.split("：")[0] + f"：{NOT_SPECIFIED}")
            if item:
                lines.extend(_cite(policy, item.source))
        counted = wp.counted
        if counted is None:
            lines.append(f"等待期起算：{NOT_SPECIFIED}")
        else:
            start = "缴费次日" if counted.start == "day_after_payment" else "缴费之日"
            extra = ""
            if counted.in_collection_from_benefit_period:
                extra = "；集中参保期内缴费的，自待遇享受期开始之日起算"
            lines.append(f"等待期起算：自{start}起{extra}")
            lines.extend(_cite(policy, counted.source))
        for note in wp.notes:
            lines.append(f"说明：{note.text}")
            lines.extend(_cite(policy, note.source, quote=False))
    inc = policy.enrolment_incentives
    if inc is not None:
        for reward in inc.rewards:
            if reward.after_years:
                after = f"连续参保满{reward.after_years}年后，每连续参保1年"
            else:
                after = "当年度基金零报销的，次年度"
            least = "不低于" if reward.at_least else ""
            lines.append(f"{REWARD_LABEL[reward.kind]}：{after}提高{reward.benefit}{least}{reward.raise_yuan}元")
            lines.extend(_cite(policy, reward.source))
        if inc.cap_percent is not None and inc.cap_source is not None:
            lines.append(f"激励上限：累计提高不超过原最高支付限额的{inc.cap_percent}%")
            lines.extend(_cite(policy, inc.cap_source))
        if inc.reset is not None:
            lines.append(f"断保：{inc.reset.text}")
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
        lines.append(f"· [{KIND_LABEL[ch.kind]}] {ch.name}{detail}")
        if ch.who:
            lines.append(f"{INDENT}适用：{ch.who}")
        lines.extend(_cite(policy, ch.source, quote=False))
    return lines


def _officials(policy: Policy) -> list[str]:
    off = policy.officials
    lines: list[str] = []
    if off.goal is not None:
        lines.append(f"目标：{off.goal.text}")
        lines.extend(_cite(policy, off.goal.source))
    for phase in off.phases:
        span = f"{_date(phase.start)}至{_date(phase.end)}" if phase.start else f"{_date(phase.end)}及以前"
        lines.append(f"阶段：{phase.name}（{span}）")
        if phase.text:
            lines.append(f"{INDENT}{phase.text}")
        lines.extend(_cite(policy, phase.source, quote=False))
    for deadline in off.deadlines:
        lines.append(f"时限：{_date(deadline.date)}前，{deadline.who}：{deadline.text}")
        lines.extend(_cite(policy, deadline.source, quote=False))
    for incentive in off.incentives:
        lines.append(
            f"以奖代补：截至{_date(incentive.deadline)}完成目标任务的，{incentive.basis}每人奖励{incentive.per_person}元"
        )
        lines.extend(_cite(policy, incentive.source))
    for duty in off.duties:
        lines.append(f"职责：{duty.text}")
        lines.extend(_cite(policy, duty.source))
    if off.bulletin is not None:
        b = off.bulletin
        every = f"，每{b.interview_every_days}天约谈后进" if b.interview_every_days else ""
        name = f"（{b.name}）" if b.name else ""
        until = f"，至{_date(b.end)}" if b.end else ""
        lines.append(f"通报：每{b.frequency_days}天通报一次{every}{until}{name}")
        lines.append(f"{INDENT}{b.text}")
        if b.interview is not None:
            i = b.interview
            lines.append(f"{INDENT}约谈：连续{i.after_bulletins}期排名后{i.bottom}位的，{i.who}")
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
    header = [TABLE_LEVEL_LABEL[table.level], *(c.name.split("（")[0] for c in table.columns)]
    legend = [
        f"注：“{short}”即“{c.name}”"
        for c, short in zip(table.columns, header[1:], strict=True)
        if short != c.name
    ]
    body = [[row.name, *(_cell(row.values.get(c.key)) for c in table.columns)] for row in table.rows]
    printed = ["印刷合计", *(_cell(table.printed_total.get(c.key)) for c in table.columns)]
    summed = ["各行相加", *(str(column_sum(table, c.key)) for c in table.columns)]
    check = ["核对"]
    for c in table.columns:
        total = table.printed_total.get(c.key)
        diff = None if total is None else column_sum(table, c.key) - total
        check.append("未印合计" if diff is None else "一致" if diff == 0 else f"差{diff:+d}")
    grid = [header, *body, printed, summed, check]
    widths = [max(display_width(r[i]) for r in grid) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(cell, widths[i], right=i > 0) for i, cell in enumerate(cells)).rstrip()

    lines = [f"{table.title} [{table.key}]，目标列：{table.target_column}", line(header)]
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
