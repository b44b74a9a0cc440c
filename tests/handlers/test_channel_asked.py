"""A question about one payment channel (能用支付宝交吗, 可以去银行交不, 在村里能交吗, 微信怎么交): whether the
county's notice lists it comes first, with its line, or that the notice does not name it, the channels it does
list and whom to ask; never the whole list for a yes/no question, never a yes the notice does not give."""

from __future__ import annotations

import pytest

from bot.nlu import channel
from tests.handlers.test_notice_answers import ask

ON = "2024-11-20"


def lines(text: str) -> list[str]:
    return text.splitlines()


@pytest.mark.parametrize("text", ["能用支付宝交吗", "支付宝可以交不", "用支付宝交行不行"])
async def test_a_channel_the_notice_does_not_name_is_said_to_be_unnamed(text):
    # 陵川县 三（二）: 微信、手机APP等渠道自主缴费 — no 支付宝.
    out = await ask("陵川县", ON, text)
    first = lines(out)[1]
    assert first.startswith("通知没有写可以用支付宝缴费") and "县医保中心" in first
    assert "通知列出的渠道：微信、手机APP" in out
    assert "可以用支付宝" not in out.replace("没有写可以用支付宝", "")
    assert "依据：陵政办函〔2024〕16号 三（二）" in out
    assert len(lines(out)) <= 6


@pytest.mark.parametrize(("region", "text", "first", "line", "source"), [
    ("罗山县", "能用支付宝交吗", "可以用支付宝缴费。", "· 支付宝：自行缴费", "罗政办〔2024〕42号 三（二）1"),
    ("陵川县", "微信能交吗", "可以用微信缴费。", "· 微信：自主缴费，注意缴费时正确选择参保缴费地和缴费年度",
     "陵政办函〔2024〕16号 三（二）"),
    ("乐至县", "可以去银行交不", "可以去银行缴费。", "· 代收银行（中国银行", "乐府办发〔2024〕16号 三（二）3"),
    ("罗山县", "在村里能交吗", "可以在村里缴费。", "· 村（社区）集中代征点：就近扫码缴费",
     "罗政办〔2024〕42号 三（二）2"),
    ("乐至县", "在村里能交吗", "可以在村里缴费。", "· 村（社区）便民服务代办点", "乐府办发〔2024〕16号 三（二）1"),
    # 周集镇 names 支付宝 only inside its mini programs' names, each for some people (6（一） 适用人群): those lines,
    # with whom they are for, and the yes says so.
    ("周集镇", "能用支付宝交吗", "可以用支付宝缴费（各渠道只限括号中的人员）。",
     "· “安徽医保公共服务”小程序（微信或支付宝）", "周办〔2024〕46号 6（一）"),
])
async def test_a_channel_the_notice_lists_is_a_yes_with_its_line(region, text, first, line, source):
    out = await ask(region, ON, text)
    assert lines(out)[1] == first
    assert lines(out)[2].startswith(line)
    assert f"依据：{source}" in out
    assert "线上缴费：" not in out and "其他渠道" not in out  # not the whole list
    assert len(lines(out)) <= 6


@pytest.mark.parametrize(("region", "text", "unnamed"), [
    ("陵川县", "可以去银行交不", "去银行"),
    ("陵川县", "在村里能交吗", "在村里"),
    ("罗山县", "去银行柜台能交吗", "去银行"),  # 罗山县 lists 手机银行APP, not a bank's counter
    ("周集镇", "可以去银行交不", "去银行"),
])
async def test_no_yes_the_notice_does_not_give(region, text, unnamed):
    out = await ask(region, ON, text)
    assert lines(out)[1].startswith(f"通知没有写可以{unnamed}缴费")
    assert "请咨询" in lines(out)[1] and "通知列出的渠道：" in out


async def test_how_through_one_channel_gives_its_line_first_then_the_others_in_one_line():
    out = await ask("陵川县", ON, "微信怎么交")
    assert lines(out)[1:3] == ["可以用微信缴费。", "· 微信：自主缴费，注意缴费时正确选择参保缴费地和缴费年度"]
    assert lines(out)[3].startswith("其他渠道：手机APP；替家人缴费（家庭共济账户）：山西医保公众号")


async def test_two_channels_named_are_each_answered():
    out = await ask("陵川县", ON, "微信和支付宝都能交吗")
    assert lines(out)[1].startswith("可以用微信缴费；通知没有写可以用支付宝缴费")
    out = await ask("乐至县", ON, "微信和支付宝都能交吗")
    assert lines(out)[1] == "可以用微信缴费；可以用支付宝缴费。" and "· 微信、支付宝：自助缴费" in out


