"""Figures, dates and rules as printed in the five notices (seeds/000-004)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.rules.loader import BUILTIN_DIR, PolicyRegistry, load_registry
from bot.rules.schema import Policy
from bot.rules.validate import computed_subsidy

D = dt.date


@pytest.fixture(scope="module")
def registry() -> PolicyRegistry:
    return load_registry()


def _get(registry: PolicyRegistry, region: str, year: int) -> Policy:
    policy = registry.get(region, year)
    assert policy is not None, (region, year)
    return policy


def _figures(policy: Policy, key: str) -> tuple[str, int | None, int | None]:
    """(kind, subsidy in yuan, personal amount in yuan) for a category, by the notice's rule."""
    cat = policy.category(key)
    assert cat is not None, key
    tier = policy.contribution.tier(cat.subsidy.tier)
    subsidy = computed_subsidy(tier.amount, cat.subsidy)
    personal = None if subsidy is None else tier.amount - subsidy
    assert cat.personal_amount == personal, (key, cat.personal_amount, personal)
    return cat.subsidy.kind, subsidy, personal


def _channel_names(policy: Policy, kind: str) -> str:
    return " ".join(f"{c.name} {c.detail or ''}" for c in policy.channels if c.kind == kind)


# --- 陵川县 2025: 陵政办函〔2024〕16号 --------------------------------------------------------------


def test_lingchuan_2025_document_and_standard(registry: PolicyRegistry) -> None:
    p = _get(registry, "陵川", 2025)
    assert p.document.number == "陵政办函〔2024〕16号"
    assert p.document.date == D(2024, 9, 23)
    assert [(t.key, t.amount) for t in p.contribution.tiers] == [("standard", 400)]
    assert p.contribution.payment_rule is not None and "一次性足额缴纳" in p.contribution.payment_rule.text
    assert p.fiscal_subsidy is None  # the notice prints no 财政补助 figure


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("dibao", ("rate", 320, 80)),
        ("monitored", ("fixed", 280, 120)),
        ("returned_poor", ("rate", 360, 40)),
        ("tekun", ("full", 400, 0)),
        ("orphan", ("full", 400, 0)),  # 特困人员(含孤儿和事实无人抚养儿童)
        ("unsupported_child", ("full", 400, 0)),
        ("youfu", ("unspecified", None, None)),
        ("severe_disability", ("unspecified", None, None)),
    ],
)
def test_lingchuan_2025_subsidies(registry: PolicyRegistry, key: str, expected: tuple) -> None:
    assert _figures(_get(registry, "陵川县", 2025), key) == expected


def test_lingchuan_2025_category_details(registry: PolicyRegistry) -> None:
    p = _get(registry, "陵川县", 2025)
    monitored, dibao, returned = p.category("monitored"), p.category("dibao"), p.category("returned_poor")
    assert monitored is not None and dibao is not None and returned is not None
    assert monitored.excluded_if == ["dibao", "tekun"]
    assert (dibao.subsidy.rate_percent, returned.subsidy.rate_percent) == (80, 90)
    assert {c.subsidy.payer for c in p.categories if c.subsidy.kind != "unspecified"} == {"医疗救助基金"}
    assert p.category("orphan").key == "tekun"
    for key in ("youfu", "severe_disability"):
        cat = p.category(key)
        assert cat is not None and "继续执行原有的参保资助政策" in (cat.subsidy.note or "")
    assert p.category("general_disability") is None
    assert p.multiple_categories is None


def test_lingchuan_2025_calendar(registry: PolicyRegistry) -> None:
    c = _get(registry, "陵川县", 2025).collection
    assert (c.start, c.end) == (D(2024, 9, 1), D(2025, 2, 25))
    assert c.monthly_window is not None
    assert (c.monthly_window.first_day, c.monthly_window.last_day) == (1, 25)
    assert c.extensions == []


def test_lingchuan_2025_family_account_and_channels(registry: PolicyRegistry) -> None:
    p = _get(registry, "陵川县", 2025)
    assert p.family_account is not None
    assert "山西医保公众号" in p.family_account.text and "医保经办机构窗口" in p.family_account.text
    assert "职工医保" in p.family_account.text
    family = _channel_names(p, "family")
    assert "山西医保公众号" in family and "医保经办机构窗口" in family
    online = _channel_names(p, "online")
    assert "微信" in online and "手机APP" in online and "正确选择参保缴费地和缴费年度" in online
    assert any("发生变更" in m.text and "医保经办机构" in m.text for m in p.moving)
    assert "户籍所在地或居住地" in p.region.enquiry.text
    assert p.eligibility == [] and p.newborn is None and p.handling_fee_ban is None


