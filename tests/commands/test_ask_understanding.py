"""`yibao ask` on the kinds of message issue 16 names: two questions in one message, checking a figure, long
stories, homophones, helping someone pay, context words. Figures and dates are the notices' (陵川县
陵政办函〔2024〕16号, 乐至县 乐府办发〔2024〕16号, 罗山县 罗政办〔2024〕42号, 周集镇 周办〔2024〕46号), asked on
2024-11-20. Follow-ups need a conversation: tests/wechat/test_conversations.py."""

from __future__ import annotations

import pytest

from bot.cli import main

ON = "2024-11-20"


def ask(capsys: pytest.CaptureFixture[str], text: str, *args: str) -> str:
    assert main(["ask", "--date", ON, *args, text]) == 0
    return capsys.readouterr().out


# -- two questions in one message ---------------------------------------------------------------------


def test_two_questions_are_answered_in_the_order_asked(capsys):
    out = ask(capsys, "周集镇低保户交多少钱，几号截止")
    fee, deadline = out.index("您个人缴纳40元"), out.index("截止2024年12月31日")
    assert fee < deadline
    assert out.count("【周集镇 2025年度城乡居民医保】") == 1  # one header for both answers
    assert "周办〔2024〕46号 4" in out and "周办〔2024〕46号 3" in out


def test_two_questions_separated_by_a_space_share_the_county(capsys):
    out = ask(capsys, "罗山县一个人交多少 收手续费吗")
    assert "400元/人/年" in out
    assert "通知没有专门写手续费的规定" in out
    assert "罗政办〔2024〕42号" in out


def test_two_questions_whose_answers_are_long_answer_the_first_and_name_the_other(capsys):
    out = ask(capsys, "乐至低保户交多少，外地户口能参保吗")
    assert "您个人缴纳100元" in out
    assert "回复1接着回答：外地户口能参保吗" in out
    assert len(out.strip().splitlines()) <= 7


def test_a_bare_how_after_the_fee_is_answered_briefly_rather_than_offered(capsys):
    # 乐至县 二（三）3（1）: 低保 个人缴纳100元; 三（二）: its channels, named in one line.
    out = ask(capsys, "乐至低保户交多少，在哪交")
    assert "您个人缴纳100元" in out and "缴费渠道：线上缴费有四川省电子税务局" in out
    assert "接着回答" not in out and len(out.strip().splitlines()) <= 10


def test_two_questions_without_a_county_ask_for_it_once(capsys):
    out = ask(capsys, "一个人交多少钱？啥时候截止？")
    assert out.count("请问您在哪个县（镇）参保") == 1


def test_one_question_in_two_clauses_is_one_answer(capsys):
    out = ask(capsys, "你好，陵川低保户今年交多少")
    assert "您个人缴纳80元" in out and "接着回答" not in out
    assert out.count("【陵川县") == 1


# -- checking a figure ----------------------------------------------------------------------------------


def test_a_right_figure_is_confirmed_first(capsys):
    out = ask(capsys, "陵川低保户是交八十块吧")
    assert out.startswith("对，是80元。")
    assert "您个人缴纳80元" in out and "陵政办函〔2024〕16号" in out


def test_a_wrong_figure_in_chinese_numerals_is_corrected_first(capsys):
    out = ask(capsys, "陵川监测户是不是交三百")
    assert out.startswith("不对，通知写的是120元，不是300元。")
    assert "陵政办函〔2024〕16号" in out


def test_a_figure_for_a_group_without_one_in_the_notice_is_not_guessed(capsys):
    out = ask(capsys, "罗山低保户是交一百块吗")
    assert out.startswith("说不准")  # neither 对 nor 不对
    assert "通知未写明资助金额" in out


def test_paying_nothing_is_checked_too(capsys):
    out = ask(capsys, "乐至特困人员是不是不用掏钱")
    assert out.startswith("对，您个人不用交钱。")
    assert "您个人缴纳0元" in out


def test_the_standard_checked_without_a_group(capsys):
    assert ask(capsys, "听人讲乐至今年高档五百四，低档四百，对不对").startswith("对，是540元、400元。")
    assert ask(capsys, "罗山今年一个人交三百五对吗").startswith("不对，通知写的是400元，不是350元。")
    assert ask(capsys, "人家说陵川一个人要交四百，是真的不").startswith("对，是400元。")


def test_a_deadline_checked(capsys):
    assert ask(capsys, "罗山县是不是12月31号截止呀").startswith("对，是12月31日。")
    out = ask(capsys, "乐至是不是1月31号截止")
    assert out.startswith("不对，截止是2月28日。")
    assert "乐府办发〔2024〕16号" in out
    assert ask(capsys, "陵川每个月25号以前交就行是吧").startswith("对，是25日。")


# -- long messages, homophones, helping someone pay, context words -----------------------------------------


def test_the_question_after_a_story_is_found(capsys):
    out = ask(capsys, "前年我在乐至交的低档，后来一直在外地没回来，今年回来了想交个高档的，高档一年多少钱")
    assert "高档次：540元/人/年" in out
    assert "乐府办发〔2024〕16号" in out


