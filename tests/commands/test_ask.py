"""`yibao ask` as a resident's question would go through it: the acceptance answers of the notices."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import today
from bot.rules.calculator import coming_year


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["ask", *args]) == 0
    return capsys.readouterr().out


def test_lingchuan_dibao_2025(capsys):
    out = ask(capsys, "--region", "陵川县", "--date", "2024-11-20", "低保户交多少")
    assert "2025年度" in out
    assert "您个人缴纳80元" in out
    assert "陵政办函〔2024〕16号" in out
    assert "本月截止11月25日" in out


def test_lingchuan_dibao_2023(capsys):
    out = ask(capsys, "--region", "陵川县", "--date", "2022-10-10", "低保户交多少")
    assert "2023年度" in out
    assert "您个人缴纳70元" in out
    assert "陵政办发〔2022〕41号" in out
    assert "2025年度" not in out


def test_lezhi_several_categories_highest_only(capsys):
    out = ask(capsys, "--region", "乐至县", "--date", "2024-10-08", "我既是低保又是三级残疾交多少")
    assert "您个人缴纳100元" in out
    assert "就高不就低" in out
    assert "乐府办发〔2024〕16号" in out


def test_luoshan_dibao_has_no_figure_and_names_whom_to_ask(capsys):
    out = ask(capsys, "--region", "罗山县", "--date", "2024-11-05", "低保户交多少")
    assert "400元" in out
    assert "通知未写明资助金额" in out
    assert "请咨询" in out
    assert "罗政办〔2024〕42号" in out
    # no figure borrowed from another county's notice
    for borrowed in ("320元", "80元", "360元", "300元", "100元"):
        assert borrowed not in out


def test_lingchuan_after_the_25th_names_next_window(capsys):
    out = ask(capsys, "--region", "陵川县", "--date", "2024-11-27", "还能交吗")
    assert "12月1日" in out
    assert "本月缴费已于25日截止" in out


def test_lingchuan_after_period_end(capsys):
    out = ask(capsys, "--region", "陵川县", "--date", "2025-03-05", "还能交吗")
    assert "已经结束" in out
    assert "2026年度的缴费通知尚未公布" in out


def test_today_fee_is_labelled_unpublished(capsys):
    out = ask(capsys, "--region", "陵川县", "交多少钱")
    on = today()
    assert f"{coming_year(on)}年度的缴费标准尚未公布" in out
    assert "最近公布的2025年度标准" in out
    assert "400元" in out


def test_region_short_form_in_text(capsys):
    out = ask(capsys, "--date", "2024-10-15", "周集低保户交多少")
    assert "【周集镇 2025年度城乡居民医保】" in out
    assert "您个人缴纳40元" in out


def test_missing_region_is_asked(capsys):
    out = ask(capsys, "--date", "2024-11-20", "交多少钱")
    assert "请问您在哪个县" in out
    assert "陵川县" in out


def test_unknown_region_flag_is_a_clear_error(capsys):
    assert main(["ask", "--region", "火星县", "交多少钱"]) == 2
    err = capsys.readouterr().err
    assert "不认识的地区“火星县”" in err and "陵川县" in err


def test_bad_date_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        main(["ask", "--date", "2024-13-01", "交多少钱"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_paying_for_a_relative_by_ones_own_channel_is_answered_as_asked(capsys):
    """"用我的支付宝给我弟交": whether one may pay a relative's share through an ordinary channel, which no notice
    says; not only whether the employee account (家庭共济) may, which is another question."""
    out = ask(capsys, "--date", "2024-11-10", "用我的支付宝给我弟交罗山的医保行吗")
    assert "罗山县 2025年度" in out
    assert "替家人缴费" in out and "没有写明" in out  # the notice is silent ...
    assert "支付宝" in out  # ... and lists the channel asked about
    assert "县医疗保障局" in out  # whom to ask
    assert "罗政办〔2024〕42号" in out
    assert "职工医保账户" not in out  # 罗山's notice has no family account: nothing to add about one


def test_paying_for_a_relative_names_the_family_account_where_the_notice_has_one(capsys):
    out = ask(capsys, "--region", "陵川县", "--date", "2024-11-10", "我在外地能给老家的爹娘交医保吗")
    assert "替家人缴费" in out and "没有写明" in out
    assert "家庭共济账户" in out  # 陵川's notice: 参加职工医保的 may pay a relative's share from it
    assert "陵政办函〔2024〕16号" in out


def test_the_family_account_asked_by_name_is_answered_from_the_notice(capsys):
    out = ask(capsys, "--region", "陵川县", "--date", "2024-11-10", "能用家庭共济账户给父母交吗")
    assert "参加职工医保的参保人员可以通过家庭共济账户为家庭成员" in out
    assert "没有写明" not in out


def test_no_late_period_is_said_for_whoever_asks(capsys):
    """罗山县's notice gives no late period to anyone: a veteran asking is not told about returning workers."""
    out = ask(capsys, "--date", "2024-11-10", "我是退伍军人 罗山县过了年还能交不")
    assert "通知没有规定延长缴费期" in out
    assert "外出务工" not in out
    assert "2024年12月31日" in out  # the period to pay in
    assert "罗政办〔2024〕42号" in out
