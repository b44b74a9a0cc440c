"""`yibao ask` on four kinds of message that got a menu or the wrong answer: having paid and asking how to check
it; whether one can pay now, asked alone (能交吗); a county named in a question the bot cannot read (never taken
as where the follower lives); already in 职工医保, must one pay this too. Figures, clauses and offices are the
notices' (陵川县 陵政办函〔2024〕16号 and 陵政办发〔2022〕41号, 罗山县 罗政办〔2024〕42号, 周集镇 周办〔2024〕46号,
乐至县 乐府办发〔2024〕16号). The bound follower's own record: tests/handlers/test_binding.py."""

from __future__ import annotations

import pytest

from bot.cli import main

ON = "2024-11-10"
MENU = "您是想问"
DOCS = {"陵川县": "陵政办函〔2024〕16号", "罗山县": "罗政办〔2024〕42号", "周集镇": "周办〔2024〕46号",
        "乐至县": "乐府办发〔2024〕16号"}


def ask(capsys: pytest.CaptureFixture[str], text: str, *args: str, on: str = ON) -> str:
    assert main(["ask", "--date", on, *args, text]) == 0
    return capsys.readouterr().out


# -- 1. paid, and how to check it ------------------------------------------------------------------------

PAID_HOW_TO_CHECK = [
    "我已经交了怎么查",
    "交过了在哪看交没交上",
    "钱交了怎么知道成功没",
    "交完了去哪查有没有交上",
    "缴费以后咋确认到账了",
    "昨天在微信上交的钱，在哪能看到交上了没有",
    "已经交过费了，怎么查询",
]


@pytest.mark.parametrize("text", PAID_HOW_TO_CHECK)
def test_paid_and_asking_how_to_check_gets_what_the_notice_says(capsys, text):
    out = ask(capsys, text, "--region", "周集镇")
    assert MENU not in out
    assert "村里会适时公示本村参保缴费情况" in out and "周办〔2024〕46号 七，八（三）" in out
    assert "绑定" in out  # one's own record needs the roster (a follower who bound gets it)


@pytest.mark.parametrize("text", PAID_HOW_TO_CHECK[:3])
def test_a_notice_silent_on_checking_says_so_and_whom_to_ask(capsys, text):
    out = ask(capsys, text, "--region", "陵川县")
    assert MENU not in out
    assert "通知没有写明缴费后怎么查询缴费结果，可咨询户籍所在地或居住地的医保经办机构（县医保中心）" in out
    assert "公示" not in out  # 周集镇's rule is never borrowed


def test_paid_and_asking_how_to_check_with_no_county_borrows_no_notice(capsys):
    out = ask(capsys, "我已经交了怎么查")
    assert MENU not in out and "依据" not in out and "暂未接入" in out


# -- 2. 能交吗, asked alone --------------------------------------------------------------------------------

CAN_PAY_NOW = ["能交吗", "现在能交吗", "还能交不", "能不能交", "今天可以缴费吗", "这会儿交得了不", "可以交了吗",
               "开始交了吗"]


@pytest.mark.parametrize("text", CAN_PAY_NOW)
def test_can_i_pay_now_is_the_collection_period(capsys, text):
    out = ask(capsys, text, "--region", "罗山县")
    assert MENU not in out
    assert out.startswith("【罗山县 2025年度城乡居民医保】\n现在可以缴费。截止2024年12月31日")
    assert "罗政办〔2024〕42号" in out


@pytest.mark.parametrize("text", CAN_PAY_NOW[:4])
def test_can_i_pay_now_without_a_county_asks_for_it(capsys, text):
    out = ask(capsys, text)
    assert MENU not in out and "请问您在哪个县（镇）参保" in out


def test_can_i_pay_now_between_monthly_windows_and_after_the_period(capsys):
    out = ask(capsys, "能交吗", "--region", "陵川县", on="2024-11-27")
    assert "本月缴费已于25日截止，下次可缴费时间：12月1日至12月25日" in out
    out = ask(capsys, "还能交不", "--region", "周集镇", on="2025-03-05")
    assert "已经结束" in out and "周办〔2024〕46号" in out


@pytest.mark.parametrize(("text", "region"), [("陵川能交吗", "陵川县"), ("周集镇现在还能交不", "周集镇")])
def test_can_i_pay_now_beside_a_place_is_that_place_s_period(capsys, text, region):
    out = ask(capsys, text)
    assert out.startswith(f"【{region} 2025年度城乡居民医保】") and "现在可以缴费" in out and DOCS[region] in out


def test_can_i_pay_with_a_channel_is_still_the_channels(capsys):
    out = ask(capsys, "微信能交吗", "--region", "陵川县")
    assert "微信" in out and "现在可以缴费" not in out


# -- 3. a county named in an unreadable question is not where the follower lives -------------------------


@pytest.fixture
def talk(monkeypatch, tmp_path):
    monkeypatch.setenv("YIBAO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'ask.db'}")
    return lambda openid: ("--openid", openid)


@pytest.mark.parametrize("text", ["陵川县有啥新政策没", "罗山县那个事咋样了", "乐至县最近有什么消息",
                                  "固始县有啥新政策没"])