@pytest.mark.parametrize("text", ["不会用微信怎么交", "没有支付宝怎么交", "除了微信还能怎么交", "怎么交"])
async def test_a_channel_one_cannot_use_or_none_named_gets_every_channel(text):
    out = await ask("罗山县", ON, text)
    assert "线上缴费：" in out and "罗山县行政审批和政务信息管理局税务窗口" in out


def test_specific_names_are_not_read_as_the_general_one():
    asked = channel.named("手机银行能交吗")
    assert asked is not None and [t.key for t in asked.terms] == ["mobile_bank"]
    asked = channel.named("四川税务微信公众号能交吗")
    assert asked is not None and [t.key for t in asked.terms] == ["tax"]
    assert channel.named("怎么交") is None


@pytest.mark.parametrize(("region", "on", "listed"), [
    ("陵川县", ON, "通知列出的渠道：微信、手机APP；"),
    ("罗山县", ON, "通知列出的渠道：微信、支付宝、河南税务APP、豫事办APP、手机银行APP"),
    ("周集镇", ON, "通知列出的渠道：“安徽医保公共服务”小程序、“安徽税务社保缴费”小程序、皖事通APP、村便民服务站"),
    ("乐至县", ON, "通知列出的渠道：四川省电子税务局"),
    ("青禾县", "2026-11-20", "通知列出的渠道：“东川税务”微信公众号、“东川医保”小程序、微信、支付宝"),
])
async def test_a_way_to_pay_no_notice_names_is_said_to_be_unnamed_with_the_channels_it_lists(region, on, listed):
    out = await ask(region, on, "能用云闪付交吗")
    assert lines(out)[1].startswith("通知没有写可以用云闪付缴费，能不能这样交请咨询"), out
    assert listed in out and "线上缴费：" not in out  # the channels in one line, not the whole list
    assert len(lines(out)) <= 6


async def test_a_bank_card_is_a_yes_only_where_the_notice_names_paying_by_card():
    # 罗山县 三（二）1 and 青禾县 六 list 手机银行APP, no card: not a yes. 乐至县 三（二）5: POS机终端刷卡, for
    # those who pay offline (需要线下参保缴费的群众): a yes that says for whom.
    for region, on in (("罗山县", ON), ("青禾县", "2026-11-20")):
        out = await ask(region, on, "银行卡能交吗")
        assert lines(out)[1].startswith("通知没有写可以用银行卡缴费"), out
        assert "手机银行APP" in lines(out)[2]
    out = await ask("乐至县", ON, "银行卡能交吗")
    assert lines(out)[1] == "可以用银行卡缴费（限需要线下参保缴费的群众）。"
    assert lines(out)[2].startswith("· POS机终端刷卡") and "依据：乐府办发〔2024〕16号 三（二）5" in out


@pytest.mark.parametrize(("region", "on", "first", "source"), [
    ("乐至县", ON, "可以在学校缴费（限大中专、职高、技校等在校学生）。", "乐府办发〔2024〕16号 三（二）1"),
    ("青禾县", "2026-11-20", "可以在学校缴费（限在校大学生）。", "青政办发〔2026〕31号 六（三）"),
    ("周集镇", ON, "可以在学校缴费（限非本镇户籍的在校学生）。", "周办〔2024〕46号 5"),
])
async def test_a_channel_open_to_some_people_only_is_a_yes_that_says_for_whom(region, on, first, source):
    out = await ask(region, on, "在学校能交吗")
    assert lines(out)[1] == first
    assert f"依据：{source}" in out


@pytest.mark.parametrize(("region", "on", "text", "first", "line"), [
    # 乐至县: 学校代收（大中专、职高、技校等在校学生）; 青禾县: 学校代收（在校大学生）
    ("乐至县", ON, "学生怎么交", "可以在学校缴费（限大中专、职高、技校等在校学生）。", "· 学校代收"),
    ("青禾县", "2026-11-20", "大学生在哪交", "可以在学校缴费（限在校大学生）。", "· 学校代收"),
    # those who cannot use a phone: the offline channels first (乐至县 三（二）1, 5: 便民服务中心, 代办点, 现金)
    ("乐至县", ON, "老人不会用手机怎么交", "可以到线下缴费点缴费。", "· 乡镇（街道）便民服务中心"),
])
async def test_who_pays_named_leads_with_the_channels_for_them_then_the_others_in_one_line(region, on, text, first,
                                                                                          line):
    out = await ask(region, on, text)
    assert lines(out)[1] == first, out
    assert lines(out)[2].startswith(line), out
    assert any(x.startswith("其他渠道：") for x in lines(out)), out
    assert len(lines(out)) <= 6, out


async def test_who_pays_named_where_no_channel_is_for_them_gets_every_channel():
    out = await ask("罗山县", ON, "学生怎么交")  # 罗政办〔2024〕42号 names no school channel
    assert "学校" not in lines(out)[1] and "通知没有写" not in out
