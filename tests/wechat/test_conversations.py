"""How yibao answers over several messages, through the webhook with WeChat's XML: short answers that offer
their details by number, menus when unsure, short thanks, and what it could not answer recorded for staff."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models import Follower, MessageLog
from tests.wechat import samples
from tests.wechat.samples import fresh

# A text message sent by tapping a link of a menu message (有用/没用): WeChat adds the menu item's id.
MENU_TAP = samples.TEXT.replace("</MsgId>\n</xml>", "</MsgId>\n  <bizmsgmenuid>1</bizmsgmenuid>\n</xml>")


async def say(bot, openid: str, text: str, sample: str = samples.TEXT) -> str:
    reply = await bot.ask(fresh(sample, openid=openid, content=text))
    assert reply is not None
    return reply


async def logged(bot, openid: str) -> list[tuple[str, str | None, dict | None]]:
    return [tuple(r) for r in await bot.rows(
        select(MessageLog.content, MessageLog.intent, MessageLog.detail)
        .where(MessageLog.openid == openid, MessageLog.direction == "in").order_by(MessageLog.id))]


async def test_a_fee_answer_is_short_and_its_details_come_with_1_and_how_to_pay_with_2(bot):
    answer = await say(bot, "o_fee", "陵川县低保户交多少")
    lines = answer.splitlines()
    assert len(lines) <= 6
    assert lines[0] == "【陵川县 2025年度城乡居民医保】"
    assert "您个人缴纳80元" in lines[1]  # the figure first
    assert "依据：陵政办函〔2024〕16号" in answer
    assert "回复1查看详细标准" in answer and "回复2查看怎么交" in answer
    details = await say(bot, "o_fee", "1")
    assert "由参保人员按年度一次性足额缴纳" in details  # the payment rule, kept for the details
    assert "城乡低保对象：个人缴费标准400元，个人缴纳80元" in details
    assert "特困人员：个人缴费标准400元，个人缴纳0元" in details  # every group
    assert "依据：陵政办函〔2024〕16号" in details
    assert "由参保人员按年度一次性足额缴纳" not in await say(bot, "o_fee", "1")  # offers last one message
    state = await bot.scalar(select(Follower.state).where(Follower.openid == "o_fee"))
    assert "offers" not in state

    await say(bot, "o_fee2", "陵川县交多少钱")
    how = await say(bot, "o_fee2", "２")  # full-width, as a phone keyboard may send it
    assert "【陵川县" in how and "缴费" in how and "依据：陵政办函〔2024〕16号" in how
    assert "您是想问" not in how and "没看懂" not in how


async def test_any_other_message_drops_the_offers(bot):
    await say(bot, "o_drop", "我是陵川县的")
    await say(bot, "o_drop", "交多少钱")
    assert "本月截止11月25日" in await say(bot, "o_drop", "什么时候截止")
    how = await say(bot, "o_drop", "第1个")  # the deadline answer's own offer (how to pay), not the fee's details
    assert "【陵川县" in how and "资助对象个人缴费" not in how
    state = await bot.scalar(select(Follower.state).where(Follower.openid == "o_drop"))
    assert "offers" not in state


async def test_a_deadline_answer_offers_the_whole_calendar(bot):
    answer = await say(bot, "o_dl", "青禾县2027年度什么时候截止")
    assert len(answer.splitlines()) <= 6
    assert "2026年12月31日" in answer and "补缴期" in answer
    assert "回复1查看全部缴费时间和延长期" in answer
    calendar = await say(bot, "o_dl", "1.")
    assert "补缴期2027年3月1日至2027年6月30日" in calendar
    assert "依据：青政办发〔2026〕31号" in calendar


async def test_an_unclear_message_gets_a_menu_and_the_digit_picks_from_it(bot):
    await say(bot, "o_menu", "我是陵川县的")
    menu = await say(bot, "o_menu", "医保的事咋整")
    assert menu.startswith("您是想问：")
    assert "1. 交多少钱" in menu and "2. 什么时候截止" in menu
    answer = await say(bot, "o_menu", "2")
    assert "【陵川县 2025年度城乡居民医保】" in answer
    assert "本月截止11月25日" in answer and "依据：陵政办函〔2024〕16号 二" in answer
    rows = await logged(bot, "o_menu")
    assert rows[1][1] == "fallback"
    assert rows[1][2]["candidates"][:2] == ["fee", "deadline"]
    assert rows[2][1] == "deadline" and rows[2][2] is None


async def test_a_menu_keeps_the_year_named(bot):
    await say(bot, "o_menu2", "我是陵川县的")
    menu = await say(bot, "o_menu2", "2023年度的呢")
    assert menu.startswith("您是想问：") and "1. 交多少钱" in menu
    answer = await say(bot, "o_menu2", "1")
    assert answer.startswith("【陵川县 2023年度城乡居民医保】")
    assert "依据：陵政办发〔2022〕41号" in answer and "2025年度" not in answer


async def test_thanks_get_one_line_and_greetings_stay_short(bot):
    for text in ("谢谢", "好的谢谢", "多谢了"):
        reply = await say(bot, "o_thanks", text)
        assert len(reply.splitlines()) == 1 and "不客气" in reply, reply
    hello = await say(bot, "o_thanks", "你好")
    assert len(hello.splitlines()) <= 2 and "交多少钱" in hello


async def test_out_of_scope_is_one_line_and_recorded_with_its_topic(bot):
    for text in ("养老保险交多少", "社保卡丢了怎么办", "职工医保交多少"):
        reply = await say(bot, "o_oos", text)
        assert len(reply.splitlines()) == 1, reply
        assert "城乡居民医保" in reply
    rows = await logged(bot, "o_oos")
    assert [r[1] for r in rows] == ["out_of_scope"] * 3
    assert rows[0][2]["topic"] == "养老保险"


async def test_every_unanswered_message_is_recorded_masked_with_what_was_tried(bot):
    await say(bot, "o_lost", "我是陵川县的")
    reply = await say(bot, "o_lost", "我身份证140524199001011234，电话13812345678，啊这个")
    assert "没看懂" in reply
    rows = await logged(bot, "o_lost")
    text, intent, detail = rows[-1]
    assert intent == "fallback"
    assert "140524199001011234" not in text and "13812345678" not in text
    assert detail == {"intent": "fallback"}  # nothing of the domain found, said so
    assert "1405" not in str(detail)


async def test_useful_and_not_useful_after_an_answer_are_recorded(bot):
    await say(bot, "o_rate", "我是陵川县的")
    answer = await say(bot, "o_rate", "交多少钱")
    assert "msgmenucontent=有用" in answer and "msgmenucontent=没用" in answer
    assert len(answer.splitlines()) <= 6  # the links sit on the last line
    thanks = await say(bot, "o_rate", "有用", MENU_TAP)
    assert "谢谢" in thanks and len(thanks.splitlines()) == 1
    await say(bot, "o_rate", "什么时候截止")
    await say(bot, "o_rate", "没用", MENU_TAP)
    rows = await logged(bot, "o_rate")
    assert [(r[1], r[2]) for r in rows if r[1] == "feedback"] == [
        ("feedback", {"useful": True, "about": "fee"}), ("feedback", {"useful": False, "about": "deadline"})]
    assert "谢谢" not in await say(bot, "o_rate", "有用")  # no answer asked for it: not a verdict


async def test_a_menu_picked_before_the_county_is_known_asks_for_it_then_answers(bot):
    menu = await say(bot, "o_new", "医保的事咋整")
    assert menu.startswith("您是想问：") and "1. 交多少钱" in menu
    assert "哪个县" in await say(bot, "o_new", "1")
    answer = await say(bot, "o_new", "周集")
    assert answer.startswith("【周集镇 2025年度城乡居民医保】") and "个人缴费标准：400元/人/年" in answer


async def test_a_menu_keeps_no_phone_or_id_number_in_the_followers_state(bot):
    await say(bot, "o_priv", "我是陵川县的")
    menu = await say(bot, "o_priv", "医保的事咋整，我电话13812345678")
    assert menu.startswith("您是想问：")
    state = await bot.scalar(select(Follower.state).where(Follower.openid == "o_priv"))
    assert state["offers"] and "13812345678" not in str(state)
