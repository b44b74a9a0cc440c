"""Answers checked against the notices (docs/notices/, /work/shared/seeds/): the text a resident sends, the
figures, dates, names and sources the answer must carry, and what it must not borrow from another county."""

from __future__ import annotations

import datetime as dt

from bot.config import Settings
from bot.pipeline import respond
from bot.rules.loader import load_registry
from bot.types import Context, Speaker

REGISTRY = load_registry()


async def ask(region: str, on: str, text: str) -> str:
    ctx = Context(today=dt.date.fromisoformat(on), registry=REGISTRY, speaker=Speaker(region=region),
                  settings=Settings(answer_cache=0))
    return (await respond(text, ctx)).text


# --- a group the county's notice does not name -------------------------------------------------------


async def test_a_group_no_notice_names_is_called_by_a_neutral_name_never_a_key():
    # 青禾县's students' standard is a group standard: 陵川县 names no students' figure, and the answer
    # names the group in words, not by its key.
    text = await ask("陵川县", "2024-11-20", "大学生交多少")
    assert "university_student" not in text
    assert "在校学生" in text and "400元" in text
    assert "依据：陵政办函〔2024〕16号 一" in text


async def test_a_group_the_notice_does_not_name_is_not_called_by_another_countys_words():
    # 罗山县 calls 脱贫户 "脱贫人口（监测对象）"; 陵川县's notice does not name them at all.
    text = await ask("陵川县", "2024-11-20", "脱贫户交多少")
    assert '"脱贫人口"' in text and "（监测对象）" not in text
    # 乐至县's severe grades (精神三、四级) are its own: 罗山县 does not name severe disability.
    text = await ask("罗山县", "2024-11-20", "重度残疾交多少")
    assert "重度残疾人" in text and "精神三、四级" not in text


async def test_a_group_not_named_in_a_county_with_tiers_is_given_every_tier():
    # 乐至县: 高档次540元、低档次400元; no subsidy for 脱贫人口, so neither tier is "the" standard.
    text = await ask("乐至县", "2024-11-20", "脱贫户交多少")
    assert "高档次540元" in text and "低档次400元" in text
    assert "按个人缴费标准540元" not in text
    assert "依据：乐府办发〔2024〕16号 二（二）" in text
    text = await ask("乐至县", "2024-11-20", "脱贫户是不是交400")
    assert text.startswith("对")
    text = await ask("乐至县", "2024-11-20", "脱贫户交高档多少")
    assert "高档次540元" in text and "低档次400元" not in text


async def test_a_group_the_notice_does_not_name_is_said_so_with_the_general_fee_and_whom_to_ask():
    # Every county's notice: the groups it subsidises, and the one fee it sets for everyone else.
    for region, on, asked, name, fee, enquiry, doc in (
        ("陵川县", "2024-11-20", "退役军人交多少", "退役军人", "400元/人/年", "县医保中心", "陵政办函〔2024〕16号 一"),
        ("罗山县", "2024-11-20", "重度残疾交多少", "重度残疾人", "400元/人/年", "医疗保障局", "罗政办〔2024〕42号 一"),
        ("周集镇", "2024-11-20", "脱贫户交多少", "脱贫人口", "400元/人/年", "便民服务站", "周办〔2024〕46号 4"),
        ("周集镇", "2024-11-20", "残疾人交多少", "残疾人", "400元/人/年", "便民服务站", "周办〔2024〕46号 4"),
        ("乐至县", "2024-11-20", "退役军人交多少", "退役军人", "高档次540元、低档次400元", "便民服务代办点",
         "乐府办发〔2024〕16号 二（二）"),
        # 青禾县 names 退役军人 only for its late period (四（三）), never with a subsidy
        ("青禾县", "2026-11-20", "退役军人交多少", "退役军人", "一档400元、二档600元、三档900元", "医保窗口",
         "青政办发〔2026〕31号 二（一）"),
    ):
        text = await ask(region, on, asked)
        assert f'通知没有提到"{name}"的参保资助' in text, text
        assert f"通知写的一般个人缴费标准：{fee}" in text, text
        assert "请咨询" in text and enquiry in text, text
        assert f"依据：{doc}" in text, text
        assert "按个人缴费标准" not in text and "按您选择" not in text  # never as if the notice said it of them


