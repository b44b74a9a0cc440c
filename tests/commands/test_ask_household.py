"""A household's fee through `yibao ask` (我家4口人交多少, 一家三口要交多少钱, 两个人多少钱): the total for that many
people at the notice's per-person figure, with the figure per person, and the assumption it rests on, in at
most 6 lines."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.nlu.household import people


def ask(capsys: pytest.CaptureFixture[str], region: str, text: str, on: str = "2024-11-20") -> list[str]:
    assert main(["ask", "--region", region, "--date", on, text]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(("region", "text", "total", "source"), [
    # 陵川县 一: 个人缴费标准400元; 罗山县 一: 400元; 周集镇 4: 400元.
    ("陵川县", "我家4口人交多少", "4人共1600元（每人400元）。", "陵政办函〔2024〕16号 一"),
    ("陵川县", "一家三口要交多少钱", "3人共1200元（每人400元）。", "陵政办函〔2024〕16号 一"),
    ("罗山县", "两个人多少钱", "2人共800元（每人400元）。", "罗政办〔2024〕42号 一"),
    ("周集镇", "老两口一年交多少", "2人共800元（每人400元）。", "周办〔2024〕46号 4"),
    # 乐至县 二（二）: 高档次540元、低档次400元.
    ("乐至县", "我们家五口人交多少钱", "5人共：高档次2700元、低档次2000元（每人540元/400元）。",
     "乐府办发〔2024〕16号 二（二）"),
    ("乐至县", "高档两个人多少钱", "2人共1080元（每人540元，按高档次）。", "乐府办发〔2024〕16号 二（二）"),
])
def test_a_households_total_comes_first_with_the_figure_per_person(capsys, region, text, total, source):
    out = ask(capsys, region, text)
    assert out[1] == total
    assert out[2].startswith("这是按家人都不属于资助对象算的")
    assert any(line.startswith(f"依据：{source}") for line in out)
    assert len(out) <= 6


def test_the_assumption_names_the_notices_own_subsidised_groups(capsys):
    out = ask(capsys, "陵川县", "我家4口人交多少")
    assert "特困人员" in out[2] and "其个人缴费更少" in out[2]


def test_a_household_of_one_subsidised_group_totals_its_own_figure(capsys):
    # 陵川县 四、4: 城乡低保对象 个人缴纳80元.
    out = ask(capsys, "陵川县", "我家低保户3口人交多少")
    assert out[1].startswith("3人共240元（每人80元") and "您个人缴纳80元" in out[1]
    assert len(out) <= 6


def test_no_total_where_the_notice_gives_no_figure_or_the_count_is_unclear(capsys):
    # 罗山县 names 低保 without an amount: no total is made up.
    out = ask(capsys, "罗山县", "我家低保户3口人交多少")
    assert "人共" not in "\n".join(out) and "通知未写明资助金额" in "\n".join(out)
    out = ask(capsys, "陵川县", "一个人几块钱")
    assert "人共" not in "\n".join(out) and "400元" in out[1]


@pytest.mark.parametrize(("text", "count"), [
    ("我家4口人交多少", 4), ("一家三口要交多少钱", 3), ("两个人多少钱", 2), ("老两口交多少", 2),
    ("家里五口人一年得多少", 5), ("三个人一共多少钱", 3), ("我们俩交多少", 2),
    ("一个人几块钱", None), ("个人缴费多少", None), ("人均多少", None), ("我家4口人，2个低保", None),
])
def test_the_count_of_people_asked_for(text, count):
    assert people(text) == count


@pytest.mark.parametrize(("text", "verdict"), [
    ("4口人是不是交1600", "对，是1600元。"),
    ("我家3口人是不是交1000元", "不对，通知写的是400元、1200元，不是1000元。"),
])
def test_a_households_total_checked_is_judged_against_the_total(capsys, text, verdict):
    out = ask(capsys, "陵川县", text)
    assert out[0].startswith(verdict)
