"""A figure of 0 checked through `yibao ask` (特困户是不是交0元, 低保是不是不用交钱, 是不是免费): 对, 不对 or 说不准
first, as for any other figure checked, then the notice's figure."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.nlu.check import amounts


def ask(capsys: pytest.CaptureFixture[str], region: str, text: str, on: str = "2024-11-20") -> list[str]:
    assert main(["ask", "--region", region, "--date", on, text]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("text", ["特困户是不是交0元", "特困户交0块吗", "五保户交零块吗", "特困是不是免交",
                                  "特困人员是不是一分钱不用交"])
def test_zero_for_a_group_the_notice_pays_in_full_is_right(capsys, text):
    # 陵川县 四、3: 特困人员 由医疗救助基金全额资助, 个人缴纳0元.
    out = ask(capsys, "陵川县", text)
    assert out[0].startswith("对，您个人不用交钱。【陵川县")
    assert "您个人缴纳0元" in out[1] and "依据：陵政办函〔2024〕16号 四、3" in "\n".join(out)


@pytest.mark.parametrize(("region", "text", "verdict"), [
    # 陵川县 四、4: 城乡低保对象 个人缴纳80元; 一: 400元.
    ("陵川县", "低保是不是交0元", "不对，通知写的是80元。"),
    ("陵川县", "低保是不是不用交钱", "不对，通知写的是80元。"),
    ("陵川县", "是不是交0元", "不对，通知写的是400元。"),
    ("陵川县", "是不是免费", "不对，通知写的是400元。"),
    # 乐至县 二（三）3（1）: 低保 个人缴纳100元.
    ("乐至县", "低保户是不是交0元", "不对，通知写的是100元。"),
])
def test_zero_where_the_notice_gives_a_figure_is_wrong(capsys, region, text, verdict):
    out = ask(capsys, region, text)
    assert out[0].startswith(verdict)


def test_zero_where_the_notice_gives_no_figure_cannot_be_told(capsys):
    # 罗山县 names 城乡低保对象 without an amount.
    out = ask(capsys, "罗山县", "低保户是不是交0元")
    assert out[0].startswith("说不准：通知没有写明您这种情况的具体金额")
    assert "县医疗保障局" in "\n".join(out)


@pytest.mark.parametrize(("text", "said"), [
    ("特困户是不是交0元", (0,)), ("交零元吗", (0,)), ("是不是免交", (0,)), ("是不是一分钱不用交", (0,)),
    ("是不是交300", (300,)), ("10号截止吗", ()), ("零报销吗", ()),
])
def test_the_figure_checked(text, said):
    assert amounts(text) == said