async def test_a_veteran_is_told_of_the_notices_youfu_group_without_being_counted_in_it():
    # No notice subsidises veterans as such; 乐至县 二（三）1 subsidises 重点优抚对象 in full (540元, 高档次),
    # 陵川县 四、5 在乡重点优抚对象 with no amount: named beside the general fee, with whom to ask whether one belongs.
    for region, asked, said, source in (
        ("乐至县", "我是退伍的老兵交多少",
         "通知资助重点优抚对象（高档次个人缴纳0元），退役军人不一定属于。", "二（三）1"),
        ("陵川县", "退役军人一年交多少钱",
         "通知资助在乡重点优抚对象（未写明资助金额），退役军人不一定属于。", "四、5"),
    ):
        text = await ask(region, "2024-11-20", asked)
        assert '通知没有提到"退役军人"的参保资助' in text, text
        assert said in text and "是否属于" in text, text
        assert source in text.splitlines()[-2], text
        assert "您个人缴纳0元" not in text  # never as if the veteran were in the group
    text = await ask("罗山县", "2024-11-20", "老兵交多少")  # no such group in its notice
    assert '通知没有提到"退役军人"的参保资助' in text and "优抚" not in text, text


async def test_a_group_asked_without_its_grade_gets_every_grade_the_notice_names():
    # 乐至县 二（三）2: 重度残疾（一、二级及精神三、四级） 低档次全额资助 400元; 二（三）3（2）: 一般残疾（三、四级）
    # 资助 200元 (50%).
    text = await ask("乐至县", "2024-11-20", "残疾人交多少")
    assert "重度残疾（一、二级及精神三、四级）：低档次400元，全额资助，您个人缴纳0元" in text
    assert "一般残疾（三、四级）：低档次400元，资助200元（50%），您个人缴纳200元" in text
    assert "依据：乐府办发〔2024〕16号 二（三）2，二（三）3（2）" in text
    text = await ask("乐至县", "2024-11-20", "残疾人是不是交200")
    assert text.startswith("说不准") and "哪一级" in text
    # with 低保 too (二（三）3（1） 75%, 300元; 就高不就低): each grade with the rule applied, never one grade alone
    text = await ask("乐至县", "2024-11-20", "低保户残疾人交多少")
    assert "您个人缴纳0元" in text and "按城镇低保救助对象、农村低保救助对象计算" in text and "您个人缴纳100元" in text
    # 陵川县 四、5 names 重度残疾人 alone, with no figure: that grade, and that it names no other
    text = await ask("陵川县", "2024-11-20", "残疾人交多少")
    assert "通知只提到重度残疾人，其他等级的残疾人没有提到" in text and "通知未写明资助金额" in text
    assert "请咨询户籍所在地或居住地的医保经办机构（县医保中心）" in text and "依据：陵政办函〔2024〕16号 四、5" in text


# --- a tier the notice's subsidy is not set on -------------------------------------------------------


async def test_a_tier_the_subsidy_is_not_set_on_is_said_to_be_unsaid_not_ignored():
    # 乐至县 二（三）3（1）: 低保 按低档次400元的75%资助300元. Of 高档次540元 for 低保 the notice says nothing.
    text = await ask("乐至县", "2024-11-20", "低保户交高档要交多少")
    lines = text.splitlines()
    assert "低档次400元" in lines[1] and "300元" in lines[1] and "100元" in lines[1]
    assert "高档次（540元）" in lines[1] and "未写明" in lines[1]
    assert "二（三）3（1）" in text and "二（二）" in text
    assert len(lines) <= 6
    # 被征地农转非超龄人员: full subsidy on 高档次540元; 低档次 is not in the notice for them.
    text = await ask("乐至县", "2024-11-20", "被征地农转非超龄人员交低档多少")
    assert "高档次540元" in text and "低档次（400元）" in text and "未写明" in text
    # A figure checked for the unsaid tier cannot be judged.
    text = await ask("乐至县", "2024-11-20", "低保户交高档是不是交240")
    assert text.startswith("说不准")
    # The tier the subsidy is set on, and a county whose notice says how a dearer tier works, are unchanged.
    text = await ask("乐至县", "2024-11-20", "低保户交低档多少")
    assert "100元" in text and "未写明" not in text
    text = await ask("青禾县", "2026-10-10", "低保户交二档要多少")
    assert "二档600元" in text and "320元" in text and "280元" in text and "未写明" not in text


# --- returning workers' late period ------------------------------------------------------------------


