"""Conversations over several messages through the webhook (real WeChat XML in, reply XML out): follow-ups keep
the thread for a while, two questions in one message, a figure checked in a follow-up. Figures and dates are
the notices' (罗山县 罗政办〔2024〕42号, 陵川县 陵政办函〔2024〕16号 and 陵政办发〔2022〕41号, 乐至县
乐府办发〔2024〕16号, 周集镇 周办〔2024〕46号); the clock is 2024-11-20."""

from __future__ import annotations

import datetime as dt

from tests.wechat import samples
from tests.wechat.conftest import TODAY
from tests.wechat.samples import fresh


class Clock:
    def __init__(self) -> None:
        self.now = TODAY

    def __call__(self) -> dt.datetime:
        return self.now


async def say(bot, openid: str, text: str) -> str:
    reply = await bot.ask(fresh(samples.TEXT, openid=openid, content=text))
    assert reply is not None
    return reply


async def test_a_county_named_once_carries_to_the_next_questions(bot):
    assert "400元/人/年" in await say(bot, "o_th1", "罗山县一个人交多少")
    reply = await say(bot, "o_th1", "那特困户呢")  # the fee again, in 罗山县, for 特困
    assert "【罗山县" in reply and "特困供养人员" in reply and "通知未写明资助金额" in reply
    reply = await say(bot, "o_th1", "几号截止")
    assert "【罗山县" in reply and "截止2024年12月31日" in reply
    assert "罗政办〔2024〕42号" in reply


async def test_an_elliptical_follow_up_changes_one_thing_and_keeps_the_rest(bot):
    assert "您个人缴纳80元" in await say(bot, "o_th2", "陵川低保户交多少")
    reply = await say(bot, "o_th2", "乐至的呢")  # another county, the same group
    assert "【乐至县" in reply and "您个人缴纳100元" in reply and "乐府办发〔2024〕16号" in reply
    reply = await say(bot, "o_th2", "陵川的呢")
    assert "【陵川县 2025年度" in reply and "您个人缴纳80元" in reply
    reply = await say(bot, "o_th2", "去年呢")  # 去年 on 2024-11-20: the 2023 notice
    assert "【陵川县 2023年度" in reply and "您个人缴纳70元" in reply and "陵政办发〔2022〕41号" in reply
    reply = await say(bot, "o_th2", "今年的呢")
    assert "【陵川县 2025年度" in reply and "您个人缴纳80元" in reply


async def test_the_thread_is_forgotten_after_half_an_hour(make_bot):
    clock = Clock()
    bot = await make_bot(clock=clock)
    assert "【周集镇" in await say(bot, "o_th3", "周集镇一个人交多少")
    clock.now += dt.timedelta(minutes=20)
    assert "您个人缴纳40元" in await say(bot, "o_th3", "低保户呢")
    clock.now += dt.timedelta(minutes=31)
    reply = await say(bot, "o_th3", "什么时候截止")
    assert "请问您在哪个县（镇）参保" in reply  # 周集镇 was named long ago: never assumed


async def test_a_carried_county_is_not_given_to_another_follower(bot):
    assert "【罗山县" in await say(bot, "o_th4", "罗山县交多少")
    assert "截止2024年12月31日" in await say(bot, "o_th4", "什么时候截止")
    for _ in range(2):  # a stranger's same question, computed then perhaps from the cache
        assert "请问您在哪个县（镇）参保" in await say(bot, "o_th5", "什么时候截止")
    assert "【罗山县" in await say(bot, "o_th4", "什么时候截止")


async def test_naming_ones_own_county_overrides_the_one_named_before(bot):
    assert "【罗山县" in await say(bot, "o_th6", "罗山县交多少")
    await say(bot, "o_th6", "我是陵川县的")
    assert "【陵川县" in await say(bot, "o_th6", "低保户交多少")


async def test_two_questions_wait_for_the_county_then_a_figure_is_checked(bot):
    assert "请问您在哪个县（镇）参保" in await say(bot, "o_th7", "低保户交多少钱，几号截止")
    reply = await say(bot, "o_th7", "周集镇")
    assert reply.index("您个人缴纳40元") < reply.index("截止2024年12月31日")
    assert reply.count("【周集镇") == 1
    reply = await say(bot, "o_th7", "是不是交四十块")
    assert reply.startswith("对，是40元。") and "周办〔2024〕46号" in reply
    reply = await say(bot, "o_th7", "是不是1月31号截止")
    assert reply.startswith("不对，截止是12月31日。")


async def test_a_question_after_one_about_a_newborn_is_about_the_newborn(bot):
    newborn = await say(bot, "o_th8", "乐至的，娃儿刚生下来半个月，咋个给他上医保")
    assert "【乐至县" in newborn
    assert await say(bot, "o_th8", "要交好多钱") == newborn
    assert "540元" in await say(bot, "o_th8", "那我自己交好多钱")  # someone else: the fee


async def test_a_follower_naming_their_own_county_keeps_their_township(bot):
    for openid in ("o_th9", "o_th10"):
        await say(bot, openid, "我是陵川县礼义镇的")
    assert "您个人缴纳80元" in await say(bot, "o_th9", "陵川低保户交多少")
    # as any follower of 陵川县礼义镇 is answered: the county named is their own, the township stays
    assert await say(bot, "o_th9", "在哪交") == await say(bot, "o_th10", "在哪交")


async def test_a_misheard_county_a_long_story_and_helping_to_pay(bot):
    reply = await say(bot, "o_th11", "我是林川的")  # voice input: 林川 for 陵川
    assert "陵川县" in reply
    reply = await say(bot, "o_th11", "老伴腿脚不好出不了门，孩子们都在外地，前两天村里喇叭喊着交医保，"
                                     "我家是低保户，我就想问问俺们一个人交多少")
    assert "您个人缴纳80元" in reply and "陵政办函〔2024〕16号" in reply
    reply = await say(bot, "o_th11", "闺女在外地上班有职工医保，她能帮俺们交不")
    assert "家庭共济" in reply
    reply = await say(bot, "o_th11", "在外头打工的儿子厂里交了社保，家里还要交合疗吗")
    assert "您个人缴纳" not in reply  # whether to join here too, not the fee


async def test_a_second_question_left_for_later_is_answered_by_its_number(bot):
    # (a bare 在哪交 as the second question is answered at once, briefly: tests/commands/test_ask_understanding.py)
    reply = await say(bot, "o_th12", "乐至低保户交多少，外地户口能参保吗")
    assert "您个人缴纳100元" in reply and reply.endswith("回复1接着回答：外地户口能参保吗。")
    reply = await say(bot, "o_th12", "1")
    assert "【乐至县" in reply and "户籍" in reply and "乐府办发〔2024〕16号" in reply


async def test_a_year_alone_after_a_question_asks_it_for_that_year(bot):
    assert "您个人缴纳80元" in await say(bot, "o_th13", "陵川低保户交多少")
    reply = await say(bot, "o_th13", "2023年度")
    assert "【陵川县 2023年度" in reply and "您个人缴纳70元" in reply
    assert "您是想问" in await say(bot, "o_th14", "2023年度")  # without a question before: which question?
