"""`yibao ask` about 青禾县 2027 (docs/notices/qinghe-2027.txt, 青政办发〔2026〕31号): a next-year notice with
three tiers, subsidies on 一档, a students' standard, a late and a make-up period, the waiting period and
incentives of 国办发〔2024〕38号, newborn windows and a county-defined category. No code knows the county:
every figure below is the notice's, reached through the policy file alone."""

from __future__ import annotations

import pytest

from bot.cli import main

DOC = "青政办发〔2026〕31号"

# (date, question, what the answer must say, what it must not say)
QUESTIONS: list[tuple[str, str, list[str], list[str]]] = [
    # tiers by name, and who may choose the dearest
    ("2026-10-15", "青禾县医保今年交多少钱",
     ["一档400元", "二档600元", "三档900元", "三档仅限2026年度已按三档缴费"], ["只有一个"]),
    ("2026-10-15", "二档多少钱", ["二档：600元/人/年", "其他档次：一档400元、三档900元", "二（一）"], ["只有一个"]),
    ("2026-10-15", "第三档有什么条件", ["三档：900元", "三档仅限2026年度已按三档缴费、且2027年度继续参保的人员选择",
                                       "二（二）"], []),
    ("2026-10-15", "交中档要多少", ["二档：600元/人/年"], ["只有一个"]),
    ("2026-10-15", "有几个档次", ["一档400元", "二档600元", "三档900元"], ["只有一个"]),
    ("2026-10-15", "青禾高档多少钱", ["三档：900元/人/年"], ["只有一个"]),
    ("2026-10-15", "财政补助多少", ["不低于700元", "二（三）"], []),
    # subsidies on 一档, the difference paid for a dearer tier
    ("2026-10-15", "低保户交多少", ["城乡低保对象：一档400元", "资助320元（80%）", "您个人缴纳80元", "三（二）"], []),
    ("2026-10-15", "低保户交二档自己出多少",
     ["二档600元", "按一档标准资助320元", "您个人缴纳280元", "三（二），三"], []),
    ("2026-10-15", "特困人员选三档要交多少",
     ["三档900元", "按一档标准资助400元", "您个人缴纳500元"], ["您个人缴纳0元"]),
    ("2026-10-15", "五保户要交钱吗", ["特困人员", "全额资助", "您个人缴纳0元", "三（一）"], []),
    ("2026-10-15", "孤儿交多少", ["孤儿", "您个人缴纳0元"], []),
    ("2026-10-15", "监测户交多少", ["防止返贫监测对象", "定额资助280元", "您个人缴纳120元", "三（三）"], []),
    ("2026-10-15", "我是低保户也是监测户交多少", ["您个人缴纳80元", "不含已纳入城乡低保对象范围的人员"], ["120元"]),
    # the county-defined category
    ("2026-10-15", "退捕渔民交多少", ["退捕渔民：一档400元", "资助200元（50%）", "您个人缴纳200元", "三（四）"], []),
    ("2026-10-15", "我是上岸渔民又是低保，交多少", ["就高不就低", "城乡低保对象", "您个人缴纳80元", "三（五）"], []),
    # the students' standard replaces the tier choice
    ("2026-10-15", "大学生交多少", ["统一按400元/人/年缴费，不选择档次", "由所在学校统一组织参保、代收代缴",
                                    "您个人缴纳400元", "二（四）"], []),
    ("2026-10-15", "在校大学生交三档行不行", ["不选择档次", "您个人缴纳400元"], ["900元"]),
    # the calendar: collection, 延长缴费期, 补缴期
    ("2026-12-30", "还能交吗",
     ["现在可以缴费", "截止2026年12月31日（还有1天）", "延长缴费期2027年1月1日至2027年2月28日",
      "补缴期2027年3月1日至2027年6月30日"], []),
    ("2027-01-01", "过了12月31日还能交吗", ["集中参保期已于2026年12月31日结束", "现在是延长缴费期",
                                            "春节返乡的外出务工人员、退役军人、刑满释放人员仍可缴费",
                                            "还有58天", "从缴费次日起享受待遇", "补缴期2027年3月1日至2027年6月30日"],
     []),
    ("2027-01-10", "打工回来还能交吗", ["现在是延长缴费期（2027年1月1日至2027年2月28日）", "还有49天",
                                      "从缴费次日起享受待遇"], []),
    ("2027-02-28", "今天还能交吗", ["截止2027年2月28日（就是今天）"], []),
    ("2027-03-01", "补缴期什么时候结束", ["现在是补缴期（2027年3月1日至2027年6月30日）", "还有121天",
                                         "设待遇等待期3个月", "四（四）"], ["None"]),
    ("2027-07-01", "现在还能交吗", ["已经结束", "2028年度的缴费通知尚未公布"], []),
    # the waiting period: computed from the notice's numbers, with its source
    ("2026-12-06", "我断了两年没交，现在交了多久能报销？", ["断保2年", "固定待遇等待期3个月", "变动待遇等待期2个月",
                                                        "共5个月", "等待期从2027年1月1日起算", "2027年6月1日起享受待遇",
                                                        "五（一）"], []),
    ("2026-12-06", "断保两年，补缴了一年，多久能报销", ["补缴1年", "补缴减少1个月", "共4个月", "2027年5月1日起享受待遇",
                                                    "五（二）"], []),
    ("2027-03-10", "去年没交，现在交什么时候能用", ["断保1年", "共4个月", "等待期从2027年3月11日起算",
                                                  "2027年7月11日起享受待遇"], []),
    ("2026-12-06", "待遇等待期是几个月", ["待遇等待期3个月", "每断保1年再加1个月", "不设等待期",
                                        "2027年1月1日起享受待遇"], []),
    # incentives
    ("2026-12-06", "连续参保有什么奖励", ["连续参保满4年后", "大病保险最高支付限额提高1000元", "20%", "激励额度清零",
                                        "五（三），五（四），五（五）"], []),
    ("2026-12-06", "去年一分钱没报销过，今年有没有奖励", ["零报销激励", "次年度大病保险最高支付限额提高1000元"], []),
    # when benefits start, newborns, students
    ("2026-12-06", "交了什么时候开始报销", ["待遇享受期为2027年1月1日至2027年12月31日",
                                          "在补缴期（2027年3月1日至2027年6月30日）缴费的", "四（二）"], []),
    ("2026-12-06", "孩子刚出生怎么参保",
     ["出生90天内完成参保缴费，自出生之日起享受待遇", "出生91天至365天参保缴费的，自缴费之日起享受待遇",
      "出生超过365天参保的，设待遇等待期3个月"], []),
    ("2026-12-06", "大学生什么时候开始享受待遇",
     ["全日制大中专院校在校学生的待遇享受期为2026年9月1日至2027年8月31日"], []),
    # how to pay, fees, family accounts
    ("2026-12-06", "怎么交", ["“东川税务”微信公众号", "学校代收", "县政务服务中心税务窗口"], []),
    ("2026-12-06", "要手续费吗", ["不收手续费", "不得收取手续费、代办费"], []),
    ("2026-12-06", "用职工医保给父母交可以吗", ["职工医保个人账户为近亲属缴纳居民医保费", "六（四）"], []),
]