async def test_a_returning_worker_in_the_late_period_is_told_yes_and_the_days_left_once():
    # 周集镇 3: 集中参保缴费时间2024年9月1日至12月31日; 春节返乡的外出务工人员可以延长至2025年2月28日，
    # 从参保次日享受待遇.
    text = await ask("周集镇", "2025-02-28", "打工回来今天还能交吗")
    assert "现在还能交" in text and "2025年2月28日（就是今天）" in text and "次日" in text
    assert text.count("2025年2月28日") == 1  # said once, not again by the window line
    assert "依据：周办〔2024〕46号 3" in text
    text = await ask("周集镇", "2025-01-05", "我在外面打工过年回来还能交吗")
    assert "还有54天" in text and text.count("2025年2月28日") == 1
    text = await ask("周集镇", "2025-03-01", "打工回来还能交吗")
    assert "已于2025年2月28日结束" in text and "现在还能交" not in text


# --- newborns ------------------------------------------------------------------------------------------


async def test_a_newborn_answer_cites_every_line_and_says_what_is_not_written_past_the_window():
    # 周集镇 3: 出生90天内完成参保缴费，自出生之日起享受待遇 (nothing about later).
    text = await ask("周集镇", "2024-11-20", "孩子出生100天了还能参保吗")
    assert "出生90天内" in text and "超过90天" in text and "未写明" in text
    assert text.endswith("依据：周办〔2024〕46号 3")
    # 青禾县 四（五） says what happens after 90 days: no "未写明" there.
    text = await ask("青禾县", "2026-10-10", "孩子出生半年了怎么参保")
    assert "出生91天至365天" in text and "自缴费之日起" in text and "未写明" not in text


async def test_a_newborn_answer_carries_only_what_the_notice_says_of_newborns():
    # The registration rules speak of everyone or of students (青禾县 二（四） 在校大学生由所在学校统一组织参保;
    # 周集镇 5 在校学生以户籍地所在村…): not a newborn's, so not in the newborn answer, nor in its source line.
    for region, on, doc in (("青禾县", "2026-11-20", "青政办发〔2026〕31号 四（五）"),
                            ("周集镇", "2024-11-20", "周办〔2024〕46号 3")):
        text = await ask(region, on, "孩子刚出生怎么参保")
        assert "出生90天内完成参保缴费，自出生之日起享受待遇" in text
        assert "学生" not in text and "学校" not in text and "两委" not in text
        assert text.splitlines()[-1] == f"依据：{doc}"


# --- whom to ask -------------------------------------------------------------------------------------------


async def test_whom_to_ask_reads_as_one_phrase_in_every_sentence():
    # 罗山县 names the 县医疗保障局 and the township 便民服务中心: one phrase, so "请向…反映" and "请咨询…" read.
    text = await ask("罗山县", "2024-11-20", "代办收手续费吗")
    assert "请向县医疗保障局或就近的乡镇（街道）便民服务中心反映" in text
    for region in REGISTRY.regions():
        for policy in REGISTRY.for_region(region):
            assert "；" not in policy.region.enquiry.text, region


# --- how to pay ----------------------------------------------------------------------------------------------


async def test_channels_the_notice_says_the_same_of_share_one_line():
    # 罗山县 三（二）1: 微信、支付宝、河南税务、豫事办、手机银行等APP及电子税务局等平台自行缴费.
    text = await ask("罗山县", "2024-11-20", "怎么交")
    assert "· 微信、支付宝、河南税务APP、豫事办APP、手机银行APP、电子税务局：自行缴费" in text
    assert text.count("自行缴费") == 1
    assert "罗山县行政审批和政务信息管理局税务窗口" in text
    assert "依据：罗政办〔2024〕42号 三（二）1，三（二）2" in text
    assert len(text.splitlines()) <= 9
    # Every channel of every notice is still named.
    for region in REGISTRY.regions():
        policy = REGISTRY.for_region(region)[-1]
        on = policy.collection.start.isoformat()
        text = await ask(region, on, "怎么交")
        for c in policy.channels:
            if c.kind != "registration":
                assert c.name in text, (region, c.name)


# --- handling fee and the government's subsidy ----------------------------------------------------------


