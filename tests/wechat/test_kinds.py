"""Issue 16's remaining kinds through the webhook (real WeChat XML in, reply XML out): a mention is context and
the question is what is asked; close group names are never confused, and two groups named are told which rule
applies; a late period that has ended is said to have ended; helping someone pay. Figures and dates are the
notices' (陵川县 陵政办函〔2024〕16号, 周集镇 周办〔2024〕46号, 罗山县 罗政办〔2024〕42号, 乐至县
乐府办发〔2024〕16号)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.config import TZ
from bot.store.models import Follower
from tests.wechat import samples
from tests.wechat.samples import fresh


async def say(bot, openid: str, text: str) -> str:
    reply = await bot.ask(fresh(samples.TEXT, openid=openid, content=text))
    assert reply is not None
    return reply


async def test_working_away_is_context_when_the_fee_is_asked(bot):
    reply = await say(bot, "o_k1", "我在外地打工，陵川县低保户今年交多少")
    assert "城乡低保对象" in reply and "您个人缴纳80元" in reply and "陵政办函〔2024〕16号" in reply
    assert "延长" not in reply  # not the migrant workers' late period


async def test_close_group_names_are_never_confused(bot):
    monitored = await say(bot, "o_k2", "陵川县防返贫监测对象交多少")
    assert "防返贫监测对象" in monitored and "定额资助280元" in monitored and "您个人缴纳120元" in monitored
    assert "40元" not in monitored
    relapsed = await say(bot, "o_k3", "陵川县返贫致贫人口交多少")
    assert "返贫致贫人口" in relapsed and "您个人缴纳40元" in relapsed and "120元" not in relapsed


async def test_two_groups_named_are_told_which_rule_applies(bot):
    reply = await say(bot, "o_k4", "陵川县我家既是低保户又是返贫致贫人口，交多少")
    assert "城乡低保对象（个人缴纳80元）" in reply and "返贫致贫人口（个人缴纳40元）" in reply
    assert "通知未规定同时符合多种资助条件时按哪一种计算" in reply  # 陵川县's notice does not say: ask, no guess


async def test_a_late_period_that_has_ended_is_said_to_have_ended(make_bot):
    bot = await make_bot(clock=lambda: dt.datetime(2025, 3, 5, 10, 0, tzinfo=TZ))
    reply = await say(bot, "o_k5", "周集镇过年回来打工的现在还能交吗")
    assert "延长缴费期已于2025年2月28日结束" in reply
    assert "可以延长至" not in reply and "周办〔2024〕46号" in reply
    inside = await make_bot(clock=lambda: dt.datetime(2025, 1, 10, 10, 0, tzinfo=TZ))
    reply = await say(inside, "o_k6", "周集镇过年回来打工的现在还能交吗")
    assert "现在还能交，截止2025年2月28日" in reply and "从缴费次日起享受待遇" in reply


async def test_helping_someone_pay(bot):
    village = await say(bot, "o_k7", "罗山县村里有人帮着交吗")
    assert "村（社区）集中代征点" in village and "罗政办〔2024〕42号" in village
    family = await say(bot, "o_k8", "乐至县儿子能替我交不")
    assert "亲情账户" in family and "职工医保个人账户" in family and "乐府办发〔2024〕16号" in family


# -- paid and checking, 能交吗 alone, a county in an unreadable question, already in 职工医保 (session 5) ------


async def test_paid_and_asking_how_to_check_gets_the_record_or_the_notice(bot):
    assert "已记住您的地区：周集镇" in await say(bot, "o_k9", "我是周集镇的")
    for text in ("钱交了怎么知道成功没", "我已经交了怎么查"):
        reply = await say(bot, "o_k9", text)
        assert "您是想问" not in reply and "先绑定" in reply
        assert "村里会适时公示本村参保缴费情况" in reply and "周办〔2024〕46号 七，八（三）" in reply


async def test_can_i_pay_now_alone_is_the_period_in_the_follower_s_county(bot):
    await say(bot, "o_k10", "我是罗山县的")
    reply = await say(bot, "o_k10", "能交吗")
    assert "现在可以缴费" in reply and "罗政办〔2024〕42号" in reply and "您是想问" not in reply
    asked = await say(bot, "o_k11", "还能交不")  # no county yet: asked, and the question waits for it
    assert "请问您在哪个县（镇）参保" in asked
    reply = await say(bot, "o_k11", "陵川")
    assert "【陵川县 2025年度城乡居民医保】" in reply and "本月截止11月25日" in reply


async def test_a_county_in_an_unreadable_question_is_not_where_the_follower_lives(bot):
    reply = await say(bot, "o_k12", "陵川县有啥新政策没")
    assert "已记住您的地区" not in reply and "如果您在陵川县参保，回复“陵川县”" in reply
    assert await bot.scalar(select(Follower.county).where(Follower.openid == "o_k12")) is None
    assert "已记住您的地区：陵川县" in await say(bot, "o_k12", "我是陵川县的")
    assert await bot.scalar(select(Follower.county).where(Follower.openid == "o_k12")) == "陵川县"


async def test_already_in_employee_insurance_gets_the_notice_s_rule_or_its_silence(bot):
    luoshan = await say(bot, "o_k13", "罗山县我有单位的医保还用交这个吗")
    assert "不属于城镇职工基本医疗保险覆盖范围" in luoshan and "依据：罗政办〔2024〕42号 二" in luoshan
    lingchuan = await say(bot, "o_k14", "陵川县有职工医保还要交居民医保吗")
    assert "通知没有写明已参加职工医保的人员还要不要参加城乡居民医保" in lingchuan
    assert "不得重复参保" not in lingchuan and "罗政办" not in lingchuan