@pytest.mark.parametrize(("on", "question", "must", "must_not"), QUESTIONS,
                         ids=[f"q{i:02d}" for i in range(len(QUESTIONS))])
def test_qinghe_question(capsys: pytest.CaptureFixture[str], on: str, question: str, must: list[str],
                         must_not: list[str]) -> None:
    assert main(["ask", "--region", "青禾县", "--date", on, question]) == 0
    out = capsys.readouterr().out
    assert out.startswith("【青禾县 2027年度城乡居民医保】"), out
    assert f"依据：{DOC}" in out, out
    for text in must:
        assert text in out, f"{question}: missing {text!r} in\n{out}"
    for text in [*must_not, "None", "{{"]:
        assert text not in out, f"{question}: {text!r} in\n{out}"


def test_at_least_thirty_questions() -> None:
    assert len(QUESTIONS) >= 30


def test_the_region_named_in_the_question(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--date", "2026-10-15", "青禾县低保户交三档多少"]) == 0
    out = capsys.readouterr().out
    assert "【青禾县 2027年度城乡居民医保】" in out and "您个人缴纳580元" in out


def test_a_county_without_the_national_rules_says_it_does_not_specify(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--region", "陵川县", "--date", "2024-11-20", "我断了两年没交，现在交了多久能报销？"]) == 0
    out = capsys.readouterr().out
    assert "通知没有规定待遇等待期" in out and "陵政办函〔2024〕16号" in out
    assert main(["ask", "--region", "陵川县", "--date", "2024-11-20", "连续参保有什么奖励"]) == 0
    assert "通知没有规定连续参保或零报销的激励办法" in capsys.readouterr().out