async def test_handling_fee_and_subsidy_give_the_tiers_in_one_line_with_their_clause():
    # 青禾县 六: 任何单位和个人不得收取手续费; 二（一）: 一档400元、二档600元、三档900元; 二（三）: 不低于700元.
    text = await ask("青禾县", "2026-10-10", "要手续费吗")
    assert "不收手续费" in text and "一档400元、二档600元、三档900元" in text
    assert "依据：青政办发〔2026〕31号 六，二（一）" in text
    assert len(text.splitlines()) <= 5
    text = await ask("青禾县", "2026-10-10", "财政补助多少")
    assert "不低于700元" in text and "一档400元、二档600元、三档900元" in text
    assert "依据：青政办发〔2026〕31号 二（三），二（一）" in text
    # 乐至县 二（二） prints the subsidy and the tiers in one clause: cited once.
    text = await ask("乐至县", "2024-11-20", "代办点收手续费吗")
    assert "高档次540元、低档次400元" in text and "依据：乐府办发〔2024〕16号 四（四），二（二）" in text


# --- registration --------------------------------------------------------------------------------------------


async def test_registration_says_each_way_to_register_once():
    # 乐至县 三（一）1、2: online (四川医保公共服务平台…) and offline (便民服务中心、代办点), each once.
    text = await ask("乐至县", "2024-11-20", "怎么参保登记")
    assert text.count("四川省政务服务网") == 1
    assert text.count("原件及复印件") == 1
    assert "依据：乐府办发〔2024〕16号" in text and "三（一）1" in text and "三（一）2" in text
    text = await ask("陵川县", "2024-11-20", "去哪里参保登记")
    assert text.count("户籍所在地或居住地医保经办机构") == 1


async def test_a_group_answered_under_the_group_that_includes_it_is_named():
    # 陵川县 四、3: 特困人员(含孤儿和事实无人抚养儿童)…全额资助，即每人每年资助400元.
    text = await ask("陵川县", "2024-11-20", "孤儿是不是不用交钱")
    assert text.startswith("对")
    assert "特困人员（含孤儿、事实无人抚养儿童）" in text and "0元" in text
    assert "依据：陵政办函〔2024〕16号 四、3" in text
    text = await ask("陵川县", "2024-11-20", "特困户交多少")
    assert "特困人员：" in text  # asked by its own name: no need to say what it includes


# --- when cover starts -------------------------------------------------------------------------------------


async def test_when_cover_starts_gives_newborns_one_line_and_points_to_the_rest():
    # 青禾县 四（二）–四（五）, 五（一）: every period once; the newborns' later windows are the newborn answer's.
    text = await ask("青禾县", "2026-10-10", "交了什么时候能用")
    assert "2027年1月1日至2027年12月31日" in text and "2026年9月1日至2027年8月31日" in text
    assert "从缴费次日起享受待遇" in text and "待遇等待期3个月" in text
    assert "出生90天内" in text and "新生儿怎么参保" in text and "出生91天至365天" not in text
    assert "四（五）" in text
    assert len(text.splitlines()) <= 9


# --- a season we have no notice for ------------------------------------------------------------------------


async def test_a_year_after_the_latest_period_opened_its_figures_are_for_reference_only():
    # 陵川县 2023年度 (陵政办发〔2022〕41号): 350元, collected 2022年9月1日至12月25日. On 2023年10月10日 the
    # 2024年度 season is collecting under a notice we do not have: 350元 is not this season's figure.
    text = await ask("陵川县", "2023-10-10", "交多少钱")
    assert "2024年度的缴费标准尚未公布" in text and "仅供参考" in text and "350元" in text
    assert not text.startswith("【陵川县 2023年度")
    text = await ask("乐至县", "2025-10-10", "低保户交多少")
    assert "2026年度的缴费标准尚未公布" in text and "仅供参考" in text
    # Right after a period ends, the year just collected is still the one answered (2026年度 not yet due).
    text = await ask("陵川县", "2025-03-10", "交多少钱")
    assert text.startswith("【陵川县 2025年度") and "2026年度的缴费通知尚未公布" in text


async def test_a_period_that_has_not_begun_is_never_said_to_have_ended():
    # 罗山县's only notice collects 2024年10月1日至12月31日; asked on 2023年11月10日 it has not begun.
    for question in ("交多少钱", "还能交吗"):
        text = await ask("罗山县", "2023-11-10", question)
        assert "2024年10月1日至2024年12月31日，尚未开始" in text and "已结束" not in text
        assert "2024年度的缴费" in text and "仅供参考" in text


# --- paying for family ---------------------------------------------------------------------------------------