def test_a_place_name_heard_wrong_is_read_by_its_sound(capsys):
    out = ask(capsys, "我是林川的")
    assert "陵川县" in out
    out = ask(capsys, "餐保要带什么东西")  # 餐保 for 参保: what to bring to enrol
    assert "参保" in out and "没看懂" not in out


def test_an_employee_paying_for_the_child_is_the_family_account(capsys):
    out = ask(capsys, "我在单位有职工医保，能不能把孩子的居民医保也一起交了", "--region", "陵川县")
    assert "家庭共济" in out


def test_having_insurance_at_work_is_a_question_of_enrolment(capsys):
    out = ask(capsys, "在外头上班的厂里交了社保，家里这边还要交合疗吗", "--region", "陵川县")
    assert out == ask(capsys, "有职工医保还要交居民医保吗", "--region", "陵川县")  # enrolment, not the fee
    assert "400元/人/年" not in out


def test_the_governments_subsidy_checked(capsys):
    out = ask(capsys, "罗山县政府每人补助是不是六百七")
    assert out.startswith("对，是670元。") and "罗政办〔2024〕42号" in out
    assert ask(capsys, "乐至政府补贴是不是五百块").startswith("不对，通知写的是670元，不是500元。")
    assert ask(capsys, "陵川政府补助是不是六百七").startswith("说不准")  # that notice gives no figure


def test_a_story_about_a_baby_born_lately_is_the_newborn_question(capsys):
    out = ask(capsys, "孙子是前天生的，卫生院的人叫赶紧给娃办医保，我们是乐至的，现在去办来得及不")
    assert out == ask(capsys, "乐至新生儿怎么参保")  # the newborn's answer, not the deadline's


# -- a told mention beside the question, clauses cut by spaces; what a 代办员 charges; paying from afar ---------


@pytest.mark.parametrize("story", [
    "我在外地打工 户口在罗山县 今年交多少钱",
    "儿媳妇刚生了个闺女 俺自己在罗山县交多少钱",
    "我儿子在县医院上班有职工医保 我在罗山县交多少",
])
def test_a_story_told_in_spaced_clauses_answers_the_clause_that_asks(capsys, story):
    assert ask(capsys, story) == ask(capsys, "罗山县一个人交多少钱")


def test_what_a_collector_charges_on_top_is_the_handling_fee(capsys):
    for text in ("乐至村里代办员帮着交 一个人收好多钱", "让村会计帮交，要不要多给几块钱，乐至的"):
        out = ask(capsys, text)
        assert out.startswith("【乐至县") and "不收手续费" in out, text


def test_paying_a_relatives_share_from_afar_is_the_family_account(capsys):
    out = ask(capsys, "我在外面打工 能不能给老家的老娘交医保 陵川的")
    assert out == ask(capsys, "陵川县能给父母代缴吗")
    assert "家庭共济" in out


def test_a_lapse_told_in_a_long_story_asks_the_wait(capsys):
    story = "罗山县的 断了三年没交医保 那时候年轻身体好觉得用不上 这回老爹住了院才知道要紧 "
    out = ask(capsys, story + "我现在交的话得多久才能报销")
    assert "等待期" in out and "没看懂" not in out


# -- follow-ups over several `yibao ask --openid` calls (the follower's state in the database) ---------------


def test_a_conversation_over_several_asks_keeps_the_thread(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("YIBAO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'ask.db'}")
    talk = ("--openid", "o_ask_thread")
    assert "400元/人/年" in ask(capsys, "罗山县一个人交多少", *talk)
    out = ask(capsys, "那五保户呢", *talk)  # 五保户: the 特困 group, in 罗山县
    assert "【罗山县" in out and "特困供养人员" in out
    out = ask(capsys, "是不是12月31号截止", *talk)
    assert out.startswith("对，是12月31日。") and "罗政办〔2024〕42号" in out
    assert "请问您在哪个县（镇）参保" in ask(capsys, "几号截止", "--openid", "o_ask_other")


@pytest.mark.parametrize("yes", ["是", "是的", "对", "嗯"])
def test_a_yes_to_the_place_heard_answers_the_waiting_question_there(capsys, monkeypatch, tmp_path, yes):
    # 清河县 is not ours; asked 您问的是青禾县吗, a plain yes is 青禾县 (青政办发〔2026〕31号 二（一）: 一档400元…).
    monkeypatch.setenv("YIBAO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'ask.db'}")
    talk = ("--openid", "o_ask_heard", "--date", "2026-11-20")
    assert "您问的是青禾县吗" in ask(capsys, "清河县交多少钱", *talk)
    out = ask(capsys, yes, *talk)
    assert "【青禾县" in out and "一档400元、二档600元、三档900元" in out and "没看懂" not in out


def test_a_no_to_the_place_heard_says_which_places_are_covered(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("YIBAO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'ask.db'}")
    talk = ("--openid", "o_ask_heard_no", "--date", "2026-11-20")
    assert "您问的是青禾县吗" in ask(capsys, "青河县什么时候截止", *talk)
    out = ask(capsys, "不是", *talk)
    assert '暂时没有"青河县"的缴费通知' in out and "目前支持：" in out and "【青禾县" not in out
    assert "没看懂" in ask(capsys, "嗯", *talk)  # nothing waits any more
