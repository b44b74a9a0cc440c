"""Answers about a notice no code was written against: 柏塘县 2026 (柏政办〔2025〕27号), a fictional notice kept
with its policy in tests/fixtures/ (tests/fixtures/notices/baitang-2026.txt), loaded the way bureau staff add one
(a policy folder besides the built-in one). Its own words and figures: two tiers 基本档380元/提高档680元, a
monthly window 每月5日至25日, subsidies full/fixed/rate on 基本档, a late period for two groups from the payment
date, a 180-day newborn window, no waiting period, a refund sentence, 不作调整 for the tier, 第N条 clauses."""

from __future__ import annotations

import pytest

from tests.handlers.unseen import OUR_COUNTIES, asker, check_answer

DOC = "柏政办〔2025〕27号"
ENQUIRY = "县医疗保障事务中心参保服务股"
SEASON = "2025-11-10"


ask = asker("柏塘县")


# (date, question, what the answer must say, what it must not say)
QUESTIONS: list[tuple[str, str, list[str], list[str]]] = [
    # the fee, the tiers, each group on 基本档
    (SEASON, "今年医保交多少钱", ["基本档380元、提高档680元", "第二条1"], ["400元"]),
    (SEASON, "有几个档次", ["基本档380元、提高档680元"], ["只有一个"]),
    (SEASON, "提高档和基本档有什么区别", ["通知规定2个档次", "档次一经选定，本年度内不作调整", "第二条2", ENQUIRY], []),
    (SEASON, "二档多少钱", ["没有您说的这个档次", "基本档380元、提高档680元"], []),
    (SEASON, "财政补助多少", ["不低于690元", "第二条3"], []),
    (SEASON, "低保户交多少", ["城乡低保对象：基本档380元", "定额资助300元", "您个人缴纳80元", "第三条2"], []),
    (SEASON, "五保户要交钱吗", ["特困供养人员", "全额资助", "您个人缴纳0元", "第三条1"], []),
    (SEASON, "重度残疾交多少", ["资助266元（70%）", "您个人缴纳114元", "第三条3"], []),
    (SEASON, "监测户交多少", ["防止返贫监测对象", "定额资助200元", "您个人缴纳180元", "第三条4"], []),
    (SEASON, "低保户交高档多少", ["提高档680元", "按基本档标准资助300元", "您个人缴纳380元", "第三条"], []),
    (SEASON, "我是低保户也是重度残疾交多少", ["就高不就低", "城乡低保对象", "您个人缴纳80元"], ["114元"]),
    # groups the notice does not name: the general fee and whom to ask, never another county's figure
    (SEASON, "脱贫户交多少", ["通知没有提到", "基本档380元、提高档680元", ENQUIRY], ["400元"]),
    (SEASON, "孤儿交多少", ["通知没有提到", ENQUIRY], ["您个人缴纳0元"]),
    (SEASON, "大学生交多少", ["通知没有提到", "基本档380元、提高档680元"], ["400元"]),
    # the calendar: before, in and between the monthly windows (from the 5th), the end, the late period, after
    ("2025-09-20", "什么时候开始交", ["缴费还没开始", "2025年10月10日至2026年1月20日", "每月5—25日可缴"], []),
    (SEASON, "最晚什么时候交", ["现在可以缴费", "本月截止11月25日（还有15天）", "下个月5日再缴", "第四条1"], []),
    ("2025-11-28", "现在能交吗", ["本月缴费已于25日截止", "12月5日至12月25日"], []),
    ("2026-01-03", "现在能交吗", ["本月缴费尚未开始", "1月5日至1月20日"], ["已于25日截止"]),
    ("2025-12-02", "低保户交多少", ["您个人缴纳80元", "本月12月5日起可缴费"], ["本月已截止"]),
    ("2026-01-20", "今天还能交吗", ["本月截止1月20日（就是今天）"], []),
    ("2026-02-10", "我外出打工过年回来的现在还能交吗",
     ["集中征缴期已于2026年1月20日结束", "2026年1月21日至2026年3月31日", "外出务工返乡人员、新退役军人仍可缴费",
      "还有49天", "自缴费之日起享受待遇", "第四条3"], ["次日"]),
    ("2026-04-10", "现在还能交吗", ["已经结束", "2027年度的缴费通知尚未公布", ENQUIRY], []),
    # benefits, newborns, no waiting period
    (SEASON, "交了什么时候开始报销", ["待遇享受期为2026年1月1日至2026年12月31日", "自缴费之日起享受待遇",
                                      "第四条2"], []),
    (SEASON, "孩子刚出生怎么参保", ["出生180天内完成参保缴费，自出生之日起享受待遇", "第五条"], ["90天"]),
    (SEASON, "待遇等待期是几个月", ["通知没有规定待遇等待期", ENQUIRY], ["3个月"]),
    # channels, students, family account, handling fee, who may enrol
    (SEASON, "怎么交", ["“北原医保”微信小程序", "“北原税务”APP", "乡镇便民服务大厅", "县政务服务中心医保窗口",
                        "第六条1", "第六条2"], ["东川"]),
    (SEASON, "中小学生怎么交", ["以学校（园）为单位参保", "第一条"], []),
    (SEASON, "用职工医保给父母交可以吗", ["为配偶、父母、子女缴纳居民医保费", "第六条3"], []),
    (SEASON, "要手续费吗", ["严禁搭车收费，不得向群众收取任何代收费用", "第六条"], []),
    (SEASON, "有职工医保还要交居民医保吗", ["未参加职工基本医疗保险", "第一条"], []),
    (SEASON, "户口迁到外地了怎么办", ["通知没有写明变更参保地的办法", ENQUIRY], []),
    # refunds, a wrong tier, paying twice, instalments: the notice's own sentence, not "it does not say"
    (SEASON, "交了能退吗", ["原则上不予退还", "因参军入伍、死亡或重复参保的", "第二条2"], ["通知没有写"]),
    (SEASON, "交重复了怎么办", ["因参军入伍、死亡或重复参保的，可持相关证明", "第二条2"], ["通知没有写重复缴费"]),
    (SEASON, "交错档次了能改吗", ["档次一经选定，本年度内不作调整", "第二条2"], ["通知没有写缴费后能不能更改"]),
    (SEASON, "能分期交吗", ["没有写可以分期", "第二条2"], []),
    # another year: none on file, said so, never borrowed
    (SEASON, "2025年度交多少", ["暂时没有柏塘县2025年度的缴费通知", "已收录的年度：2026年度", ENQUIRY], ["400元"]),
]


