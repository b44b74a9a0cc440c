"""The schema of one jurisdiction-year policy (one county notice), as pydantic models.

Every figure, date and rule carries a `source`: the document number (文号), the clause and, where useful,
the quoted sentence. What a notice does not say is left out (None / empty), never filled in from another
county or year; the answers then say the notice does not specify it.

Category keys are shared across files so that residents' words map to one meaning everywhere:
tekun 特困人员, orphan 孤儿, unsupported_child 事实无人抚养儿童, dibao 低保对象, dibao_edge 低保边缘家庭,
monitored 防返贫监测对象, returned_poor 返贫致贫人口, tuopin 脱贫人口, severe_disability 重度残疾,
general_disability 一般残疾, youfu 重点优抚对象, land_requisitioned 被征地农转非超龄人员,
family_planning 计划生育特别扶助对象, jingjian 精减退休老职工, civil_injured_worker 民政伤残民工.
A county may define its own key for a group none of these describes (青禾县: retired_fisher 退捕渔民);
it needs aliases of its own. An alias must mean the same key in every file (the loader checks).

Tier keys are shared the same way: "standard" for a single tier, "low" / "middle" / "high" for the
cheapest, middle and dearest of several; a tier's aliases (一档, 中档, 三档) must mean the same key in
every file.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.rules.problems import RuleError

# The shared category keys' names in no county's own words, for a group a notice does not name: an answer
# says "通知没有提到'脱贫人口'的参保资助", never another county's name for it (罗山县's 脱贫人口（监测对象）, 乐至县's
# 重度残疾（一、二级及精神三、四级）, whose grades are that county's own).
SHARED_CATEGORY_NAMES: dict[str, str] = {
    "tekun": "特困人员",
    "orphan": "孤儿",
    "unsupported_child": "事实无人抚养儿童",
    "dibao": "城乡低保对象",
    "dibao_edge": "低保边缘家庭成员",
    "monitored": "防止返贫监测对象",
    "returned_poor": "返贫致贫人口",
    "tuopin": "脱贫人口",
    "severe_disability": "重度残疾人",
    "general_disability": "一般残疾人",
    "disability": "残疾人",  # no grade said: a notice that names graded groups gives each grade's figure
    "veteran": "退役军人",  # not 重点优抚对象, which some notices subsidise
    "youfu": "重点优抚对象",
    "land_requisitioned": "被征地农转非超龄人员",
    "family_planning": "计划生育特别扶助对象",
    "jingjian": "精减退休老职工",
    "civil_injured_worker": "民政伤残民工",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """Where a value comes from: 文号 (defaults to the policy's own document), clause, quoted sentence."""

    doc: str | None = None
    clause: str
    quote: str | None = None


class Sourced(Strict):
    source: Source


class SourcedText(Sourced):
    """A rule stated in words, e.g. where to register."""

    text: str


class Document(Strict):
    number: str  # 文号, e.g. 陵政办函〔2024〕16号
    title: str
    issuer: str
    date: dt.date
    based_on: list[str] = []  # higher-level documents the notice cites


class Region(Strict):
    """The jurisdiction the notice governs (a county, a district or county-level city of the same rank, or a
    town inside a county)."""

    name: str  # as written in the notice: 陵川县, 周集镇, 澄湾区
    short: list[str] = []  # short forms residents use: 陵川, 周集
    # district 市辖区 and city 县级市 rank with a county: townships (乡镇、街道) below, villages below those
    level: Literal["county", "district", "city", "town"]
    county: str | None = None  # for a town: the county it belongs to (霍邱县)
    city: str | None = None
    province: str
    # Whom a resident should ask when the notice is silent (an office, never a phone number).
    enquiry: SourcedText


class Tier(Sourced):
    """A contribution tier (档次); most counties have one, 乐至县 has high and low, 青禾县 three."""

    key: str  # "standard", or "low" / "middle" / "high"
    name: str  # 个人缴费标准, 高档次, 低档次, 一档
    amount: int = Field(ge=0)  # 元/人/年
    aliases: list[str] = []  # what residents call it: 第一档, 低档, 400那档
    eligibility: SourcedText | None = None  # who may choose it (三档仅限上年度已按三档缴费的人员)


class SubsidyBasis(Sourced):
    """资助以一档为基数: subsidies are computed on `base_tier`; a subsidised resident who chooses a dearer
    tier keeps the same subsidy and pays the rest (高出一档的部分由个人承担)."""

    base_tier: str
    higher_tiers: Literal["pay_difference"] = "pay_difference"


class Contribution(Strict):
    tiers: list[Tier] = Field(min_length=1)
    payment_rule: SourcedText | None = None  # e.g. 按年度一次性足额缴纳
    subsidy_basis: SubsidyBasis | None = None

    def tier(self, key: str | None) -> Tier:
        if key is None:
            return self.tiers[0]
        for tier in self.tiers:
            if tier.key == key:
                return tier
        raise KeyError(key)


class FiscalSubsidy(Sourced):
    """财政补助: the government's matching subsidy per head."""

    amount: int = Field(ge=0)
    at_least: bool = False  # 不低于


class Subsidy(Strict):
    """资助参保: how much of the personal contribution is paid for a category.

    kind: full (全额资助), fixed (定额资助 `amount`), rate (`rate_percent` of the tier, printed as `amount`),
    unspecified (the notice names the group but gives no figure, e.g. 继续执行原有的参保资助政策).
    """

    kind: Literal["full", "fixed", "rate", "unspecified"]
    amount: int | None = Field(default=None, ge=0)
    rate_percent: int | None = Field(default=None, ge=0, le=100)
    tier: str | None = None  # tier the subsidy is computed against; None = the only / first tier
    payer: str | None = None  # 医疗救助基金, 财政
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Subsidy:
        if self.kind == "fixed" and self.amount is None:
            raise RuleError("subsidy_fixed_needs_amount")
        if self.kind == "rate" and self.rate_percent is None:
            raise RuleError("subsidy_rate_needs_percent")
        if self.kind == "unspecified" and (self.amount is not None or self.rate_percent is not None):
            raise RuleError("subsidy_unspecified_no_figure")
        return self


class GroupFigure(Strict):
    """A category's figures as the notice prints them for residents who pay a group's own standard (城乡低保对象：
    未成年人和在校学生每人资助252元、个人缴纳108元). `source` defaults to the category's."""

    groups: list[str] = Field(min_length=1)  # group standard keys (minor, university_student)
    subsidy: int | None = Field(default=None, ge=0)
    personal_amount: int = Field(ge=0)
    source: Source | None = None


class Category(Sourced):
    """A subsidised group (资助参保对象) as the notice names it.

    A resident who also pays a group's own standard (a minor, a student) is reckoned from `group_figures` when
    the notice prints them; else a full subsidy leaves 0, a subsidy on the notice's base tier (资助以一档为基数) or a
    fixed sum is taken off the group's standard (capped at it), a percentage of the 个人缴费标准 is taken of the
    group's standard; a percentage tied to one tier (按成年居民缴费标准的50%, `subsidy.tier` set) leaves the group's
    figure unclear, and the answer says so."""

    key: str
    name: str  # the notice's own words
    aliases: list[str] = []  # what residents say
    covers: list[str] = []  # other category keys this one includes (特困人员 含孤儿和事实无人抚养儿童)
    includes: list[str] = []  # sub-groups named in the notice, as text
    excluded_if: list[str] = []  # keys that take precedence (不含已纳入城乡低保对象、特困人员范围人员)
    subsidy: Subsidy
    personal_amount: int | None = Field(default=None, ge=0)  # as printed (or tier - subsidy); validator checks
    group_figures: list[GroupFigure] = []  # its figures for a group standard, as printed

    def group_figure(self, group: str) -> GroupFigure | None:
        return next((f for f in self.group_figures if group in f.groups), None)


class Period(Sourced):
    """A span of dates, both days included (待遇享受期 2027年1月1日至12月31日)."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise RuleError("period_reversed", start=self.start, end=self.end)
        return self


class GroupStandard(Sourced):
    """A group's own standard that replaces the tier choice (在校大学生统一按一档缴纳，由学校代收代缴)."""

    key: str
    name: str  # the notice's words: 全日制大中专院校在校学生
    aliases: list[str] = []  # 大学生, 在校大学生
    amount: int = Field(ge=0)
    paid_via: str | None = None  # 由所在学校统一组织参保、代收代缴
    benefit_period: Period | None = None  # its own 待遇享受期 (9月1日至次年8月31日)


class MultipleCategoriesRule(Sourced):
    rule: Literal["highest_only"]  # 就高不就低: only the highest subsidy applies


# When benefits start for someone who pays in a late period: the day after payment (从参保次日),
# the payment date itself, or after the waiting period (`Policy.waiting_period`).
BenefitStartRule = Literal["day_after_payment", "payment_date", "waiting_period"]


class Extension(Sourced):
    """A late period (延长期 / 延长缴费期 / 补缴期) after the collection period, for some people or for all."""

    name: str = "延长期"  # the notice's name: 延长缴费期, 补缴期
    start: dt.date | None = None  # None: the day after the collection period (or the previous late period)
    end: dt.date
    who: str | None = None  # 春节返乡的外出务工人员; None: every resident who has not paid
    who_aliases: list[str] = []
    benefit_start: BenefitStartRule | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Extension:
        if self.start is not None and self.end < self.start:
            raise RuleError("named_period_reversed", name=self.name, start=self.start, end=self.end)
        return self


class Collection(Strict):
    start: dt.date
    end: dt.date
    name: str = "集中参保缴费期"
    source: Source
    monthly_window: MonthlyWindow | None = None
    extensions: list[Extension] = []

    @model_validator(mode="after")
    def _ordered(self) -> Collection:
        if self.end < self.start:
            raise RuleError("collection_reversed", start=self.start, end=self.end)
        previous = self.end
        for ext in self.extensions:
            if ext.end <= self.end:
                raise RuleError("extension_not_after", ext_end=ext.end, end=self.end)
            if ext.start is not None and ext.start <= previous:
                raise RuleError("extension_overlaps", name=ext.name, start=ext.start, previous=previous)
            previous = ext.end
        return self

    def extension_start(self, ext: Extension) -> dt.date:
        """The first day of a late period: as printed, else the day after the period before it."""
        if ext.start is not None:
            return ext.start
        i = self.extensions.index(ext)
        before = self.end if i == 0 else self.extensions[i - 1].end
        return before + dt.timedelta(days=1)


class MonthlyWindow(Sourced):
    """每月1—25日可办理缴费."""

    first_day: int = Field(ge=1, le=28)
    last_day: int = Field(ge=1, le=28)

    @model_validator(mode="after")
    def _ordered(self) -> MonthlyWindow:
        if self.last_day < self.first_day:
            raise RuleError("monthly_window_reversed")
        return self


Collection.model_rebuild()


class NewbornWindow(Sourced):
    """A later window for newborns: 出生后91天至1周岁内参保的，自缴费之日起享受待遇."""

    until_days: int | None = Field(default=None, gt=0)  # last day of age in the window; None: no limit
    benefit_start: BenefitStartRule


class Newborn(Sourced):
    """The newborn window, in days (出生90天内) or in months (出生后3个月内（含出生当月）), and what follows it."""

    days: int | None = Field(default=None, gt=0)  # 出生90天内完成参保缴费
    months: int | None = Field(default=None, gt=0)  # 出生后3个月内
    birth_month_counts: bool = False  # 含出生当月: the months end with the (months)th calendar month from birth's
    coverage_from: Literal["birth"] | None = None  # 自出生之日起享受待遇
    fee: SourcedText | None = None  # what a newborn pays: 按未成年人标准缴纳当年度个人缴费
    later: list[NewbornWindow] = []  # what applies after the window, window by window (until_days: age in days)

    @model_validator(mode="after")
    def _increasing(self) -> Newborn:
        if (self.days is None) == (self.months is None):
            raise RuleError("newborn_days_or_months")
        last = self.days or 0
        for i, window in enumerate(self.later):
            if window.until_days is None:
                if i != len(self.later) - 1:
                    raise RuleError("newborn_open_window_not_last")
            elif window.until_days <= last:
                raise RuleError("newborn_window_not_increasing", until_days=window.until_days, last=last)
            else:
                last = window.until_days
        return self

    def last_day(self, born: dt.date) -> dt.date:
        """The last day a baby born on `born` is inside the window."""
        if self.days is not None:
            return born + dt.timedelta(days=self.days)
        assert self.months is not None
        year, month = divmod(born.year * 12 + born.month - 1 + self.months, 12)
        month += 1  # the month `months` after the birth month
        if self.birth_month_counts:  # 含出生当月: to the end of the (months)th month, the birth month the first
            return dt.date(year, month, 1) - dt.timedelta(days=1)
        return dt.date(year, month, min(born.day, calendar.monthrange(year, month)[1]))


class Months(Sourced):
    months: int = Field(ge=0)


class WaitCount(Sourced):
    """From when a waiting period counts: 自缴费次日起计算; 集中参保期内缴费的自待遇享受期开始计算."""

    start: Literal["payment_date", "day_after_payment"]
    in_collection_from_benefit_period: bool = False


class WaitingPeriod(Strict):
    """待遇等待期 (国办发〔2024〕38号): a fixed wait for who enrols late or after a lapse, a variable one per
    lapsed year, reduced by paying lapsed years back."""

    who: SourcedText  # 未在集中参保期内参保或未连续参保的人员
    fixed: Months  # 固定待遇等待期3个月
    per_lapsed_year: Months | None = None  # 每断保1年增加1个月变动待遇等待期
    back_payment: Months | None = None  # 每补缴1年减少1个月变动待遇等待期
    variable_max: Months | None = None  # 变动待遇等待期最长N个月, where stated
    counted: WaitCount | None = None
    notes: list[SourcedText] = []  # 固定待遇等待期不因补缴减少; 补缴费用不享受财政补助


class Reward(Sourced):
    """参保激励: a higher 大病保险 limit for continuous enrolment or for a year without claims."""

    kind: Literal["continuous_enrolment", "claim_free"]
    after_years: int | None = Field(default=None, ge=0)  # 连续参保满4年后 (continuous enrolment)
    raise_yuan: int = Field(ge=0)  # 每年提高1000元
    at_least: bool = False  # 不低于
    benefit: str = "大病保险最高支付限额"


class EnrolmentIncentives(Strict):
    rewards: list[Reward] = Field(min_length=1)
    cap_percent: int | None = Field(default=None, ge=0, le=100)  # 累计不超过原最高支付限额的20%
    cap_source: Source | None = None
    reset: SourcedText | None = None  # 断保的，此前积累的激励额度清零

    @model_validator(mode="after")
    def _cap_sourced(self) -> EnrolmentIncentives:
        if (self.cap_percent is None) != (self.cap_source is None):
            raise RuleError("cap_without_source")
        return self


class Channel(Sourced):
    kind: Literal["online", "offline", "bank", "school", "family", "registration"]
    name: str  # 微信, 支付宝, 皖事通APP, 便民服务中心 ...
    detail: str | None = None
    who: str | None = None  # 适用人群


class Phase(Sourced):
    """A phase of the officials' work plan (罗山县: 宣传发动, 集中征收, 检查核对)."""

    name: str
    start: dt.date | None = None
    end: dt.date
    text: str | None = None


class Deadline(Sourced):
    """A dated duty for officials (e.g. 12月30日前完成所有参保信息数据录入修改工作)."""

    name: str
    date: dt.date
    who: str
    text: str


class Incentive(Sourced):
    """以奖代补: per-person reward for townships that finish their target by a date."""

    deadline: dt.date
    per_person: int = Field(ge=0)
    basis: str  # 按照入库总人数


class Interview(Sourced):
    """约谈: the escalation of a bulletin (连续两期排名后三位的乡镇，由分管负责同志约谈主要负责同志)."""

    after_bulletins: int = Field(gt=0)  # in the bottom this many bulletins running
    bottom: int = Field(gt=0)  # the last N of the ranking
    who: str  # 县政府分管负责同志约谈其主要负责同志


class Bulletin(Sourced):
    frequency_days: int = Field(gt=0)  # 一周一通报 -> 7
    text: str
    name: str | None = None  # the notice's name for the rule: 一周一通报，两周约谈后进
    interview_every_days: int | None = None  # 两周约谈后进 -> 14
    interview: Interview | None = None  # 约谈 after N bulletins in the bottom (instead of a fixed rhythm)
    end: dt.date | None = None  # the last bulletin date when bulletins go on past the collection period


class TableColumn(Strict):
    key: str
    name: str  # the column header as printed


class TableRow(Strict):
    name: str  # township or village
    values: dict[str, int | None]


class TargetTable(Sourced):
    """任务分解表: targets per township or village, with the notice's extra columns."""

    key: str
    title: str
    level: Literal["township", "village"]
    # A village table's town, where the notice is a county's (南塘镇各村（社区）任务表); a town's notice needs none
    township: str | None = None
    target_column: str  # key of the column that is the year's target
    columns: list[TableColumn]
    rows: list[TableRow]
    printed_total: dict[str, int] = {}  # the 合计 row as printed
    notes: list[str] = []

    @model_validator(mode="after")
    def _columns_known(self) -> TargetTable:
        keys = {c.key for c in self.columns}
        if self.target_column not in keys:
            raise RuleError("target_column_unknown", column=self.target_column, columns="、".join(sorted(keys)))
        for row in self.rows:
            unknown = set(row.values) - keys
            if unknown:
                raise RuleError("row_columns_unknown", row=row.name, columns="、".join(sorted(unknown)))
        unknown = set(self.printed_total) - keys
        if unknown:
            raise RuleError("total_columns_unknown", columns="、".join(sorted(unknown)))
        return self


class Officials(Strict):
    phases: list[Phase] = []
    deadlines: list[Deadline] = []
    incentives: list[Incentive] = []
    bulletin: Bulletin | None = None
    goal: SourcedText | None = None  # 工作目标, e.g. 参保率稳定在97%以上
    # Undated duties the notice assigns (代征人员及时全额上缴; 各村核对代办缴费信息; 纳入年终考核)
    duties: list[SourcedText] = []


class Policy(Strict):
    """One county notice: the rules of one jurisdiction for one insurance year (年度)."""

    id: str  # file stem, e.g. lingchuan-2025
    insurance_year: int = Field(ge=2000, le=2100)
    document: Document
    region: Region
    contribution: Contribution
    fiscal_subsidy: FiscalSubsidy | None = None
    categories: list[Category] = []
    multiple_categories: MultipleCategoriesRule | None = None
    collection: Collection
    newborn: Newborn | None = None
    benefit_period: Period | None = None  # 待遇享受期 for who pays in the collection period
    group_standards: list[GroupStandard] = []
    waiting_period: WaitingPeriod | None = None
    enrolment_incentives: EnrolmentIncentives | None = None
    eligibility: list[SourcedText] = []  # 参保对象 / 参保人员范围
    # What the notice says of people already in 职工医保 (not in the residents' scheme, 不得重复参保), each
    # written as the answer to "有职工医保还要交居民医保吗"; empty: the notice is silent, the answer says so.
    employee_insured: list[SourcedText] = []
    # What the notice says a resident can do to see that a payment went through (村里公示缴费情况); empty: silent.
    payment_check: list[SourcedText] = []
    # What the notice says of refunds (已缴费用不予退还; 因参军、死亡、重复参保的可申请退费), each line as printed;
    # empty: the notice is silent, and 交了能退吗 / 交重复了 are told so.
    refunds: list[SourcedText] = []
    # What the notice says of correcting a wrong payment (缴费信息有误的，可到原缴费地点申请更正), each line as printed;
    # empty: the notice is silent (or only forbids changing the tier, said from the payment rule), and 交错了怎么改 is
    # told so.
    corrections: list[SourcedText] = []
    registration: list[SourcedText] = []  # 参保登记: where and how
    moving: list[SourcedText] = []  # 参保地变更, 暂停原参保地
    channels: list[Channel] = []
    family_account: SourcedText | None = None  # 家庭共济账户 / 亲情账户代缴
    handling_fee_ban: SourcedText | None = None  # 不得收取手续费
    officials: Officials = Officials()
    targets: list[TargetTable] = []

    @field_validator("categories")
    @classmethod
    def _unique_keys(cls, cats: list[Category]) -> list[Category]:
        seen: set[str] = set()
        for cat in cats:
            if cat.key in seen:
                raise RuleError("category_key_twice", key=cat.key)
            seen.add(cat.key)
        return cats

    @model_validator(mode="after")
    def _tiers_known(self) -> Policy:
        tier_keys = [t.key for t in self.contribution.tiers]
        if len(set(tier_keys)) != len(tier_keys):
            raise RuleError("tier_keys_repeat", keys="、".join(tier_keys))
        for cat in self.categories:
            if cat.subsidy.tier is not None and cat.subsidy.tier not in tier_keys:
                raise RuleError("subsidy_tier_unknown", category=cat.key, tier=cat.subsidy.tier,
                                tiers="、".join(sorted(tier_keys)))
        basis = self.contribution.subsidy_basis
        if basis is not None and basis.base_tier not in tier_keys:
            raise RuleError("base_tier_unknown", tier=basis.base_tier, tiers="、".join(sorted(tier_keys)))
        return self

    @model_validator(mode="after")
    def _groups_and_waits(self) -> Policy:
        keys = {c.key for c in self.categories}
        for group in self.group_standards:
            if group.key in keys:
                raise RuleError("group_is_category", key=group.key)
            keys.add(group.key)
        groups = {g.key for g in self.group_standards}
        for cat in self.categories:
            for figure in cat.group_figures:
                unknown = set(figure.groups) - groups
                if unknown:
                    raise RuleError("group_figure_unknown", category=cat.key, groups="、".join(sorted(unknown)))
        waits = [e.name for e in self.collection.extensions if e.benefit_start == "waiting_period"]
        if self.newborn is not None:
            waits += ["newborn" for w in self.newborn.later if w.benefit_start == "waiting_period"]
        if waits and self.waiting_period is None:
            raise RuleError("waiting_period_missing", name=waits[0])
        return self

    @property
    def doc_number(self) -> str:
        return self.document.number

    def group_standard(self, key: str) -> GroupStandard | None:
        return next((g for g in self.group_standards if g.key == key), None)

    def category(self, key: str) -> Category | None:
        """The category that applies to `key`: its own, or one that covers it."""
        for cat in self.categories:
            if cat.key == key:
                return cat
        for cat in self.categories:
            if key in cat.covers:
                return cat
        return None