def test_lingchuan_2025_targets(registry: PolicyRegistry) -> None:
    (table,) = _get(registry, "陵川县", 2025).targets
    assert [c.name for c in table.columns] == ["2025年任务数"]
    assert len(table.rows) == 11
    assert table.rows[0].name == "崇文镇" and table.rows[0].values == {"target_2025": 51776}
    assert table.printed_total == {"target_2025": 205908}
    assert table.source.clause == "附件1"


# --- 陵川县 2023: 陵政办发〔2022〕41号 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("dibao", ("rate", 280, 70)),
        ("monitored", ("fixed", 280, 70)),
        ("returned_poor", ("rate", 315, 35)),
        ("tekun", ("full", 350, 0)),
        ("orphan", ("full", 350, 0)),
        ("youfu", ("unspecified", None, None)),
        ("severe_disability", ("unspecified", None, None)),
    ],
)
def test_lingchuan_2023_subsidies(registry: PolicyRegistry, key: str, expected: tuple) -> None:
    assert _figures(_get(registry, "陵川县", 2023), key) == expected


def test_lingchuan_2023_rules(registry: PolicyRegistry) -> None:
    p = _get(registry, "陵川县", 2023)
    assert p.document.number == "陵政办发〔2022〕41号"
    assert p.contribution.tier(None).amount == 350
    assert (p.collection.start, p.collection.end) == (D(2022, 9, 1), D(2022, 12, 25))
    assert p.collection.monthly_window is not None and p.collection.monthly_window.last_day == 25
    assert p.category("monitored").name == "易返贫致贫人口"
    assert p.category("monitored").excluded_if == ["dibao", "tekun"]
    goal = p.officials.goal
    assert goal is not None and "97%以上" in goal.text and "100%" in goal.text
    eligibility = " ".join(e.text for e in p.eligibility)
    for group in ("本县户籍", "居住证明", "中等职业学校", "宗教教职人员", "被监管人员", "武警", "灵活就业人员"):
        assert group in eligibility
    moving = " ".join(m.text for m in p.moving)
    assert "不得重复参保" in moving and "参保缴费凭证" in moving
    assert p.family_account is None  # the 2023 notice has no 家庭共济 clause


def test_lingchuan_2023_targets(registry: PolicyRegistry) -> None:
    (table,) = _get(registry, "陵川县", 2023).targets
    assert [c.name for c in table.columns] == ["2022年参保人数", "2023年任务数"]
    assert table.target_column == "target_2023"
    assert table.printed_total == {"insured_2022": 206262, "target_2023": 208325}
    assert table.rows[-1].name == "六泉乡" and table.rows[-1].values == {"insured_2022": 9891, "target_2023": 9990}


# --- 罗山县 2025: 罗政办〔2024〕42号 ----------------------------------------------------------------


def test_luoshan_standard_and_period(registry: PolicyRegistry) -> None:
    p = _get(registry, "罗山", 2025)
    assert p.document.number == "罗政办〔2024〕42号"
    assert p.contribution.tier(None).amount == 400
    assert p.fiscal_subsidy is not None and (p.fiscal_subsidy.amount, p.fiscal_subsidy.at_least) == (670, True)
    c = p.collection
    assert (c.name, c.start, c.end) == ("集中征收阶段", D(2024, 10, 1), D(2024, 12, 31))
    assert p.collection.monthly_window is None  # the notice sets no monthly window


def test_luoshan_names_groups_but_no_figures(registry: PolicyRegistry) -> None:
    p = _get(registry, "罗山县", 2025)
    assert {c.key for c in p.categories} == {
        "tekun", "orphan", "unsupported_child", "dibao", "dibao_edge", "monitored", "tuopin",
    }
    for cat in p.categories:
        assert cat.subsidy.kind == "unspecified"
        assert (cat.subsidy.amount, cat.subsidy.rate_percent, cat.personal_amount) == (None, None, None)
    assert p.category("tekun").name == "特困供养人员"
    assert p.category("dibao_edge").name == "低保边缘家庭成员"