async def test_the_family_account_names_each_channel_once():
    # 陵川县 三（三）: 可以通过山西医保公众号线上办理，也可到全市任一家医保经办机构窗口或参保点代为办理.
    text = await ask("陵川县", "2024-11-20", "能用职工医保给家里人交吗")
    assert text.count("山西医保公众号") == 1 and text.count("医保经办机构窗口或参保点") == 1
    assert "依据：陵政办函〔2024〕16号 三（三）" in text
    # 乐至县 三（二）4: 资阳市正常参加职工基本医疗保险的参保人员，可通过四川医保APP、…小程序.
    text = await ask("乐至县", "2024-11-20", "能用亲情账户给爸妈交吗")
    assert text.count("四川医保APP") == 1 and "资阳市" in text
    # 周集镇 says nothing of it: whom to ask.
    text = await ask("周集镇", "2024-11-20", "能用职工医保给孩子交吗")
    assert "通知没有提到" in text and "便民服务站" in text


# --- the period line's source -----------------------------------------------------------------------------------


async def test_the_period_a_fee_answer_ends_with_is_cited_too():
    # 陵川县: 低保 四、4; the period 2024年9月1日至2025年2月25日 and 每月1—25日 二.
    text = await ask("陵川县", "2024-11-26", "低保户交多少")
    assert "12月1日起可再缴费" in text and "依据：陵政办函〔2024〕16号 四、4，二" in text
    # 周集镇 on 2025年1月10日: the fee 4, the period and the returning workers' late period 3.
    text = await ask("周集镇", "2025-01-10", "交多少钱")
    assert "2025年2月28日" in text and "依据：周办〔2024〕46号 4，3" in text
    # 罗山县's channels end with the period (三（二）), which is also where the channels are.
    text = await ask("罗山县", "2024-11-20", "怎么交")
    assert "依据：罗政办〔2024〕42号 三（二）1，三（二）2，三（二）" in text


# --- the details offered after a fee answer ----------------------------------------------------------------------


async def _details(region: str, on: str) -> str:
    speaker = Speaker(openid="o_details", region=region)
    for text in ("交多少钱", "1"):
        ctx = Context(today=dt.date.fromisoformat(on), registry=REGISTRY, speaker=speaker,
                      settings=Settings(answer_cache=0))
        reply = await respond(text, ctx)
        speaker = reply.speaker
    return reply.text


async def test_details_call_only_the_notices_words_original_and_say_whom_to_ask_once():
    # 陵川县 四、5: 在乡重点优抚对象、重度残疾人等困难群众继续执行原有的参保资助政策 (the notice's words).
    text = await _details("陵川县", "2024-11-20")
    assert "在乡重点优抚对象、重度残疾人：通知未写明资助金额（原文：继续执行原有的参保资助政策）" in text
    assert "城乡低保对象：个人缴费标准400元，个人缴纳80元" in text
    assert text.count("请咨询") == 1
    # 罗山县 prints no figure for any group; the file's summary of why is not the notice's words.
    text = await _details("罗山县", "2024-11-20")
    assert "原文" not in text and text.count("请咨询") == 1
    for name in ("特困供养人员", "孤儿", "事实无人抚养儿童", "城乡低保对象", "低保边缘家庭成员",
                 "脱贫人口（监测对象）"):
        assert name in text


# --- a date checked -----------------------------------------------------------------------------------------------


async def test_a_late_periods_end_checked_is_not_simply_right():
    # 周集镇 3: 集中参保缴费时间…至2024年12月31日; 春节返乡的外出务工人员…可以延长至2025年2月28日.
    text = await ask("周集镇", "2024-11-20", "截止是不是2月28号")
    assert text.startswith("不全对") and "春节返乡的外出务工人员" in text and "12月31日" in text.splitlines()[0]
    # 青禾县 四（四）: 补缴期 to 2027年6月30日 for everyone not paid, with a waiting period.
    text = await ask("青禾县", "2026-10-10", "截止是不是6月30号")
    assert text.startswith("不全对") and "补缴期" in text.splitlines()[0] and "12月31日" in text.splitlines()[0]
    # Inside the late period its end is the date that holds: 对.
    text = await ask("周集镇", "2025-01-10", "截止是不是2月28号")
    assert text.startswith("对，是2月28日（只适用于春节返乡的外出务工人员）")
    # The period's own end (乐至县 二（四）: 至2025年2月28日) is simply right.
    text = await ask("乐至县", "2024-11-20", "截止是不是2月28号")
    assert text.startswith("对")


