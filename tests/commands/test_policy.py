"""`policy check` and `policy show`, run through their own argparse parser (not the `yibao` entry point)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from bot.commands import policy as commands
from bot.rules.loader import BUILTIN_DIR


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="yibao")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.fixture(autouse=True)
def _no_extra_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YIBAO_POLICY_DIRS", raising=False)


def _copy_as(folder: Path, policy_id: str, region: str, short: str, **changes: object) -> Path:
    data = yaml.safe_load((BUILTIN_DIR / "zhouji-2025.yaml").read_text(encoding="utf-8"))
    data.update(id=policy_id, **changes)
    data["region"].update(name=region, short=[short])
    path = folder / f"{policy_id}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- policy check ---------------------------------------------------------------------------------


def test_check_lists_the_real_disagreement(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("policy", "check") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "共 6 个政策文件：0 个错误，1 个警告"
    (warning,) = out[:-1]
    assert warning.startswith("[警告] ") and "luoshan-2025.yaml" in warning
    assert "《罗山县2025年度城乡居民医疗保险参保目标分解表》" in warning and "「任务数」" in warning
    assert "各行相加为592725，印刷合计为592727" in warning


def test_check_reads_policy_dirs_and_counts_their_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy_as(tmp_path, "testtown-2025", "测试镇", "测试")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["targets"][0]["printed_total"]["new_plan"] = 3000
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(tmp_path))
    assert run("policy", "check") == 0
    out = capsys.readouterr().out
    assert "testtown-2025.yaml targets[villages].new_plan" in out
    assert "各行相加为3072，印刷合计为3000（相差+72）" in out
    assert out.splitlines()[-1].startswith("共 7 个政策文件：0 个错误，2 个警告")


def test_check_prints_a_broken_file_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _copy_as(tmp_path, "testtown-2025", "测试镇", "测试", insurance_year="二〇二五")
    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(tmp_path))
    assert run("policy", "check") == 1
    out = capsys.readouterr().out
    assert f"[错误] {broken}：insurance_year：应为整数" in out
    assert "各行相加为592725" in out  # the other files are still checked
    assert "1 个错误，1 个警告" in out.splitlines()[-1]


def test_check_reports_a_cross_file_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _copy_as(tmp_path, "zhouji-2025-copy", "周集镇", "周集")  # a second 周集镇 2025
    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(tmp_path))
    assert run("policy", "check") == 1
    out = capsys.readouterr().out
    assert "zhouji-2025-copy.yaml：insurance_year：周集镇 2025 年度的政策已在 zhouji-2025 中" in out


# --- policy show ----------------------------------------------------------------------------------


def test_show_lingchuan_2025(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("policy", "show", "陵川", "2025") == 0
    out = capsys.readouterr().out
    assert out.startswith("【陵川县 2025年度城乡居民基本医疗保险】")
    assert "陵政办函〔2024〕16号" in out
    assert "个人缴费标准：400元/人/年" in out
    assert "· 城乡低保对象 [dibao]\n    资助：按80%资助320元（个人缴费标准400元，由医疗救助基金支付）\n" in out
    assert "个人缴费：80元（400−320）" in out
    assert "依据：陵政办函〔2024〕16号 四、4" in out
    assert "集中参保缴费期：2024年9月1日至2025年2月25日" in out
    assert "每月可缴日：每月1—25日" in out
    assert "· 在乡重点优抚对象 [youfu]\n    资助：通知未列资助金额\n    说明：继续执行原有的参保资助政策\n" in out
    assert "财政补助：通知未规定" in out
    assert "依据：陵政办函〔2024〕16号 附件1" in out
    assert "校验提示" not in out


def test_show_aligns_table_with_printed_and_computed_totals(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("policy", "show", "罗山县", "2025年度") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    printed = next(line for line in lines if line.strip().startswith("印刷合计"))
    summed = next(line for line in lines if line.strip().startswith("各行相加"))
    assert printed.split()[1:] == ["592727", "55473", "64657"]
    assert summed.split()[1:] == ["592725", "55473", "64657"]
    assert len(printed) == len(summed)  # right-aligned under the same columns
    assert "差-2" in out
    assert "以奖代补：截至2024年11月30日完成目标任务的，按照入库总人数每人奖励2元" in out
    assert "通报：每7天通报一次，每14天约谈后进" in out
    assert "\n校验提示\n" in out and "592725" in out.split("校验提示")[1]


def test_show_town_with_extension_and_newborn(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("policy", "show", "周集镇", "2025") == 0
    out = capsys.readouterr().out
    assert "周办〔2024〕46号" in out
    assert "延长期：春节返乡的外出务工人员可延至2025年2月28日，延长期缴费的自参保缴费次日起享受待遇" in out
    assert "新生儿参保：出生90天内完成参保缴费，自出生之日起享受待遇" in out
    assert "个人缴费：40元（400−360）" in out


def test_show_lezhi_tiers_and_fee_ban(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("policy", "show", "乐至县", "2025") == 0
    out = capsys.readouterr().out
    assert "高档次：540元/人/年" in out and "低档次：400元/人/年" in out
    assert "同时符合多类资助条件：就高不就低" in out
    assert "不得以任何理由和名义收取手续费、管理费、代办费" in out


def test_show_unknown_region_lists_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("policy", "show", "北京", "2025") == 2
    err = capsys.readouterr().err
    assert "未知地区“北京”" in err
    for known in ("陵川县（陵川）2023、2025年度", "罗山县（罗山）2025年度", "周集镇（周集）2025年度"):
        assert known in err
    assert "乐至县（乐至）2025年度" in err


@pytest.mark.parametrize("year", ["2024", "明年"])
def test_show_unknown_year_lists_known_years(capsys: pytest.CaptureFixture[str], year: str) -> None:
    assert run("policy", "show", "陵川县", year) == 2
    err = capsys.readouterr().err
    assert f"陵川县没有“{year}”年度的政策文件" in err and "已有年度：2023、2025" in err
