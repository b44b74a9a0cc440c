"""The validator: the one real disagreement in the notices, and each check on a doctored copy.

Table sums hand-checked against the notices:
- 罗山县 附件 任务数: the twenty rows add up to 592725, the printed 合计 is 592727 (off by 2);
  its 城乡低保 (55473) and 脱贫户 (64657) columns agree.
- 陵川县 2025 附件1 (205908), 陵川县 2023 附件1 (206262, 208325) and all six numeric columns of the
  周集镇 village plan agree with their printed totals.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules.loader import PolicyRegistry, load_registry
from bot.rules.schema import Extension, Policy, SourcedText, Subsidy, TableRow
from bot.rules.validate import Finding, check_policy, check_registry, column_sum


@pytest.fixture(scope="module")
def registry() -> PolicyRegistry:
    return load_registry()


def _policy(registry: PolicyRegistry, region: str, year: int) -> Policy:
    policy = registry.get(region, year)
    assert policy is not None
    return policy


def _with_category(policy: Policy, key: str, **update: object) -> Policy:
    cats = [c.model_copy(update=update) if c.key == key else c for c in policy.categories]
    return policy.model_copy(update={"categories": cats})


def _only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# --- the notices as encoded ---------------------------------------------------------------------


def test_the_notices_have_exactly_one_disagreement(registry: PolicyRegistry) -> None:
    finding = _only(check_registry(registry))
    assert finding.level == "warning"
    assert finding.file.endswith("luoshan-2025.yaml")
    assert finding.where == "targets[townships].task"
    assert finding.message == (
        "表 townships《罗山县2025年度城乡居民医疗保险参保目标分解表》 列 task「任务数」："
        "各行相加为592725，印刷合计为592727（相差-2）"
    )


def test_luoshan_task_column_sum(registry: PolicyRegistry) -> None:
    table = _policy(registry, "罗山县", 2025).targets[0]
    assert len(table.rows) == 20
    assert column_sum(table, "task") == 592725
    assert table.printed_total["task"] == 592727


@pytest.mark.parametrize(
    ("region", "year", "column", "total"),
    [
        ("陵川县", 2025, "target_2025", 205908),
        ("陵川县", 2023, "insured_2022", 206262),
        ("陵川县", 2023, "target_2023", 208325),
        ("罗山县", 2025, "dibao", 55473),
        ("罗山县", 2025, "tuopin", 64657),
        ("周集镇", 2025, "population", 86650),
        ("周集镇", 2025, "task_2024", 82319),
        ("周集镇", 2025, "paid_2024", 62183),
        ("周集镇", 2025, "unfinished_2024", 20136),
        ("周集镇", 2025, "new_plan", 3072),
        ("周集镇", 2025, "plan_2025", 65255),
    ],
)
def test_agreeing_columns_give_no_warning(
    registry: PolicyRegistry, region: str, year: int, column: str, total: int
) -> None:
    policy = _policy(registry, region, year)
    (table,) = policy.targets
    assert table.printed_total[column] == total
    assert column_sum(table, column) == total
    findings = check_policy(policy, f"{policy.id}.yaml")
    assert not [f for f in findings if f.where.endswith(f".{column}")]


def test_other_files_are_clean(registry: PolicyRegistry) -> None:
    for policy in registry.policies:
        if policy.id != "luoshan-2025":
            assert check_policy(policy, registry.paths[policy.id]) == []


# --- amounts --------------------------------------------------------------------------------------


def test_subsidy_above_the_tier_is_an_error(registry: PolicyRegistry) -> None:
    policy = _with_category(
        _policy(registry, "周集镇", 2025), "dibao", subsidy=Subsidy(kind="fixed", amount=460), personal_amount=None
    )
    finding = _only(check_policy(policy, "zhouji-2025.yaml"))
    assert finding.level == "error"
    assert finding.where == "categories[dibao].subsidy"
    assert "460" in finding.message and "-60" in finding.message


def test_printed_personal_amount_must_equal_tier_minus_subsidy(registry: PolicyRegistry) -> None:
    policy = _with_category(_policy(registry, "陵川县", 2025), "dibao", personal_amount=90)
    finding = _only(check_policy(policy, "lingchuan-2025.yaml"))
    assert finding.level == "warning"
    assert finding.where == "categories[dibao].personal_amount"
    assert "印为90元" in finding.message and "应为80元" in finding.message


def test_personal_amount_uses_the_categorys_tier(registry: PolicyRegistry) -> None:
    # 乐至 低保: 75% of the low tier (400) is 300, personal 100; against the high tier it would be 240.
    policy = _with_category(_policy(registry, "乐至县", 2025), "dibao", personal_amount=240)
    finding = _only(check_policy(policy, "lezhi-2025.yaml"))
    assert "低档次400元" in finding.message and "应为100元" in finding.message


def test_rate_amount_must_equal_rate_times_tier(registry: PolicyRegistry) -> None:
    policy = _with_category(
        _policy(registry, "陵川县", 2025),
        "returned_poor",
        subsidy=Subsidy(kind="rate", rate_percent=90, amount=350, payer="医疗救助基金"),
        personal_amount=50,
    )
    finding = _only(check_policy(policy, "lingchuan-2025.yaml"))
    assert finding.where == "categories[returned_poor].subsidy.amount"
    assert "资助印为350元" in finding.message and "应为360元" in finding.message


def test_full_subsidy_amount_must_equal_the_tier(registry: PolicyRegistry) -> None:
    policy = _with_category(
        _policy(registry, "陵川县", 2023), "tekun", subsidy=Subsidy(kind="full", amount=400), personal_amount=None
    )
    finding = _only(check_policy(policy, "lingchuan-2023.yaml"))
    assert finding.where == "categories[tekun].subsidy.amount"
    assert "400" in finding.message and "350" in finding.message


def test_unspecified_subsidy_with_a_personal_amount_is_flagged(registry: PolicyRegistry) -> None:
    policy = _with_category(_policy(registry, "罗山县", 2025), "dibao", personal_amount=80)
    finding = _only([f for f in check_policy(policy, "luoshan-2025.yaml") if f.where.startswith("categories")])
    assert finding.where == "categories[dibao].personal_amount"


def test_unknown_excluded_key_is_flagged(registry: PolicyRegistry) -> None:
    policy = _with_category(_policy(registry, "陵川县", 2025), "monitored", excluded_if=["dibao", "tekunn"])
    finding = _only(check_policy(policy, "lingchuan-2025.yaml"))
    assert finding.where == "categories[monitored].excluded_if"
    assert "tekunn" in finding.message


# --- dates ----------------------------------------------------------------------------------------


def test_phase_ending_before_it_starts_is_an_error(registry: PolicyRegistry) -> None:
    policy = _policy(registry, "罗山县", 2025)
    phases = list(policy.officials.phases)
    phases[2] = phases[2].model_copy(update={"start": dt.date(2024, 12, 31), "end": dt.date(2024, 12, 1)})
    officials = policy.officials.model_copy(update={"phases": phases})
    findings = check_policy(policy.model_copy(update={"officials": officials}), "luoshan-2025.yaml")
    errors = [f for f in findings if f.level == "error"]
    assert [f.where for f in errors] == ["officials.phases[2]"]


def test_deadline_far_from_the_collection_is_flagged(registry: PolicyRegistry) -> None:
    policy = _policy(registry, "罗山县", 2025)
    late = policy.officials.deadlines[0].model_copy(update={"date": dt.date(2025, 12, 30)})
    officials = policy.officials.model_copy(update={"deadlines": [late]})
    findings = check_policy(policy.model_copy(update={"officials": officials}), "luoshan-2025.yaml")
    assert [f.where for f in findings if f.where.startswith("officials")] == ["officials.deadlines[0].date"]


def test_incentive_far_from_the_collection_is_flagged(registry: PolicyRegistry) -> None:
    policy = _policy(registry, "罗山县", 2025)
    early = policy.officials.incentives[0].model_copy(update={"deadline": dt.date(2023, 11, 30)})
    officials = policy.officials.model_copy(update={"incentives": [early]})
    findings = check_policy(policy.model_copy(update={"officials": officials}), "luoshan-2025.yaml")
    assert [f.where for f in findings if f.where.startswith("officials")] == ["officials.incentives[0].deadline"]


def test_extension_not_after_the_collection_end_is_an_error(registry: PolicyRegistry) -> None:
    policy = _policy(registry, "周集镇", 2025)
    ext = Extension(end=dt.date(2024, 12, 31), who="春节返乡的外出务工人员", source=policy.collection.source)
    collection = policy.collection.model_copy(update={"extensions": [ext]})
    finding = _only(check_policy(policy.model_copy(update={"collection": collection}), "zhouji-2025.yaml"))
    assert (finding.level, finding.where) == ("error", "collection.extensions[0].end")


def test_collection_end_outside_the_monthly_window_is_flagged(registry: PolicyRegistry) -> None:
    policy = _policy(registry, "陵川县", 2025)
    collection = policy.collection.model_copy(update={"end": dt.date(2025, 2, 28)})
    finding = _only(check_policy(policy.model_copy(update={"collection": collection}), "lingchuan-2025.yaml"))
    assert finding.where == "collection.monthly_window"


def test_document_date_must_fit_the_insurance_year(registry: PolicyRegistry) -> None:
    policy = _policy(registry, "乐至县", 2025)
    document = policy.document.model_copy(update={"date": dt.date(2022, 9, 5)})
    finding = _only(check_policy(policy.model_copy(update={"document": document}), "lezhi-2025.yaml"))
    assert finding.where == "document.date"
    assert "2022-09-05" in finding.message


# --- tables and text ------------------------------------------------------------------------------


def test_missing_cell_is_reported_with_the_gap(registry: PolicyRegistry) -> None:
    policy = _policy(registry, "陵川县", 2025)
    table = policy.targets[0]
    rows = [TableRow(name=table.rows[0].name, values={"target_2025": None}), *table.rows[1:]]
    targets = [table.model_copy(update={"rows": rows})]
    finding = _only(check_policy(policy.model_copy(update={"targets": targets}), "lingchuan-2025.yaml"))
    assert finding.where == "targets[townships].target_2025"
    assert "各行相加为154132，印刷合计为205908" in finding.message  # 205908 - 51776 (崇文镇)
    assert "1行无数据" in finding.message


def test_phone_number_in_a_policy_is_an_error(registry: PolicyRegistry) -> None:
    policy = _policy(registry, "周集镇", 2025)
    phone = "139" + "0000" + "1234"  # fictional; built at run time so no number sits in the repository
    enquiry = SourcedText(text=f"村便民服务站 {phone}", source=policy.region.enquiry.source)
    region = policy.region.model_copy(update={"enquiry": enquiry})
    finding = _only(check_policy(policy.model_copy(update={"region": region}), "zhouji-2025.yaml"))
    assert (finding.level, finding.where) == ("error", "region.enquiry.text")


# --- across files ---------------------------------------------------------------------------------


def test_short_form_for_two_regions_is_an_error(registry: PolicyRegistry) -> None:
    zhouji = _policy(registry, "周集镇", 2025)
    other = zhouji.model_copy(
        update={"id": "other-2025", "region": zhouji.region.model_copy(update={"name": "周集乡", "short": ["周集"]})}
    )
    doubled = PolicyRegistry(policies=[zhouji, other], paths={"zhouji-2025": "a.yaml", "other-2025": "b.yaml"})
    finding = _only([f for f in check_registry(doubled) if f.where == "region.short"])
    assert finding.level == "error"
    assert "周集" in finding.message and "周集镇" in finding.message and "周集乡" in finding.message


def test_overlapping_years_of_one_region_are_flagged(registry: PolicyRegistry) -> None:
    y2025 = _policy(registry, "陵川县", 2025)
    collection = y2025.collection.model_copy(update={"start": dt.date(2025, 2, 1), "end": dt.date(2025, 12, 25)})
    y2026 = y2025.model_copy(update={"id": "lingchuan-2026", "insurance_year": 2026, "collection": collection})
    reg = PolicyRegistry(policies=[y2025, y2026], paths={"lingchuan-2025": "a.yaml", "lingchuan-2026": "b.yaml"})
    findings = [f for f in check_registry(reg) if f.where == "collection.start"]
    assert _only(findings).file == "b.yaml"