async def test_a_deadline_asked_in_a_late_period_for_some_gives_the_days_left():
    # 周集镇 3: 春节返乡的外出务工人员…可以延长至2025年2月28日.
    text = await ask("周集镇", "2025-02-28", "还能交吗")
    assert "春节返乡的外出务工人员仍可缴费，截止2025年2月28日（就是今天）" in text
    assert "其他人员已过缴费期" in text and "依据：周办〔2024〕46号 3" in text
    text = await ask("周集镇", "2025-01-05", "什么时候截止")
    assert "截止2025年2月28日（还有54天）" in text


# --- what the notices do not answer: refunds, paying in parts, paying less -----------------------------


async def test_a_refund_is_said_to_be_unwritten_with_whom_to_ask_in_every_county():
    for region, on, enquiry in (("陵川县", "2024-11-20", "户籍所在地或居住地的医保经办机构（县医保中心）"),
                                ("罗山县", "2024-11-20", "县医疗保障局或就近的乡镇（街道）便民服务中心"),
                                ("青禾县", "2026-11-20", "户籍所在地乡镇（街道）便民服务中心或县政务服务中心医保窗口")):
        for asked in ("交了能退吗", "交错了能退吗"):
            text = await ask(region, on, asked)
            assert f"通知没有写缴费后能不能退费、怎么退费，请咨询{enquiry}。" in text, text
            assert "答不了" not in text and "元" not in text  # no guess, no figure


async def test_paying_in_parts_is_answered_from_the_payment_rule_or_said_to_be_unwritten():
    # 陵川县 一: 由参保人员按年度一次性足额缴纳; 青禾县 二（一） says so too; 罗山县 and 周集镇 say nothing of it.
    for asked in ("能分期交吗", "能先交一半吗"):
        text = await ask("陵川县", "2024-11-20", asked)
        assert "通知规定由参保人员按年度一次性足额缴纳，没有写可以分期或先交一部分" in text, text
        assert "依据：陵政办函〔2024〕16号 一" in text
        text = await ask("青禾县", "2026-11-20", asked)
        assert "参保人员按年度一次性足额缴纳" in text and "依据：青政办发〔2026〕31号 二（一）" in text, text
        text = await ask("罗山县", "2024-11-20", asked)
        assert "通知没有写能不能分期或先交一部分，请咨询县医疗保障局" in text, text
        assert "一次性" not in text  # never another county's rule


async def test_paying_less_gives_the_standard_and_the_groups_the_notice_subsidises():
    text = await ask("周集镇", "2024-11-20", "能少交点吗")
    # 周集镇 4: 400元; 特困供养人员全额资助, 低保对象 360元, 监测人口 200元
    assert "通知没有写可以少交。个人缴费标准：400元/人/年。" in text, text
    assert "特困供养人员、低保对象、监测人口" in text and "请咨询户籍所在地村" in text
    assert "依据：周办〔2024〕46号 4" in text and "一次性" not in text
    # a group named: that group's fee (俺是四级残疾，能少交点不)
    text = await ask("乐至县", "2024-11-20", "俺是四级残疾，合疗能少交点不")
    assert "您个人缴纳200元" in text


# --- comparisons: each side from its own notice -------------------------------------------------------------


async def test_two_counties_are_compared_each_from_its_own_notice_with_its_source():
    text = await ask("陵川县", "2024-11-20", "陵川和罗山哪个交的少")
    assert "陵川县2025年度：个人缴费标准400元/人/年（依据：陵政办函〔2024〕16号 一）" in text
    assert "罗山县2025年度：个人缴费标准400元/人/年（依据：罗政办〔2024〕42号 一）" in text
    assert "两地交的一样" in text
    # 陵川县 四、4: 低保 个人缴纳80元; 周集镇 4: 360元定额资助, so 40元
    text = await ask("罗山县", "2024-11-20", "陵川和周集低保户哪个交的少")
    assert "陵川县2025年度：城乡低保对象，个人缴纳80元（依据：陵政办函〔2024〕16号 四、4" in text
    assert "周集镇2025年度：低保对象，个人缴纳40元（依据：周办〔2024〕46号 4）" in text
    assert "周集镇交的少" in text
    # a year one county has no notice for: said so, never the other year's figure
    text = await ask("陵川县", "2024-11-20", "2023年陵川和罗山哪个交的少")
    assert "陵川县2023年度：个人缴费标准350元/人/年（依据：陵政办发〔2022〕41号 三）" in text
    assert "罗山县：暂时没有2023年度的缴费通知" in text and "交的少" not in text and "罗政办" not in text
    # tiers on one side (乐至县 二（二）): both figures, no verdict on which is lower
    text = await ask("陵川县", "2024-11-20", "乐至和罗山交的一样吗")
    assert "乐至县2025年度：高档次540元、低档次400元（依据：乐府办发〔2024〕16号 二（二））" in text
    assert "一样" not in text and "交的少" not in text


