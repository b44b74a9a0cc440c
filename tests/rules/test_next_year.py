"""The rules next year's notices carry (issue 17), on 青禾县 2027 and on doctored copies: phone numbers in
every written form, county-defined categories, and what the schema and the loader refuse."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.rules.loader import BUILTIN_DIR, PolicyError, PolicyRegistry, load_registry
from bot.rules.schema import Category, Policy, SourcedText, Subsidy, TableColumn, TableRow, TargetTable
from bot.rules.validate import check_policy, find_phones

NOTICE = Path(__file__).resolve().parents[2] / "docs" / "notices" / "qinghe-2027.txt"


@pytest.fixture(scope="module")
def registry() -> PolicyRegistry:
    return load_registry()


@pytest.fixture(scope="module")
def qinghe(registry: PolicyRegistry) -> Policy:
    policy = registry.get("青禾县", 2027)
    assert policy is not None
    return policy


def _contact_lines() -> list[str]:
    """The notice's contact list (附件) and hotline: each line carries one fictional number."""
    text = NOTICE.read_text(encoding="utf-8")
    table = text.split("附件：")[1]
    return [line for line in table.splitlines() if "电话" in line or "\t" in line][1:]


def test_the_notice_writes_numbers_in_several_forms() -> None:
    lines = _contact_lines()
    assert len(lines) == 6
    assert any("（" in line for line in lines) and any("+86" in line for line in lines)
    assert any("０" in line for line in lines) and any(" 555 " in line for line in lines)
    assert all("0000" in unicodedata.normalize("NFKC", line) for line in lines)  # an area code that does not exist


@pytest.mark.parametrize("line", _contact_lines())
def test_every_form_in_the_notice_is_found(line: str) -> None:
    assert find_phones(line), line


@pytest.mark.parametrize(
    "text",
    [  # fictional numbers, built at run time so that no whole number sits in the repository
        "139" + "0000" + "0000",
        "139-0000-0000",
        "139 0000 0000",
        "+86 139 0000 0000",
        "+86-139" + "0000" + "0000",
        "0086139" + "0000" + "0000",
        "１３９００００００００",
        "（００００）５５５０１２３",
        "(0000) 555 0123",
        "0000-5550123",
        "0000 5550 1234",
        "联系电话：5550123",
        "咨询热线 555-0123",
    ],
)
def test_phone_forms_are_found(text: str) -> None:
    assert find_phones(f"村便民服务站{text}（工作日）"), text


@pytest.mark.parametrize(
    "text",
    [
        "2024年9月1日至2025年2月25日",
        "2026-09-01至2026-12-31",
        "每月1—25日可缴",
        "目标数为592727人",
        "青政办发〔2026〕31号",
        "医保服务热线12393",
        "个人缴费400元，财政补助不低于700元",
        "身份证号码 41152419900101123X",
    ],
)
def test_figures_that_are_not_phones_pass(text: str) -> None:
    assert find_phones(text) == []


def test_a_phone_in_a_policy_text_is_an_error(qinghe: Policy) -> None:
    enquiry = SourcedText(text="县医保局（0000）5550100", source=qinghe.region.enquiry.source)
    region = qinghe.region.model_copy(update={"enquiry": enquiry})
    findings = check_policy(qinghe.model_copy(update={"region": region}), "qinghe-2027.yaml")
    assert [(f.level, f.where) for f in findings] == [("error", "region.enquiry.text")]


def _table(qinghe: Policy, columns: list[TableColumn], rows: list[TableRow]) -> Policy:
    table = TargetTable(key="contacts", title="联系方式", level="township", target_column=columns[0].key,
                        columns=columns, rows=rows, source=qinghe.collection.source)
    return qinghe.model_copy(update={"targets": [table]})


