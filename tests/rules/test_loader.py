"""The loader accepts the five notices and refuses a broken file naming file, key and problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.rules.loader import BUILTIN_DIR, PolicyError, load_policy_file, load_registry

POLICY_IDS = ["lingchuan-2023", "lingchuan-2025", "luoshan-2025", "zhouji-2025", "lezhi-2025", "qinghe-2027"]


def _raw(policy_id: str) -> dict:
    return yaml.safe_load((BUILTIN_DIR / f"{policy_id}.yaml").read_text(encoding="utf-8"))


def _write(folder: Path, name: str, data: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _problems(exc: pytest.ExceptionInfo[PolicyError]) -> dict[str, str]:
    return dict(exc.value.problems)


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_each_builtin_file_loads(policy_id: str) -> None:
    policy = load_policy_file(BUILTIN_DIR / f"{policy_id}.yaml")
    assert policy.id == policy_id
    assert policy.insurance_year == int(policy_id.rsplit("-", 1)[1])


def test_registry_holds_the_builtin_notices() -> None:
    registry = load_registry()
    assert sorted(p.id for p in registry.policies) == sorted(POLICY_IDS)
    assert set(registry.regions()) == {"陵川县", "罗山县", "周集镇", "乐至县", "青禾县"}
    assert [p.insurance_year for p in registry.for_region("陵川")] == [2023, 2025]


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken-2025.yaml"
    path.write_text("id: broken-2025\ninsurance_year: 2025\ndocument: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy_file(path)
    assert exc.value.path == path
    (where, message), = exc.value.problems
    assert where == "第 4 行"
    assert "不是有效的 YAML" in message
    assert "broken-2025.yaml" in str(exc.value)


def test_missing_key_is_named(tmp_path: Path) -> None:
    data = _raw("zhouji-2025")
    del data["collection"]
    path = _write(tmp_path, "zhouji-2025", data)
    with pytest.raises(PolicyError) as exc:
        load_policy_file(path)
    assert _problems(exc) == {"collection": "缺少必填项"}
    assert str(path) in str(exc.value)


def test_negative_tier_amount_is_refused(tmp_path: Path) -> None:
    data = _raw("lezhi-2025")
    data["contribution"]["tiers"][1]["amount"] = -400
    with pytest.raises(PolicyError) as exc:
        load_policy_file(_write(tmp_path, "lezhi-2025", data))
    assert _problems(exc)["contribution.tiers[1].amount"] == "应不小于 0"


def test_negative_personal_amount_is_refused(tmp_path: Path) -> None:
    data = _raw("lingchuan-2025")
    data["categories"][3]["personal_amount"] = -80  # 城乡低保对象
    with pytest.raises(PolicyError) as exc:
        load_policy_file(_write(tmp_path, "lingchuan-2025", data))
    assert _problems(exc)["categories[3].personal_amount"] == "应不小于 0"


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    data = _raw("luoshan-2025")
    data["collection"]["monthly_cutoff"] = 25
    with pytest.raises(PolicyError) as exc:
        load_policy_file(_write(tmp_path, "luoshan-2025", data))
    assert _problems(exc) == {"collection.monthly_cutoff": "不认识的字段（拼写错误，或这一版本不支持）"}


def test_rate_without_percent_is_refused(tmp_path: Path) -> None:
    data = _raw("lingchuan-2025")
    del data["categories"][3]["subsidy"]["rate_percent"]
    with pytest.raises(PolicyError) as exc:
        load_policy_file(_write(tmp_path, "lingchuan-2025", data))
    assert _problems(exc)["categories[3].subsidy"] == "按比例资助（kind: rate）须写明比例 rate_percent"


def test_id_must_match_file_name(tmp_path: Path) -> None:
    data = _raw("zhouji-2025")
    with pytest.raises(PolicyError) as exc:
        load_policy_file(_write(tmp_path, "zhouji-2026", data))
    assert _problems(exc)["id"] == "id「zhouji-2025」与文件名「zhouji-2026」不一致"


def _other_town(tmp_path: Path) -> dict:
    """A valid policy for a region that does not exist in the built-in folder."""
    data = _raw("zhouji-2025")
    data["id"] = "testtown-2025"
    data["region"]["name"] = "测试镇"
    data["region"]["short"] = ["测试"]
    return data


def test_alias_meaning_two_keys_is_refused(tmp_path: Path) -> None:
    data = _other_town(tmp_path)
    tekun = data["categories"][0]
    assert tekun["key"] == "tekun"
    tekun["aliases"].append("低保户")  # means dibao in every other file
    path = _write(tmp_path, "testtown-2025", data)
    with pytest.raises(PolicyError) as exc:
        load_registry([tmp_path])
    assert exc.value.path == path
    message = _problems(exc)["categories[0].aliases"]
    assert "「低保户」" in message and "「dibao」" in message and "「tekun」" in message


def test_category_name_is_held_to_the_same_key(tmp_path: Path) -> None:
    data = _other_town(tmp_path)
    data["categories"][2]["name"] = "低保对象"  # the monitored category, named like 周集镇's dibao
    _write(tmp_path, "testtown-2025", data)
    with pytest.raises(PolicyError) as exc:
        load_registry([tmp_path])
    assert "「低保对象」在 lezhi-2025 中指「dibao」" in _problems(exc)["categories[2].aliases"]


def test_a_valid_extra_folder_is_loaded(tmp_path: Path) -> None:
    _write(tmp_path, "testtown-2025", _other_town(tmp_path))
    registry = load_registry([tmp_path])
    assert registry.get("测试", 2025) is not None
    assert len(registry.policies) == len(POLICY_IDS) + 1


def test_duplicate_region_year_is_refused(tmp_path: Path) -> None:
    data = _raw("lingchuan-2025")
    data["id"] = "lingchuan-2025-copy"
    path = _write(tmp_path, "lingchuan-2025-copy", data)
    with pytest.raises(PolicyError) as exc:
        load_registry([tmp_path])
    assert exc.value.path == path
    assert _problems(exc) == {"insurance_year": "陵川县 2025 年度的政策已在 lingchuan-2025 中"}


def test_duplicate_id_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "zhouji-2025", _raw("zhouji-2025"))
    with pytest.raises(PolicyError) as exc:
        load_registry([tmp_path])
    assert "已从" in _problems(exc)["id"] and "加载过" in _problems(exc)["id"]


def test_every_problem_is_told_in_chinese(tmp_path: Path) -> None:
    """A policy author reads the refusal: each problem of a file broken in many ways is a Chinese sentence."""
    data = _raw("lezhi-2025")
    data["insurance_year"] = "明年"  # not a number
    data["contribution"]["tiers"][0]["amount"] = -1
    data["contribution"]["tiers"][1]["name"] = ["高", "档"]  # not a text
    data["categories"][0]["subsidy"] = {"kind": "fixed"}  # no amount
    data["collection"]["end"] = "2024-08-01"  # before it starts
    data["spelling_mistake"] = 1
    del data["document"]
    with pytest.raises(PolicyError) as exc:
        load_policy_file(_write(tmp_path, "lezhi-2025", data))
    problems = _problems(exc)
    assert len(problems) >= 6
    for where, message in problems.items():
        assert re.search(r"[\u4e00-\u9fff]", message), (where, message)
        assert not re.search(r"[A-Za-z]{3,} [a-z]{3,}", message.replace("kind: fixed", "")), (where, message)
    assert problems["document"] == "缺少必填项"
    assert problems["categories[0].subsidy"] == "定额资助（kind: fixed）须写明金额 amount"
