"""Issue 16's remaining kinds through `yibao ask`: a mention is context, close group names, two groups named,
a late period that has ended, helping someone pay (the same kinds as tests/wechat/test_kinds.py)."""

from __future__ import annotations

import pytest

from bot.cli import main


def ask(capsys: pytest.CaptureFixture[str], region: str, on: str, text: str) -> str:
    assert main(["ask", "--region", region, "--date", on, text]) == 0
    return capsys.readouterr().out


def test_working_away_is_context_when_the_fee_is_asked(capsys):
    out = ask(capsys, "陵川县", "2024-11-10", "我在外地打工，低保户今年交多少")
    assert "您个人缴纳80元" in out and "延长" not in out


@pytest.mark.parametrize(("text", "want", "never"), [
    ("我是防返贫监测对象交多少", "您个人缴纳120元", "40元"),
    ("监测户交多少", "您个人缴纳120元", "40元"),
    ("我是返贫致贫人口交多少", "您个人缴纳40元", "120元"),
])
def test_close_group_names_are_never_confused(capsys, text, want, never):
    out = ask(capsys, "陵川县", "2024-11-10", text)
    assert want in out and never not in out and "陵政办函〔2024〕16号" in out


def test_two_groups_named_are_told_which_rule_applies(capsys):
    out = ask(capsys, "陵川县", "2024-11-10", "我家既是低保户又是返贫致贫人口，交多少")
    assert "城乡低保对象（个人缴纳80元）" in out and "返贫致贫人口（个人缴纳40元）" in out
    assert "通知未规定同时符合多种资助条件时按哪一种计算" in out


@pytest.mark.parametrize(("region", "on", "ended"), [
    ("周集镇", "2025-03-05", ["春节返乡的外出务工人员的延长缴费期已于2025年2月28日结束"]),
    ("青禾县", "2027-07-05", ["延长缴费期（春节返乡的外出务工人员、退役军人、刑满释放人员）已于2027年2月28日结束",
                             "补缴期（未在集中参保期内缴费的居民）已于2027年6月30日结束"]),
])
def test_a_late_period_that_has_ended_is_said_to_have_ended(capsys, region, on, ended):
    out = ask(capsys, region, on, "过年回来打工的现在还能交吗")
    assert all(line in out for line in ended), out
    assert "可以延长至" not in out


def test_helping_someone_pay(capsys):
    assert "村（社区）集中代征点" in ask(capsys, "罗山县", "2024-11-10", "村里有人帮着交吗")
    assert "亲情账户" in ask(capsys, "乐至县", "2024-11-10", "儿子能替我交不")
