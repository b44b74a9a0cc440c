"""How `yibao ask` answers (issue 16): phone-sized fee and deadline answers with their figure first and the
source kept, details offered by number and given for that number (a conversation kept with --openid), menus
when unsure, one-line thanks and out-of-scope answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import HMAC_KEY


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["ask", *args]) == 0
    return capsys.readouterr().out.rstrip("\n")


@pytest.fixture
def conversation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """say(text) -> the answer, for one follower kept in a database between the messages."""
    monkeypatch.setenv("YIBAO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'ask.sqlite3'}")
    monkeypatch.setenv("YIBAO_ID_HMAC_KEY", HMAC_KEY)

    def say(text: str, region: str = "陵川县", on: str = "2024-11-20") -> str:
        return ask(capsys, "--region", region, "--date", on, "--openid", "o_ask", text)

    return say


@pytest.mark.parametrize(("region", "on", "question", "figure", "doc"), [
    ("乐至县", "2024-11-10", "交多少钱", "高档次540元、低档次400元", "乐府办发〔2024〕16号"),
    ("乐至县", "2024-11-10", "低保户交多少", "您个人缴纳100元", "乐府办发〔2024〕16号"),
    ("陵川县", "2024-11-10", "特困人员交多少", "您个人缴纳0元", "陵政办函〔2024〕16号"),
    ("陵川县", "2024-11-10", "我既是低保又是返贫致贫人口交多少", "个人缴纳80元", "陵政办函〔2024〕16号"),
    ("罗山县", "2024-11-10", "低保户交多少", "通知未写明资助金额", "罗政办〔2024〕42号"),
    ("周集镇", "2024-11-10", "特困交多少", "您个人缴纳0元", "周办〔2024〕46号"),
    ("青禾县", "2026-10-15", "交多少钱", "一档400元、二档600元、三档900元", "青政办发〔2026〕31号"),
    ("青禾县", "2026-10-15", "大学生交多少", "您个人缴纳400元", "青政办发〔2026〕31号"),
    ("周集镇", "2024-11-10", "什么时候截止", "截止2024年12月31日", "周办〔2024〕46号"),
    ("青禾县", "2026-12-30", "还能交吗", "截止2026年12月31日（还有1天）", "青政办发〔2026〕31号"),
])
def test_fee_and_deadline_answers_are_phone_sized_figure_first(capsys, region, on, question, figure, doc):
    out = ask(capsys, "--region", region, "--date", on, question)
    lines = out.splitlines()
    assert len(lines) <= 6, out
    assert lines[0].startswith(f"【{region} ")
    assert figure in lines[1], out  # the figure (or what the notice says of it) right after the header
    assert f"依据：{doc}" in out
    assert lines[-1].startswith("回复1查看"), out
    assert lines[-1].endswith("这条回答[有用] [没用]") and "<a " not in out, out  # the one-tap links, as read


def test_fee_then_1_gives_the_details_then_2_is_no_longer_an_offer(conversation):
    answer = conversation("交多少钱")
    assert "个人缴费标准：400元/人/年。" in answer and "回复1查看详细标准" in answer
    details = conversation("1")
    assert "由参保人员按年度一次性足额缴纳" in details
    assert "防返贫监测对象：个人缴费标准400元，个人缴纳120元" in details
    assert "返贫致贫人口：个人缴费标准400元，个人缴纳40元" in details
    assert "依据：陵政办函〔2024〕16号" in details
    assert "由参保人员按年度一次性足额缴纳" not in conversation("1")  # offers last one message


def test_fee_then_2_tells_how_to_pay_for_the_same_county(conversation):
    conversation("交多少钱", region="周集镇", on="2024-11-10")
    how = conversation("２", region="周集镇", on="2024-11-10")
    assert how.startswith("【周集镇 2025年度城乡居民医保】")
    assert "线上缴费" in how and "依据：周办〔2024〕46号" in how


def test_an_unclear_message_gets_a_menu_and_the_digit_answers(conversation):
    menu = conversation("医保的事咋整")
    assert menu.splitlines()[0] == "您是想问："
    assert "1. 交多少钱" in menu and "2. 什么时候截止" in menu
    answer = conversation("第2个")
    assert answer.startswith("【陵川县 2025年度城乡居民医保】")
    assert "本月截止11月25日" in answer


@pytest.mark.parametrize("text", ["谢谢", "好的谢谢", "多谢了"])
def test_thanks_get_one_line(capsys, text):
    out = ask(capsys, "--region", "陵川县", "--date", "2024-11-20", text)
    assert out == "不客气！还有医保缴费的问题，随时发给我。"


@pytest.mark.parametrize(("text", "topic"), [("养老保险交多少", "养老保险"), ("社保卡丢了怎么办", "社保卡"),
                                             ("职工医保交多少", "职工医保")])
def test_out_of_scope_says_what_we_answer_in_one_line(capsys, text, topic):
    out = ask(capsys, "--region", "陵川县", "--date", "2024-11-20", text)
    assert len(out.splitlines()) == 1, out
    assert topic in out and "城乡居民医保" in out and "交多少钱" in out
    assert "元" not in out  # no figure for a question that is not ours


def test_greeting_stays_short(capsys):
    out = ask(capsys, "--region", "陵川县", "--date", "2024-11-20", "你好")
    assert len(out.splitlines()) <= 2 and "交多少钱" in out and "陵川县" in out