def test_phones_inside_a_table_are_errors(qinghe: Policy) -> None:
    columns = [TableColumn(key="target", name="任务数"), TableColumn(key="tel", name="联系电话")]
    mobile = int("139" + "0000" + "0000")
    rows = [TableRow(name="青禾镇", values={"target": 1200, "tel": mobile}),
            TableRow(name="００００－５５５０１２３", values={"target": 800, "tel": None})]
    findings = check_policy(_table(qinghe, columns, rows), "qinghe-2027.yaml")
    errors = sorted(f.where for f in findings if f.level == "error")
    assert errors == ["targets[0].rows[1].name", "targets[contacts].columns[tel]", "targets[contacts].青禾镇.tel"]


def test_the_new_notice_is_clean(qinghe: Policy) -> None:
    assert check_policy(qinghe, BUILTIN_DIR / "qinghe-2027.yaml") == []


# --- county-defined categories ------------------------------------------------------------------------


def test_a_county_defined_category_loads_and_is_found_by_its_aliases(registry: PolicyRegistry, qinghe: Policy):
    fisher = qinghe.category("retired_fisher")
    assert fisher is not None and fisher.name == "退捕渔民"
    assert registry.category_aliases()["上岸渔民"] == "retired_fisher"


def test_a_county_defined_category_without_aliases_is_flagged(qinghe: Policy) -> None:
    lonely = Category(key="forest_ranger", name="护林员", subsidy=Subsidy(kind="fixed", amount=100),
                      source=qinghe.collection.source)
    findings = check_policy(qinghe.model_copy(update={"categories": [*qinghe.categories, lonely]}), "x.yaml")
    assert [(f.level, f.where) for f in findings] == [("warning", "categories[forest_ranger].aliases")]


# --- what the schema and the loader refuse --------------------------------------------------------------


def _raw() -> dict:
    return yaml.safe_load((BUILTIN_DIR / "qinghe-2027.yaml").read_text(encoding="utf-8"))


def test_subsidy_basis_on_an_unknown_tier_is_refused() -> None:
    raw = _raw()
    raw["contribution"]["subsidy_basis"]["base_tier"] = "lowest"
    with pytest.raises(ValidationError, match=r"资助计算档次 subsidy_basis\.base_tier「lowest」不在档次中"):
        Policy.model_validate(raw)


def test_a_waiting_period_benefit_needs_the_waiting_period_section() -> None:
    raw = _raw()
    del raw["waiting_period"]
    with pytest.raises(ValidationError, match=r"补缴期 写了“等待期后享受待遇”.*但文件没有等待期"):
        Policy.model_validate(raw)


def test_late_periods_must_not_overlap() -> None:
    raw = _raw()
    raw["collection"]["extensions"][1]["start"] = dt.date(2027, 2, 1)
    with pytest.raises(ValidationError, match=r"补缴期的开始日期（2027-02-01）应晚于上一时段的结束日期（2027-02-28）"):
        Policy.model_validate(raw)


def test_newborn_windows_must_grow() -> None:
    raw = _raw()
    raw["newborn"]["later"][0]["until_days"] = 60
    with pytest.raises(ValidationError, match="新生儿参保时段的截止天数 60 应大于上一时段的 90"):
        Policy.model_validate(raw)


def test_a_group_standard_key_cannot_be_a_category_key() -> None:
    raw = _raw()
    raw["group_standards"][0]["key"] = "dibao"
    with pytest.raises(ValidationError, match="特殊群体标准「dibao」与某个类别代码相同"):
        Policy.model_validate(raw)


def test_a_tier_alias_must_mean_one_tier_in_every_file(tmp_path: Path) -> None:
    raw = _raw()
    raw["id"], raw["region"]["name"], raw["region"]["short"] = "other-2027", "另县", ["另县"]
    raw["contribution"]["tiers"][0]["aliases"].append("三档")  # 三档 is high in 青禾县
    (tmp_path / "other-2027.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_registry([tmp_path])
    assert "「三档」在 qinghe-2027 中指「high」，在这里却指「low」" in str(exc.value)