def test_luoshan_officials(registry: PolicyRegistry) -> None:
    off = _get(registry, "罗山县", 2025).officials
    assert [(ph.name, ph.start, ph.end) for ph in off.phases] == [
        ("宣传发动阶段", None, D(2024, 9, 30)),
        ("集中征收阶段", D(2024, 10, 1), D(2024, 12, 31)),
        ("检查核对阶段", D(2024, 12, 1), D(2024, 12, 31)),
    ]
    assert "反馈给各乡镇（街道）" in (off.phases[2].text or "")
    entry = off.deadlines[0]
    assert (entry.date, entry.who) == (D(2024, 12, 30), "县税务局") and "数据录入" in entry.text
    assert [(i.deadline, i.per_person, i.basis) for i in off.incentives] == [
        (D(2024, 11, 30), 2, "按照入库总人数"),
        (D(2024, 12, 31), 1, "按照入库总人数"),
    ]
    assert off.bulletin is not None
    assert (off.bulletin.frequency_days, off.bulletin.interview_every_days) == (7, 14)
    assert off.goal is not None and "592727人" in off.goal.text and "100%" in off.goal.text


def test_luoshan_collectors_hand_over_in_full(registry: PolicyRegistry) -> None:
    duties = _get(registry, "罗山县", 2025).officials.duties
    assert any("及时全额上缴至税务部门" in d.text and d.source.clause == "四（二）" for d in duties)


def test_luoshan_channels(registry: PolicyRegistry) -> None:
    p = _get(registry, "罗山县", 2025)
    online = _channel_names(p, "online")
    for name in ("微信", "支付宝", "河南税务", "豫事办", "手机银行", "电子税务局"):
        assert name in online
    offline = _channel_names(p, "offline")
    for name in ("集中代征点", "便民服务中心", "税务窗口"):
        assert name in offline
    assert p.family_account is None and p.handling_fee_ban is None


def test_luoshan_targets(registry: PolicyRegistry) -> None:
    (table,) = _get(registry, "罗山县", 2025).targets
    assert [c.name for c in table.columns] == ["任务数", "城乡低保", "脱贫户"]
    assert table.printed_total == {"task": 592727, "dibao": 55473, "tuopin": 64657}
    assert table.rows[17].name == "宝城街道办事处"
    assert table.rows[17].values == {"task": 28583, "dibao": 4206, "tuopin": 606}
    notes = " ".join(table.notes)
    assert "前三年参保平均数" in notes and "6月25日" in notes and "脱贫不享受政策户" in notes


# --- 周集镇 2025: 周办〔2024〕46号 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("tekun", ("full", 400, 0)),
        ("dibao", ("fixed", 360, 40)),
        ("monitored", ("fixed", 200, 200)),
    ],
)
def test_zhouji_subsidies(registry: PolicyRegistry, key: str, expected: tuple) -> None:
    assert _figures(_get(registry, "周集", 2025), key) == expected


def test_zhouji_region_and_calendar(registry: PolicyRegistry) -> None:
    p = _get(registry, "周集镇", 2025)
    assert (p.region.level, p.region.county, p.region.province) == ("town", "霍邱县", "安徽省")
    assert p.category("tekun").subsidy.payer == "财政"
    assert p.category("orphan") is None  # 周集镇 names no orphan subsidy
    c = p.collection
    assert (c.start, c.end, c.monthly_window) == (D(2024, 9, 1), D(2024, 12, 31), None)
    (ext,) = c.extensions
    assert (ext.end, ext.who, ext.benefit_start) == (D(2025, 2, 28), "春节返乡的外出务工人员", "day_after_payment")
    assert p.newborn is not None and (p.newborn.days, p.newborn.coverage_from) == (90, "birth")
    assert "便民服务站" in p.region.enquiry.text


def test_zhouji_moving_and_channels(registry: PolicyRegistry) -> None:
    p = _get(registry, "周集镇", 2025)
    (moving,) = p.moving
    assert moving.text.index("暂停原参保地医保关系") < moving.text.index("参保地址变更") < moving.text.index("参保缴费")
    online = _channel_names(p, "online")
    for name in ("安徽医保公共服务", "安徽税务社保缴费", "皖事通APP"):
        assert name in online
    (village,) = [c for c in p.channels if c.kind == "offline"]
    assert "便民服务站" in village.name and "现金" in (village.detail or "")
    assert "不会使用智能手机" in (village.who or "")
    assert [c.name for c in p.channels if c.kind == "school"] == ["学校（班级）"]


def test_zhouji_village_duties(registry: PolicyRegistry) -> None:
    duties = _get(registry, "周集镇", 2025).officials.duties
    assert any("基层服务系统" in d.text and "漏录、漏缴" in d.text and d.source.clause == "七" for d in duties)


