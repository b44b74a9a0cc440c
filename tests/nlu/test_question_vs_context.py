"""Mentions are context, the question decides (bot.nlu.intents.classify); helping someone pay; relative years."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlu import Intent, understand
from bot.rules.loader import PolicyRegistry


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # working away, going home for the new year
        ("俺两口子都在江苏进厂打工，老家的合疗今年一人多少钱", Intent.FEE),
        ("我在外面干活一年没回去了，罗山今年几号截止交", Intent.DEADLINE),
        ("春节要回老家过年，医保在手机上怎么交", Intent.CHANNELS),
        # moving, marrying in
        ("我从河南嫁到乐至好多年了，今年一个人交多少钱", Intent.FEE),
        ("前几年户口迁过来了，现在医保最晚啥时候交", Intent.DEADLINE),
        # a baby in the family, but the question is about the adults
        ("儿媳妇上个月刚生了，我和老伴今年的医保多少钱", Intent.FEE),
        # employee insurance, a hospital: mentioned, not asked about
        ("我自己单位交的职工医保，家里老人的合疗多少钱一个", Intent.FEE),
        ("上次去县医院看病，今年医保截止日期是哪天", Intent.DEADLINE),
    ],
)
def test_a_question_wins_over_a_mention_in_another_clause(
    registry: PolicyRegistry, text: str, intent: Intent
) -> None:
    assert understand(text, registry).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # the question is about the situation itself
        ("在外地打工的过年回来再交来得及吗", Intent.MIGRANT),
        ("闺女在外省上班，到时候回来还能补交不", Intent.MIGRANT),  # 到时候 points back at the mention
        ("户口迁走了，医保怎么转", Intent.MOVING),
        ("嫁到罗山了医保咋转过来，罗山一年多少钱", Intent.MOVING),  # the mention's own clause asks: it comes first
        ("孙女刚出生半个月，在哪给她上医保", Intent.NEWBORN),  # the question is about the baby
        ("职工医保一年交多少", Intent.OUT_OF_SCOPE),
        ("乡卫生院在哪", Intent.OUT_OF_SCOPE),
    ],
)
def test_the_mention_stays_when_it_is_what_is_asked(registry: PolicyRegistry, text: str, intent: Intent) -> None:
    assert understand(text, registry).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # a relative paying for the one asking: the family account (共济) per the notices
        ("我闺女能不能替我把医保交了", Intent.FAMILY_ACCOUNT),
        ("外孙在城里上班，他可以帮俺们老两口交合疗吗", Intent.FAMILY_ACCOUNT),
        ("儿媳妇用她的手机给我交行不行", Intent.FAMILY_ACCOUNT),
        # the asker paying for someone, or the village / a 代办员 doing it: channels (offline, 代办)
        ("我妈眼睛看不见，我去信用社替她交可以吗", Intent.CHANNELS),
        ("村上有没有人帮着交", Intent.CHANNELS),
        ("陵川县能找人代办不", Intent.CHANNELS),
        # and what that help costs
        ("找人帮忙交要不要给钱", Intent.HANDLING_FEE),
    ],
)
def test_helping_someone_pay(registry: PolicyRegistry, text: str, intent: Intent) -> None:
    assert understand(text, registry).intent is intent


# -- relative years ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "today", "year"),
    [
        ("后年的医保多少钱", dt.date(2024, 10, 1), 2026),
        ("明年罗山的合疗几号开始收", dt.date(2024, 12, 30), 2025),
        ("去年陵川低保户交了多少", dt.date(2025, 1, 2), 2024),  # just after new year: 去年 is 2024
        ("前年特困人员要交钱吗", dt.date(2026, 6, 1), 2024),
        ("2025年的呢，不是去年的", dt.date(2026, 6, 1), 2025),  # a written year wins
        ("去年交过了，今年交多少", dt.date(2024, 11, 10), None),  # 今年 is asked: no year named
        ("去年的医保多少钱", None, None),  # no date, no guess
        ("去年没交，现在交了多久能报销", dt.date(2027, 3, 10), None),  # the year of a lapse is not the year asked
        ("前年断保了，明年的交多少", dt.date(2024, 11, 10), 2025),
        ("下一年度的罗山县医保标准", dt.date(2024, 11, 10), 2025),
        ("下年度乐至交多少", dt.date(2025, 10, 1), 2026),
        ("上年度罗山交多少", dt.date(2024, 11, 10), 2023),
        ("上一年度陵川低保户交了多少", dt.date(2025, 3, 1), 2024),
        ("没报过销的，下一年有啥好处", dt.date(2024, 11, 10), None),  # when a reward applies, not the year asked
    ],
)
def test_relative_years_against_the_date(
    registry: PolicyRegistry, text: str, today: dt.date | None, year: int | None
) -> None:
    assert understand(text, registry, today=today).year == year


# -- a region named with a question keeps the question --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "categories"),
    [
        ("我是罗山县的，村里说今年交380，对不对", "罗山县", ()),  # checking a figure
        ("陵川县中档360没说错吧", "陵川县", ()),
        ("俺是乐至县残疾人，二级，是不是国家都给交了", "乐至县", ("severe_disability",)),
    ],
)
def test_a_region_with_a_question_keeps_the_question(
    registry: PolicyRegistry, text: str, region: str, categories: tuple[str, ...]
) -> None:
    q = understand(text, registry)
    assert (q.intent, q.region, q.categories) == (Intent.FEE, region, categories)


def test_a_figure_checked_is_not_a_date(registry: PolicyRegistry) -> None:
    assert understand("罗山县12月31号截止对吗", registry).intent is Intent.DEADLINE


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("今年没出去打工，罗山啥时候截止", Intent.DEADLINE),  # a denied mention is no mention at all
        ("我不打工了在家种地，医保多少钱", Intent.FEE),
        ("村里代办员帮交收了10块钱，合理吗", Intent.HANDLING_FEE),  # what helping costs
    ],
)
def test_denied_mentions_and_the_cost_of_help(registry: PolicyRegistry, text: str, intent: Intent) -> None:
    assert understand(text, registry).intent is intent