async def test_two_groups_compared_get_each_figure_not_the_reckoning_of_one_person_in_both():
    # 陵川县 四、4 低保 80元, 四、3 特困 0元
    text = await ask("陵川县", "2024-11-20", "低保和特困交的一样吗")
    assert "城乡低保对象：个人缴纳80元；特困人员：个人缴纳0元。特困人员交的少。" in text
    assert "您同时属于" not in text and "依据：陵政办函〔2024〕16号 四、4，四、3" in text
    # 乐至县 二（三）3（1）: 低保 and 监测对象 both 300元 subsidy on 低档次400元
    text = await ask("乐至县", "2024-11-20", "低保户和监测户各交多少")
    assert "个人缴纳100元；防止返贫监测对象：个人缴纳100元。一样。" in text
    # a group the notice does not name is given the general standard, and no comparison is drawn
    text = await ask("周集镇", "2024-11-20", "低保和脱贫户哪个交的少")
    assert "低保对象：个人缴纳40元；脱贫人口：通知没有提到这类人员的参保资助，一般个人缴费标准400元/人/年。" in text
    assert "交的少" not in text
    # one resident in both groups is still reckoned as such (就高不就低 where the notice says so)
    text = await ask("乐至县", "2024-11-20", "我是低保户也是特困交多少")
    assert "就高不就低" in text


# --- last year asked during a season -------------------------------------------------------------------


async def test_last_year_names_the_year_it_answers_or_says_its_notice_is_not_loaded():
    # On 2024-11-20 (the 2025 season) 去年 is 2023: 陵川县 has its 2023 notice (陵政办发〔2022〕41号 三: 350元).
    text = await ask("陵川县", "2024-11-20", "去年交多少")
    assert text.startswith("【陵川县 2023年度城乡居民医保】") and "个人缴费标准：350元/人/年" in text
    assert "依据：陵政办发〔2022〕41号 三" in text and "400元" not in text
    text = await ask("陵川县", "2024-11-20", "去年低保交多少")  # 六: 350元, 80% 280元, 70元
    assert text.startswith("【陵川县 2023年度城乡居民医保】") and "您个人缴纳70元" in text
    # no 2023 notice elsewhere, nor a 2025 one for 青禾县 on 2026-11-20: said so, with no other year's figure
    for region, on, year, known in (("罗山县", "2024-11-20", 2023, "2025年度"),
                                     ("周集镇", "2024-11-20", 2023, "2025年度"),
                                     ("乐至县", "2024-11-20", 2023, "2025年度"),
                                     ("青禾县", "2026-11-20", 2025, "2027年度")):
        for asked in ("去年交多少", "去年低保户交多少"):
            text = await ask(region, on, asked)
            assert text.startswith(f"暂时没有{region}{year}年度的缴费通知。已收录的年度：{known}。"), text
            assert "元" not in text and "依据" not in text


async def test_counties_are_compared_only_on_a_figure_of_the_same_kind_and_year():
    # 陵川县 has one standard (一): 高档 is 乐至县's (二（二） 540元), not a figure to set against 400元
    text = await ask("陵川县", "2024-11-20", "乐至和陵川高档哪个交的少")
    assert "乐至县2025年度：高档次540元/人/年" in text and "陵川县2025年度：不分档次，个人缴费标准400元/人/年" in text
    assert "交的少" not in text
    # on 2024-11-20 青禾县's only notice is for 2027: said as such, never weighed against 乐至县's 2025
    text = await ask("陵川县", "2024-11-20", "乐至和青禾低档哪个交的少")
    assert "青禾县2027年度" in text and "一样" not in text and "交的少" not in text


