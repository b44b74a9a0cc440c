"""The schema of one jurisdiction-year policy (one county notice), as pydantic models.

Every figure, date and rule carries a `source`: the document number (文号), the clause and, where useful,
the quoted sentence. What a notice does not say is left out (None / empty), never filled in from another
county or year; the answers then say the notice does not specify it.

Category keys are shared across files so that residents' words map to one meaning everywhere:
tekun 特困人员, orphan 孤儿, unsupported_child 事实无人抚养儿童, dibao 低保对象, dibao_edge 低保边缘家庭,
monitored 防返贫监测对象, returned_poor 返贫致贫人口, tuopin 脱贫人口, severe_disability 重度残疾,
general_disability 一般残疾, youfu 重点优抚对象, land_requisitioned 被征地农转非超龄人员,
family_planning 计划生育特别扶助对象, jingjian 精减退休老职工, civil_injured_worker 民政伤残民工.
A new key is allowed; an alias must mean the same key in every file (the loader checks).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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
    """The jurisdiction the notice governs (a county, or a town inside one)."""

    name: str  # as written in the notice: 陵川县, 周集镇
    short: list[str] = []  # short forms residents use: 陵川, 周集
    level: Literal["county", "town"]
    county: str | None = None  # for a town: the county it belongs to (霍邱县)
    city: str | None = None
    province: str
    # Whom a resident should ask when the notice is silent (an office, never a phone number).
    enquiry: SourcedText


class Tier(Sourced):
    """A contribution tier (档次); most counties have one, 乐至县 has high and low."""

    key: str  # "standard", or "high" / "low"
    name: str  # 个人缴费标准, 高档次, 低档次
    amount: int = Field(ge=0)  # 元/人/年


class Contribution(Strict):
    tiers: list[Tier] = Field(min_length=1)
    payment_rule: SourcedText | None = None  # e.g. 按年度一次性足额缴纳

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
            raise ValueError("a fixed subsidy needs an amount")
        if self.kind == "rate" and self.rate_percent is None:
            raise ValueError("a rate subsidy needs rate_percent")
        if self.kind == "unspecified" and (self.amount is not None or self.rate_percent is not None):
            raise ValueError("an unspecified subsidy carries no figure")
        return self


class Category(Sourced):
    """A subsidised group (资助参保对象) as the notice names it."""

    key: str
    name: str  # the notice's own words
    aliases: list[str] = []  # what residents say
    covers: list[str] = []  # other category keys this one includes (特困人员 含孤儿和事实无人抚养儿童)
    includes: list[str] = []  # sub-groups named in the notice, as text
    excluded_if: list[str] = []  # keys that take precedence (不含已纳入城乡低保对象、特困人员范围人员)
    subsidy: Subsidy
    personal_amount: int | None = Field(default=None, ge=0)  # as printed (or tier - subsidy); validator checks


class MultipleCategoriesRule(Sourced):
    rule: Literal["highest_only"]  # 就高不就低: only the highest subsidy applies


class Extension(Sourced):
    """延长期: a later end date for some people."""

    end: dt.date
    who: str  # 春节返乡的外出务工人员
    who_aliases: list[str] = []
    benefit_start: Literal["day_after_payment"] | None = None


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
            raise ValueError(f"collection ends ({self.end}) before it starts ({self.start})")
        for ext in self.extensions:
            if ext.end <= self.end:
                raise ValueError(f"extension end {ext.end} is not after the collection end {self.end}")
        return self


class MonthlyWindow(Sourced):
    """每月1—25日可办理缴费."""

    first_day: int = Field(ge=1, le=28)
    last_day: int = Field(ge=1, le=28)

    @model_validator(mode="after")
    def _ordered(self) -> MonthlyWindow:
        if self.last_day < self.first_day:
            raise ValueError("monthly window last_day before first_day")
        return self


Collection.model_rebuild()


class Newborn(Sourced):
    days: int = Field(gt=0)  # 出生90天内完成参保缴费
    coverage_from: Literal["birth"] | None = None  # 自出生之日起享受待遇


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


class Bulletin(Sourced):
    frequency_days: int = Field(gt=0)  # 一周一通报 -> 7
    text: str
    interview_every_days: int | None = None  # 两周约谈后进 -> 14


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
    target_column: str  # key of the column that is the year's target
    columns: list[TableColumn]
    rows: list[TableRow]
    printed_total: dict[str, int] = {}  # the 合计 row as printed
    notes: list[str] = []

    @model_validator(mode="after")
    def _columns_known(self) -> TargetTable:
        keys = {c.key for c in self.columns}
        if self.target_column not in keys:
            raise ValueError(f"target_column {self.target_column!r} is not one of the columns {sorted(keys)}")
        for row in self.rows:
            unknown = set(row.values) - keys
            if unknown:
                raise ValueError(f"row {row.name!r} has unknown columns {sorted(unknown)}")
        unknown = set(self.printed_total) - keys
        if unknown:
            raise ValueError(f"printed_total has unknown columns {sorted(unknown)}")
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
    eligibility: list[SourcedText] = []  # 参保对象 / 参保人员范围
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
                raise ValueError(f"category key {cat.key!r} appears twice")
            seen.add(cat.key)
        return cats

    @model_validator(mode="after")
    def _tiers_known(self) -> Policy:
        tier_keys = {t.key for t in self.contribution.tiers}
        for cat in self.categories:
            if cat.subsidy.tier is not None and cat.subsidy.tier not in tier_keys:
                raise ValueError(
                    f"category {cat.key!r}: subsidy tier {cat.subsidy.tier!r} is not one of {sorted(tier_keys)}"
                )
        return self

    @property
    def doc_number(self) -> str:
        return self.document.number

    def category(self, key: str) -> Category | None:
        """The category that applies to `key`: its own, or one that covers it."""
        for cat in self.categories:
            if cat.key == key:
                return cat
        for cat in self.categories:
            if key in cat.covers:
                return cat
        return None