def test_zhouji_targets(registry: PolicyRegistry) -> None:
    (table,) = _get(registry, "周集镇", 2025).targets
    assert table.level == "village" and table.target_column == "plan_2025"
    assert len(table.rows) == 21 and len(table.columns) == 6
    assert table.printed_total == {
        "population": 86650, "task_2024": 82319, "paid_2024": 62183,
        "unfinished_2024": 20136, "new_plan": 3072, "plan_2025": 65255,
    }
    assert table.rows[8].name == "燎西村"
    assert table.rows[8].values["population"] == 4554 and table.rows[8].values["task_2024"] == 3747
    assert any("县内参保任务数=2024年度县内参保人数＋县新增计划数" in n for n in table.notes)


# --- 乐至县 2025: 乐府办发〔2024〕16号 --------------------------------------------------------------


def test_lezhi_tiers_and_fiscal(registry: PolicyRegistry) -> None:
    p = _get(registry, "乐至", 2025)
    assert [(t.key, t.amount) for t in p.contribution.tiers] == [("high", 540), ("low", 400)]
    assert p.fiscal_subsidy is not None and (p.fiscal_subsidy.amount, p.fiscal_subsidy.at_least) == (670, True)
    assert (p.collection.start, p.collection.end) == (D(2024, 9, 1), D(2025, 2, 28))
    assert p.collection.monthly_window is None


@pytest.mark.parametrize(
    ("key", "tier", "expected"),
    [
        ("land_requisitioned", "high", ("full", 540, 0)),
        ("youfu", "high", ("full", 540, 0)),
        ("tekun", "low", ("full", 400, 0)),
        ("severe_disability", "low", ("full", 400, 0)),
        ("family_planning", "low", ("full", 400, 0)),
        ("orphan", "low", ("full", 400, 0)),
        ("unsupported_child", "low", ("full", 400, 0)),
        ("jingjian", "low", ("full", 400, 0)),
        ("civil_injured_worker", "low", ("full", 400, 0)),
        ("dibao", "low", ("rate", 300, 100)),
        ("monitored", "low", ("rate", 300, 100)),
        ("general_disability", "low", ("rate", 200, 200)),
    ],
)
def test_lezhi_subsidies(registry: PolicyRegistry, key: str, tier: str, expected: tuple) -> None:
    p = _get(registry, "乐至县", 2025)
    assert p.category(key).subsidy.tier == tier
    assert _figures(p, key) == expected


def test_lezhi_rules(registry: PolicyRegistry) -> None:
    p = _get(registry, "乐至县", 2025)
    assert p.category("dibao").subsidy.rate_percent == 75
    assert p.category("general_disability").subsidy.rate_percent == 50
    assert p.multiple_categories is not None and p.multiple_categories.rule == "highest_only"
    assert "就高不就低" in (p.multiple_categories.source.quote or "")
    assert p.handling_fee_ban is not None
    for fee in ("手续费", "管理费", "代办费"):
        assert fee in p.handling_fee_ban.text
    assert p.family_account is not None
    assert "资阳市" in p.family_account.text and "四川医保APP" in p.family_account.text
    assert "小程序" in p.family_account.text


def test_lezhi_channels(registry: PolicyRegistry) -> None:
    p = _get(registry, "乐至县", 2025)
    bank = _channel_names(p, "bank")
    for name in ("中国银行", "农业银行", "工商银行", "建设银行", "邮储银行", "农村商业银行", "柜面", "手机银行APP"):
        assert name in bank
    online = _channel_names(p, "online")
    for name in ("四川省电子税务局", "四川税务", "资阳税务", "微信", "支付宝"):
        assert name in online
    assert "POS机" in _channel_names(p, "offline") and "现金" in _channel_names(p, "offline")
    (school,) = [c for c in p.channels if c.kind == "school"]
    assert "技校" in (school.who or "")
    registration = _channel_names(p, "registration")
    for name in ("四川医保公共服务平台", "国家医保服务平台地方专区", "四川省政务服务网", "便民服务中心"):
        assert name in registration


# --- across the five files ------------------------------------------------------------------------


