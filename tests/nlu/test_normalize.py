"""Normalisation: what every rule sees instead of the raw message."""

from __future__ import annotations

import time

import pytest

from bot.nlu.normalize import MAX_TEXT_CHARS, chinese_numerals_to_digits, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("繳費多少錢", "缴费多少钱"),
        ("低保戶怎麼繳費", "低保户怎么缴费"),
        ("羅山縣醫療保險", "罗山县医疗保险"),
        ("陵川县礼义镇", "陵川县礼义镇"),  # simplified text is left alone
        ("周集镇班台村蒋郢村倪岗村", "周集镇班台村蒋郢村倪岗村"),
    ],
)
def test_traditional_to_simplified(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("２０２５年", "2025年"),
        ("ＡＰＰ能交吗？", "APP能交吗?"),
        ("交多少钱！！", "交多少钱!!"),
        ("低保户，交多少", "低保户,交多少"),
        ("（急）", "(急)"),
    ],
)
def test_full_width_to_half_width(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("二〇二三年度", "2023年度"),
        ("二零二五年", "2025年"),
        ("二○二三年", "2023年"),  # a white circle typed for 〇
        ("二三年的", "23年的"),
        ("两百块", "200块"),
        ("四百元", "400元"),
        ("五百四那档", "540那档"),
        ("三百五十元", "350元"),
        ("三百零五", "305"),
        ("一千零七十", "1070"),
        ("二十五号", "25号"),
        ("十二月", "12月"),
        ("九十天内", "90天内"),
        # Left alone: category grades, percentages, idioms, 几.
        ("三级残疾", "三级残疾"),
        ("一般残疾", "一般残疾"),
        ("百分之八十", "百分之八十"),
        ("十分感谢", "十分感谢"),
        ("几号截止", "几号截止"),
        ("一二级残疾", "一二级残疾"),
    ],
)
def test_chinese_numerals(raw: str, expected: str) -> None:
    assert chinese_numerals_to_digits(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("你好😊", "你好"),
        ("👍🏻❤️交多少钱🙏", "交多少钱"),
        ("交多少钱[微笑][微笑]", "交多少钱"),
        ("在吗/::)", "在吗"),
        ("交\u200b多少\ufeff钱", "交多少钱"),
        ("交多少钱\x00\x07", "交多少钱"),
        ("  陵川县\n\n礼义镇\t的  ", "陵川县礼义镇的"),
        ("交 多 少 钱", "交多少钱"),
        ("张三 410521199001011234", "张三 410521199001011234"),
        ("\u3000\u3000你好", "你好"),
    ],
)
def test_emoji_controls_and_whitespace(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("俺在外地打工  户口在罗山县 今年交多少钱", "俺在外地打工,户口在罗山县,今年交多少钱"),  # spaces cut clauses
        ("交 多 少 钱", "交多少钱"),  # spaced-out characters are one word
        ("我 在外地打工", "我在外地打工"),  # a lone character is no clause
        ("交多少钱", "交多少钱"),
    ],
)
def test_clause_form_reads_the_spaces_that_cut_clauses_as_commas(raw: str, expected: str) -> None:
    assert normalize(raw, clauses=True) == expected
    assert normalize(raw) == expected.replace(",", "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("低宝户交多少前", "低保户交多少钱"), ("什么时侯截指", "什么时候截止"), ("支付包能交吗", "支付宝能交吗")],
)
def test_cheap_typos(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", ["", " ", "\n\t", "😀😀😀", "\x00\x01"])
def test_empty_and_invisible(raw: str) -> None:
    assert normalize(raw) == ""


def test_long_text_is_capped_quickly_and_keeps_head_and_tail() -> None:
    raw = "我是陵川县的。" + "啰嗦" * 3000 + "今年交多少钱"
    start = time.perf_counter()
    text = normalize(raw)
    assert time.perf_counter() - start < 2.0  # a hang guard (a backtracking pattern), not a figure: bench.nlu
    assert len(text) <= MAX_TEXT_CHARS
    assert text.startswith("我是陵川县的")
    assert text.endswith("今年交多少钱")


def test_idempotent() -> None:
    for raw in ["繳費多少錢２０２５年", "二〇二三年度低保户😀", "五百四那档"]:
        once = normalize(raw)
        assert normalize(once) == once