@pytest.mark.parametrize(("on", "question", "must", "must_not"), QUESTIONS,
                         ids=[f"q{i:02d}" for i in range(len(QUESTIONS))])
async def test_unseen_notice_question(on: str, question: str, must: list[str], must_not: list[str]) -> None:
    check_answer(await ask(on, question), question, header="【柏塘县 2026年度城乡居民医保】", doc=DOC,
                 must=must, must_not=must_not, others=(*OUR_COUNTIES,))


async def test_compared_with_another_county_each_from_its_own_notice() -> None:
    text = await ask(SEASON, "柏塘和陵川哪个便宜")
    assert "柏塘县2026年度：基本档380元、提高档680元（依据：柏政办〔2025〕27号 第二条1）" in text
    assert "陵川县2025年度" in text and "陵政办函〔2024〕16号" in text


async def test_paid_or_not_without_binding_says_the_notice_is_silent_on_checking() -> None:
    text = await ask(SEASON, "我交了吗")
    assert "本服务暂未接入" in text
    assert "【柏塘县】通知没有写明缴费后怎么查询缴费结果" in text and ENQUIRY in text and DOC in text


async def test_the_county_named_in_the_question_needs_no_region() -> None:
    text = await ask(SEASON, "柏塘县低保户交多少", region=None)
    assert "【柏塘县 2026年度城乡居民医保】" in text and "您个人缴纳80元" in text