def test_rules_only_where_a_notice_states_them(registry: PolicyRegistry) -> None:
    by = {p.id: p for p in registry.policies}
    assert [i for i, p in by.items() if p.handling_fee_ban] == ["lezhi-2025", "qinghe-2027"]
    assert sorted(i for i, p in by.items() if p.collection.monthly_window) == ["lingchuan-2023", "lingchuan-2025"]
    assert [i for i, p in by.items() if p.collection.extensions] == ["qinghe-2027", "zhouji-2025"]
    assert [i for i, p in by.items() if p.newborn] == ["qinghe-2027", "zhouji-2025"]
    assert [i for i, p in by.items() if p.multiple_categories] == ["lezhi-2025", "qinghe-2027"]
    assert sorted(i for i, p in by.items() if p.fiscal_subsidy) == ["lezhi-2025", "luoshan-2025", "qinghe-2027"]
    assert sorted(i for i, p in by.items() if p.family_account) == ["lezhi-2025", "lingchuan-2025", "qinghe-2027"]
    assert [i for i, p in by.items() if p.officials.incentives] == ["luoshan-2025"]
    # The rules of 国办发〔2024〕38号 only where a notice adopts them.
    for field in ("benefit_period", "waiting_period", "enrolment_incentives", "group_standards"):
        assert [i for i, p in by.items() if getattr(p, field)] == ["qinghe-2027"], field
    assert [i for i, p in by.items() if p.contribution.subsidy_basis] == ["qinghe-2027"]


@pytest.mark.parametrize(
    ("text", "name"),
    [("陵川县", "陵川县"), ("陵川", "陵川县"), ("罗山", "罗山县"), ("周集", "周集镇"), ("乐至", "乐至县")],
)
def test_region_short_forms(registry: PolicyRegistry, text: str, name: str) -> None:
    assert registry.region_name(text) == name


REGIONS = {"陵川县": "山西省", "罗山县": "河南省", "周集镇": "安徽省", "乐至县": "四川省", "青禾县": "东川省"}


def test_regions_provinces(registry: PolicyRegistry) -> None:
    assert {p.region.name: p.region.province for p in registry.policies} == REGIONS


ALIASES = {
    "dibao": ["低保", "低保户", "低保对象", "城乡低保", "城镇低保", "农村低保", "吃低保的", "低保人员"],
    "tekun": ["特困", "特困户", "特困人员", "特困供养", "特困供养人员", "五保户", "五保", "三无人员", "城市三无人员",
              "农村特困", "城镇特困"],
    "monitored": ["监测对象", "监测户", "防返贫监测对象", "防止返贫监测对象", "边缘易致贫", "脱贫不稳定",
                  "突发严重困难", "易返贫致贫", "监测人口"],
    "returned_poor": ["返贫", "返贫致贫", "致贫人口", "返贫户"],
    "orphan": ["孤儿"],
    "unsupported_child": ["事实无人抚养儿童", "无人抚养"],
    "severe_disability": ["重度残疾", "重残", "一级残疾", "二级残疾", "一二级残疾", "精神三级", "精神四级",
                          "精神残疾三级", "精神残疾四级"],
    "general_disability": ["一般残疾", "三级残疾", "四级残疾", "三四级残疾", "残疾三级", "残疾四级"],
    "youfu": ["优抚对象", "重点优抚", "优抚", "退役军人优抚"],
    "land_requisitioned": ["被征地", "失地农民", "农转非", "征地超龄"],
    "family_planning": ["计划生育特别扶助", "计生特扶", "失独", "独生子女伤残"],
    "jingjian": ["精减退休", "精减职工", "精简退休"],
    "civil_injured_worker": ["伤残民工", "民政伤残民工"],
    "dibao_edge": ["低保边缘", "低保边缘户"],
    "tuopin": ["脱贫户", "脱贫人口", "贫困户", "建档立卡"],
}


@pytest.mark.parametrize(("key", "alias"), [(k, a) for k, aliases in ALIASES.items() for a in aliases])
def test_residents_words_map_to_one_key(registry: PolicyRegistry, key: str, alias: str) -> None:
    assert registry.category_aliases()[alias] == key


def test_every_category_has_its_key_aliases_in_each_file(registry: PolicyRegistry) -> None:
    # A policy's own categories carry the shared words, so a per-policy lookup finds them too.
    for policy in registry.policies:
        for cat in policy.categories:
            assert set(ALIASES.get(cat.key, ())) <= {cat.name, *cat.aliases}, (policy.id, cat.key)


def test_sources_cite_a_clause_of_the_files_own_document(registry: PolicyRegistry) -> None:
    for policy in registry.policies:
        sources = [t.source for t in policy.contribution.tiers]
        sources += [c.source for c in policy.categories] + [c.source for c in policy.channels]
        sources += [policy.collection.source, policy.region.enquiry.source, *(t.source for t in policy.targets)]
        for source in sources:
            assert source.clause.strip(), policy.id
            assert source.doc is None, policy.id  # every figure is printed in the file's own notice


def test_no_phone_numbers_in_policy_files() -> None:
    phone = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
    for path in BUILTIN_DIR.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert not phone.search(text), path
        assert "联系电话" not in text and "分管领导名单" not in text, path
