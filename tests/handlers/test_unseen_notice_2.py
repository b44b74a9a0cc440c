"""Answers about a second notice no code was written against: 澄湾区 2027 (澄医保联〔2026〕18号), a fictional 市辖区
notice kept with its policy in tests/fixtures/ (tests/fixtures/notices/chengwan-2027.txt). Its own words and
figures: 成年居民420元 and 未成年人和全日制在校学生360元 with no tier choice; 低保 70%, 监测对象 and 低收入人口
定额, 计生特扶 50%, 精减退职职工 全额; a 集中征缴期 across the new year (2026年10月20日至2027年1月31日) with no
monthly window, a closed fortnight, then a 补缴期 (2027年2月15日至4月30日) for everyone with a waiting period
(3个月, 每断保1年加1个月, 最长9个月); bank counters and 村级代办 (不得收取任何费用); a refund deadline."""

from __future__ import annotations

import pytest

from tests.handlers.unseen import OUR_COUNTIES, asker, check_answer

DOC = "澄医保联〔2026〕18号"
ENQUIRY = "户籍所在地镇（街道）便民服务中心或区医保服务中心"
SEASON = "2026-11-10"


ask = asker("澄湾区")


# (date, question, what the answer must say, what it must not say)
QUESTIONS: list[tuple[str, str, list[str], list[str]]] = [
    # the standards and each group
    (SEASON, "学生交多少", ["全日制在校学生（含大中专院校学生）统一按360元/人/年缴费", "二（二）"], ["400元"]),
    (SEASON, "小孩交多少", ["未成年人（2009年1月1日以后出生）统一按360元/人/年缴费"], []),
    (SEASON, "低保户交多少", ["城乡低保对象：个人缴费标准420元，资助294元（70%），您个人缴纳126元", "三（二）"], []),
    (SEASON, "监测户交多少", ["定额资助150元，您个人缴纳270元", "三（三）"], []),
    (SEASON, "低收入人口交多少", ["定额资助100元，您个人缴纳320元", "三（四）"], []),
    (SEASON, "计生特扶交多少", ["资助210元（50%），您个人缴纳210元", "三（五）"], []),
    (SEASON, "精减退职职工要交钱吗", ["精减退职职工", "由区财政全额资助，您个人缴纳0元", "三（六）"], []),
    (SEASON, "我是低保户也是监测户交多少", ["就高不就低", "您个人缴纳126元"], ["270元"]),
    (SEASON, "财政补助多少", ["不低于720元", "二"], []),
    # a minor or student who is also in a subsidised group: the figures printed for that standard (三（二）—（四）),
    # a full subsidy on it, and what the notice leaves unclear (计生特扶 按成年居民缴费标准的50%) said so
    (SEASON, "孩子是低保户交多少", ["资助252元", "您个人缴纳108元", "三（二）"], ["您个人缴纳360元", "126元"]),
    (SEASON, "大学生是低保户交多少", ["您个人缴纳108元", "三（二）"], ["您个人缴纳360元"]),
    (SEASON, "学生是监测户交多少", ["定额资助150元", "您个人缴纳210元", "三（三）"], ["您个人缴纳360元"]),
    (SEASON, "孩子是低收入人口交多少", ["您个人缴纳260元", "三（四）"], ["您个人缴纳360元"]),
    (SEASON, "孩子是孤儿交多少", ["全额资助", "您个人缴纳0元", "三（一）"], ["您个人缴纳360元"]),
    (SEASON, "学生是计生特扶交多少", ["通知未写明", ENQUIRY], ["您个人缴纳360元", "您个人缴纳150元"]),
    # the two standards wherever the fee is asked without a group
    (SEASON, "交多少", ["420元", "未成年人（2009年1月1日以后出生）", "360元", "二（二）"], []),
    (SEASON, "有几个档次", ["420元", "360元"], []),
    (SEASON, "一家4口交多少", ["420元", "360元"], []),
    # 七（三）: a wrong payment is corrected at the place of payment
    (SEASON, "交错了怎么改", ["缴费信息有误的，可持本人身份证件到原缴费地点申请更正", "七（三）"], ["通知没有写"]),
    # 五: the newborn window in the notice's words, its fee rule, and no lapsed-years rule for a baby
    (SEASON, "新生儿怎么参保", ["出生后3个月内（含出生当月）", "按未成年人标准缴纳", "五"], ["90天"]),
    (SEASON, "孩子出生4个月了还能参保吗", ["出生3个月后参保的", "设待遇等待期3个月，等待期满后享受待遇"],
     ["90天", "断保"]),
    # a covered alias: the name already lists its sub-groups, once
    (SEASON, "低保边缘户交多少", ["低收入人口（低保边缘家庭成员、刚性支出困难家庭成员）", "您个人缴纳320元"],
     ["）（含"]),
    (SEASON, "残疾人交多少", ["通知没有提到", "420元", ENQUIRY], ["400元"]),
    # the calendar: before, in, on the last day, the closed fortnight before the 补缴期, in it, after it
    ("2026-10-01", "什么时候开始交",
     ["缴费还没开始", "2026年10月20日至2027年1月31日", "补缴期2027年2月15日至2027年4月30日"], ["每月"]),
    (SEASON, "最晚什么时候交", ["现在可以缴费", "截止2027年1月31日（还有82天）", "四（一）"], ["本月"]),
    ("2027-01-31", "今天还能交吗", ["截止2027年1月31日（就是今天）"], []),
    ("2027-02-05", "现在能交吗",
     ["集中征缴期已于2027年1月31日结束，现在暂不能缴费", "补缴期2027年2月15日开始（还有10天）", "截止2027年4月30日",
      "待遇等待期3个月", "四（三）"], ["2028年度", "尚未公布"]),
    ("2027-02-05", "低保户交多少",
     ["您个人缴纳126元", "补缴期2027年2月15日至2027年4月30日可缴费", "四（三）"], ["尚未公布"]),
    ("2027-03-10", "现在还能交吗", ["现在是补缴期（2027年2月15日至2027年4月30日）", "还有51天", "待遇等待期3个月",
                                   "最多加9个月"], []),
    ("2027-03-10", "断了十年没交现在交多久能报销", ["变动待遇等待期9个月", "共12个月", "2028年3月11日起享受待遇"], []),
    ("2027-05-10", "现在还能交吗", ["已经结束", "补缴期也已于2027年4月30日结束", ENQUIRY], []),
    # channels, handling fee, family account, moving, refunds
    (SEASON, "可以去银行交吗", ["中国农业银行、澄湾农村商业银行营业网点柜台", "六（二）"], []),
    (SEASON, "村里代办要手续费吗", ["代办点不得收取任何费用", "六（三）"], []),
    (SEASON, "用职工医保给父母交可以吗", ["为配偶、父母、子女等近亲属缴纳居民医保费", "六（五）"], []),
    (SEASON, "户口迁到外地了怎么办", ["户籍迁出本区", "区医保服务中心办理参保变更", "七（一）"], []),
    (SEASON, "交了能退吗", ["应于2027年6月30日前向区医保服务中心提出", "七（二）"], ["通知没有写"]),
    # another year: none on file
    (SEASON, "2026年度交多少", ["暂时没有澄湾区2026年度的缴费通知", "已收录的年度：2027年度", ENQUIRY], ["400元"]),
]


@pytest.mark.parametrize(("on", "question", "must", "must_not"), QUESTIONS,
                         ids=[f"q{i:02d}" for i in range(len(QUESTIONS))])
async def test_unseen_notice_question(on: str, question: str, must: list[str], must_not: list[str]) -> None:
    check_answer(await ask(on, question), question, header="【澄湾区 2027年度城乡居民医保】", doc=DOC,
                 must=must, must_not=must_not, others=(*OUR_COUNTIES, "柏塘"))