async def test_a_migrant_asking_how_to_pay_gets_the_channels_and_the_notices_line_for_them():
    # 周办〔2024〕46号 3: 春节返乡的外出务工人员…延长至2025年2月28日; 罗政办〔2024〕42号 has no extension.
    text = await ask("周集镇", "2024-11-20", "我在外地打工能在网上交吗")
    assert "可以在手机上（线上）缴费" in text
    assert "春节返乡的外出务工人员可延长至2025年2月28日缴费" in text
    assert "依据：周办〔2024〕46号 6（一），3" in text
    text = await ask("罗山县", "2024-11-20", "我在外地打工能在网上交吗")
    assert "可以在手机上（线上）缴费" in text and "微信、支付宝" in text
    assert "延长" not in text
    text = await ask("青禾县", "2026-11-20", "我在外地打工怎么交")
    assert "线上缴费：" in text
    assert "延长缴费期2027年1月1日至2027年2月28日：春节返乡的外出务工人员" in text


async def test_a_payment_to_correct_or_made_twice_is_said_to_be_unwritten_with_whom_to_ask():
    # No notice says how a tier paid wrongly is corrected, nor how a double payment is handled; 青政办发〔2026〕31号
    # 二（一） forbids changing the tier once paid (told, never "not written"); 周办〔2024〕46号 2 says 应保尽保、
    # 不重复参保, which the double payment is told.
    for asked in ("交错档次了能改吗", "缴了三档了还可以换回二档不", "给我爸选成了二档，想改成一档"):
        text = await ask("青禾县", "2026-11-20", asked)
        assert "通知规定：参保人员按年度一次性足额缴纳，缴费后当年度不得变更档次。" in text, text
    assert "通知没有写缴费后能不能更改" not in text and "县政务服务中心医保窗口" in text
    assert "依据：青政办发〔2026〕31号 二（一）" in text
    for region in ("陵川县", "乐至县", "罗山县"):  # their rules say nothing of changing
        text = await ask(region, "2024-11-20", "选错档了能改吗")
        assert "通知没有写缴费后能不能更改" in text, text
    text = await ask("周集镇", "2024-11-20", "交重复了怎么办")
    assert "不重复参保" in text and "通知没有写重复缴费怎么处理" in text and "便民服务站" in text
    assert "依据：周办〔2024〕46号 2" in text
    for region, enquiry in (("罗山县", "县医疗保障局"), ("陵川县", "县医保中心"), ("乐至县", "便民服务中心")):
        text = await ask(region, "2024-11-20", "一个人交两份可以吗")
        assert "通知没有写重复缴费怎么处理" in text and enquiry in text
        text = await ask(region, "2024-11-20", "多交了能退吗")
        assert "通知没有写缴费后能不能退费" in text and enquiry in text


async def test_tiers_compared_say_one_standard_or_each_tier_and_what_the_notice_sets_apart():
    # 罗政办〔2024〕42号 一: one standard, 400元; 青政办发〔2026〕31号 二（一）（二）: 一档400/二档600/三档900,
    # 三档 only for those on it in 2026, no change after paying; 乐府办发〔2024〕16号 二（二）: 高档次540/低档次400.
    text = await ask("罗山县", "2024-11-20", "二档和一档有啥区别")
    assert "只规定了一个缴费标准" in text and "400元" in text and "不分档次" in text
    text = await ask("青禾县", "2026-11-20", "二档和一档有啥区别")
    assert "一档400元、二档600元、三档900元" in text and "缴费后当年度不得变更档次" in text
    assert "三档仅限2026年度已按三档缴费" in text
    assert "通知没有写各档次的待遇" in text and "县政务服务中心医保窗口" in text
    assert len(text.splitlines()) <= 6
    text = await ask("乐至县", "2024-11-20", "高档低档有什么区别")
    assert "高档次540元、低档次400元" in text and "通知没有写各档次的待遇" in text


async def test_student_in_a_subsidised_group_gets_the_subsidy() -> None:
    # 青禾县 二（四）: 大学生统一按一档400元; 三: 资助以一档缴费标准为基数; 三（二）: 低保资助320元、个人缴费80元.
    text = await ask("青禾县", "2026-11-20", "大学生是低保户交多少")
    assert "资助320元" in text and "您个人缴纳80元" in text, text
    assert "您个人缴纳400元" not in text, text
    assert "三（二）" in text and "二（四）" in text, text
    text = await ask("青禾县", "2026-11-20", "大学生是特困户交多少")
    assert "您个人缴纳0元" in text, text