def test_a_county_in_an_unreadable_question_does_not_set_the_region(capsys, talk, text):
    out = ask(capsys, text, *talk("o_place_q"))
    assert "已记住您的地区" not in out
    if not text.startswith("固始县"):  # a county of ours is offered as a reply that sets it
        assert f"如果您在{text[:3]}参保，回复“{text[:3]}”" in out
    assert "请问您在哪个县（镇）参保" in ask(capsys, "交多少钱", *talk("o_place_q"))  # still no county


@pytest.mark.parametrize(("text", "region"), [
    ("我是陵川县的", "陵川县"), ("陵川县", "陵川县"), ("俺家在罗山县灵山镇", "罗山县"), ("乐至县那边的", "乐至县"),
])
def test_a_message_that_is_a_place_sets_the_region(capsys, talk, text, region):
    assert f"已记住您的地区：{region}" in ask(capsys, text, *talk("o_place"))
    assert f"【{region} 2025年度城乡居民医保】" in ask(capsys, "交多少钱", *talk("o_place"))


def test_a_county_named_in_reply_to_which_county_answers_the_waiting_question(capsys, talk):
    assert "请问您在哪个县（镇）参保" in ask(capsys, "家庭共济是啥", *talk("o_wait"))
    out = ask(capsys, "陵川能用吗", *talk("o_wait"))
    assert "【陵川县 2025年度城乡居民医保】" in out and "家庭共济" in out


# -- 4. already in 职工医保 -------------------------------------------------------------------------------

EMPLOYEE = ["有职工医保还要交居民医保吗", "我有单位的医保还用交这个吗", "单位给交了医保，合疗还用交不",
            "在厂里上班交了社保，老家的医保还要交吗", "已经有职工医保了，还能参加居民医保吗"]


@pytest.mark.parametrize("text", EMPLOYEE)
@pytest.mark.parametrize(("region", "said", "scope", "cited"), [
    # each notice's own words: 覆盖范围 (罗山县), 参保范围 (周集镇), 未参加职工医保 (乐至县)
    ("罗山县", "参保对象为辖区内不属于城镇职工基本医疗保险覆盖范围的人员",
     "属于城镇职工基本医疗保险覆盖范围的人员，不是城乡居民医保的参保对象", "罗政办〔2024〕42号 二"),
    ("周集镇", "“应保尽保、不重复参保”的原则",
     "属于城镇职工基本医疗保险参保范围的人员，不在城乡居民医保的参保对象之内", "周办〔2024〕46号 1（一），2"),
    ("乐至县", "参保对象为未参加职工医保的城乡居民",
     "已参加职工医保的，不在城乡居民医保的参保对象之内", "乐府办发〔2024〕16号 二（一）"),
])
def test_in_employee_insurance_gets_the_notice_s_rule_cited(capsys, text, region, said, scope, cited):
    out = ask(capsys, text, "--region", region)
    assert out.startswith(f"【{region} 2025年度城乡居民医保】")
    assert said in out and scope in out and f"依据：{cited}" in out
    assert "不用再参加" not in out  # a gloss no notice prints: they say who is outside the scope
    assert MENU not in out and "个人缴费标准" not in out  # not the fee


@pytest.mark.parametrize("text", EMPLOYEE)
def test_a_notice_silent_on_employee_insurance_says_so_and_borrows_nothing(capsys, text):
    out = ask(capsys, text, "--region", "陵川县")
    assert "通知没有写明已参加职工医保的人员还要不要参加城乡居民医保" in out
    assert "请咨询户籍所在地或居住地的医保经办机构（县医保中心）" in out
    # 陵川县's 2023 notice says 不得重复参保; its 2025 notice does not, and another year's rule is not this one's
    assert "不得重复参保" not in out and "不用再参加" not in out and "陵政办发〔2022〕41号" not in out


def test_the_earlier_year_of_the_same_county_says_it(capsys):
    out = ask(capsys, "2023年度有职工医保还要交居民医保吗", "--region", "陵川县")
    assert "【陵川县 2023年度城乡居民医保】" in out
    assert "不得重复参保" in out and "依据：陵政办发〔2022〕41号 二，五（一）" in out
    assert "属于城镇职工基本医疗保险参保范围的人员，不在本县城乡居民医保的参保范围之内" in out
    assert "不用再参加" not in out


def test_qinghe_says_the_employee_insured_are_outside_its_scope(capsys):
    out = ask(capsys, "有职工医保还要交居民医保吗", "--region", "青禾县", on="2026-11-20")
    assert "职工基本医疗保险应参保人员不在城乡居民医保的参保范围之内" in out
    assert "依据：青政办发〔2026〕31号 一" in out and "不用再参加" not in out


def test_no_longer_in_employee_insurance_is_the_eligibility(capsys):
    out = ask(capsys, "辞职了没有职工医保了，能参加居民医保吗", "--region", "罗山县")
    assert "谁可以参保" in out and "辖区内不属于城镇职工基本医疗保险覆盖范围的人员" in out
