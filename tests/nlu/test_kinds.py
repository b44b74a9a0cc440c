"""Understanding the kinds of message of issue 16, below the pipeline: several questions in one message
(bot/nlu/questions.py), a figure checked (bot/nlu/check.py), follow-ups (bot/nlu/follow.py), place names
heard wrong. Phrasings of our own; the held-out set is tests/nlu/unseen.yaml."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlu import Intent, check, follow, normalize, understand
from bot.rules.loader import PolicyRegistry
from tests.nlu.table import actual

NOON = dt.datetime(2024, 11, 20, 12, 0)


def intents(text: str, registry: PolicyRegistry) -> list[str]:
    return actual(understand(text, registry))["intents"]


@pytest.mark.parametrize(("text", "want"), [
    ("陵川高档多少钱，能拿支付宝交不", ["fee", "channels"]),
    ("每年交多少钱 几时截止", ["fee", "deadline"]),  # a space is a comma to elderly typists
    ("能在手机上交吗？要另外收钱吗？", ["channels", "handling_fee"]),
    ("我交上了没，没交的话现在还能交吗", ["my_status", "deadline"]),
    ("头回参保在哪登记，低保户收不收钱", ["registration", "fee"]),
])
def test_each_question_of_a_message_is_read_in_order(text, want, registry):
    assert intents(text, registry) == want


@pytest.mark.parametrize("text", [
    "你好，低保户交多少钱",  # a greeting is no question
    "我是陵川的，今年交多少",  # naming the place is context
    "我家是特困户，交多少",  # so is naming the group
    "高档多少，低档多少",  # the same question twice is one
    "在外面打工，过年回来还能交吗",  # a mention, then the question
])
def test_context_and_repeats_are_not_questions_of_their_own(text, registry):
    assert len(intents(text, registry)) == 1


@pytest.mark.parametrize(("text", "want"), [
    # the wait asked in a clause naming no lapse is about the lapse the clause before it told
    ("去年没交 现在交的话得等几个月 一直交的有奖励没", ["waiting_period", "enrolment_reward"]),
    # a bare question after a story's detail (村里帮着交的) is not read with it: the detail is no question
    ("特困户 以前都是村里帮着交的 今年村干部换人了 不知道还管不管 特困户个人掏钱不", ["fee"]),
])
def test_a_bare_question_is_read_with_the_clause_told_before_it(text, want, registry):
    assert intents(text, registry) == want


def test_a_place_or_group_named_in_one_clause_applies_to_the_others(registry):
    q = understand("周集镇低保户交多少？在哪交？", registry)
    assert [q.intent, *(a.intent for a in q.also)] == [Intent.FEE, Intent.CHANNELS]
    assert q.also[0].region == "周集镇" and q.also[0].categories == ("dibao",)


@pytest.mark.parametrize(("text", "amounts", "date"), [
    ("是不是交三百就够了", (300,), None),
    ("听讲高档五百四，低档四百，没说错吧", (540, 400), None),
    ("监测户是交一百二吧", (120,), None),
    ("低保户只交四十块对吗", (40,), None),
    ("陵川是不是四百一个人", (400,), None),  # 一个人 is no part of the amount
    ("特困人员不用自己出钱是吧", (0,), None),
    ("是不是腊月前12月31号截止", (), (12, 31)),
    ("每个月25号以前交就行是吧", (), (0, 25)),
    ("12.31截止对吧", (), (12, 31)),  # a full stop between month and day cuts no clause
    ("是不是2月28截止", (), (2, 28)),
    ("2025年交多少", (), None),  # no check, and a year is no amount
    ("低保户交多少钱", (), None),
])
def test_the_figure_or_date_a_resident_checks_is_read(text, amounts, date):
    norm = normalize(text)
    assert check.amounts(norm) == amounts
    assert check.date(norm) == date


def test_a_checked_figure_is_on_the_query_it_checks(registry):
    q = understand("陵川低保户是不是交八十", registry)
    assert q.intent is Intent.FEE and q.checked == (80,) and q.region == "陵川县"
    assert understand("截止是不是2月25号", registry).checked_date == (2, 25)


def test_a_follow_up_takes_the_previous_question_with_the_new_slot(registry):
    first = understand("罗山县低保户交多少", registry)
    context = follow.context_of(first, NOON)
    later = follow.carry(understand("那特困户呢", registry), context)
    assert later.intent is Intent.FEE and later.categories == ("tekun",)
    assert follow.place(later, context) == ("罗山县", None)
    deadline = follow.carry(understand("什么时候截止", registry), context)
    assert deadline.intent is Intent.DEADLINE and deadline.categories == ("dibao",)
    year = follow.carry(understand("明年的呢", registry, today=NOON.date()), context)
    assert year.intent is Intent.FEE and year.year == 2025 and year.categories == ("dibao",)


def test_a_follow_up_naming_its_own_place_or_asking_something_else_keeps_it(registry):
    context = follow.context_of(understand("罗山县高档交多少", registry), NOON)
    other = understand("乐至县什么时候截止", registry)
    assert follow.place(follow.carry(other, context), context) is None
    assert follow.carry(other, context).tier is None  # a tier is the fee's, not the deadline's
    assert follow.carry(understand("天气怎么样", registry), context).intent is Intent.OUT_OF_SCOPE


def test_asking_to_be_reminded_is_about_the_place_named_before(registry):
    context = follow.context_of(understand("乐至县啥时候截止", registry), NOON)
    reminded = follow.carry(understand("截止前提醒我一下行吗", registry), context)
    assert reminded.intent is Intent.REMINDERS and follow.place(reminded, context) == ("乐至县", None)
    assert follow.context_of(reminded, NOON) is None  # the deadline stays the question before


def test_the_context_is_forgotten_after_half_an_hour():
    state = {"context": {"at": NOON.isoformat(), "intent": "fee", "region": "陵川县"}}
    assert follow.remembered(state, NOON + dt.timedelta(minutes=29)) is not None
    assert follow.remembered(state, NOON + dt.timedelta(minutes=31)) is None
    assert follow.remembered({"context": {"at": "garbage"}}, NOON) is None


@pytest.mark.parametrize(("text", "region"), [
    ("我是林川的", "陵川县"), ("我在乐志", "乐至县"), ("住罗删那边", "罗山县"),
])
def test_a_two_character_place_heard_wrong_is_read_where_a_place_is_said(text, region, registry):
    assert understand(text, registry).region == region


def test_a_two_character_sound_alike_outside_a_place_is_left_alone(registry):
    assert understand("周几能交", registry).region is None


def test_a_mention_the_question_is_about_holds_where_another_yields(registry):
    # 医院 yields to the question beside it, the baby does not: the question names nobody else
    assert understand("闺女上礼拜三号生的，医院说要办医保，现在办还来得及不", registry).intent is Intent.NEWBORN
    assert understand("刚生完孩子还在医院，我们两口子今年交多少", registry).intent is Intent.FEE


@pytest.mark.parametrize(("text", "intent"), [
    ("参包在哪里办", Intent.REGISTRATION),  # 参包 for 参保, then where to enrol
    ("陵川底保户叫多少钱", Intent.FEE),  # 底保 for 低保, 叫 for 交
    ("乐至能用支付包交吗", Intent.CHANNELS),
])
def test_key_terms_heard_wrong_are_read_by_their_sound(text, intent, registry):
    assert understand(text, registry).intent is intent


def test_a_situation_told_with_a_particle_is_no_question_of_its_own(registry):
    assert intents("我在医院住院呢，今年医保还没交，还能交吗", registry) == ["deadline"]
    assert intents("户口迁到乐至了医保咋转呢，乐至交多少", registry) == ["moving", "fee"]


def test_a_mention_only_told_yields_to_the_question_of_the_whole_message(registry):
    # 在外地上班 is told, not asked: the question spans the clauses (the daughter paying for them)
    assert understand("闺女在外地上班有职工医保，她能帮俺们交不", registry).intent is Intent.FAMILY_ACCOUNT
    assert understand("在外地打工，到时候还能交不", registry).intent is Intent.MIGRANT  # points back: about it


# -- issue 16, the fresh set's kinds: a mention or a story's detail yields to the clause that asks ---------------


@pytest.mark.parametrize(("text", "want"), [
    # a mention (context rule) beside a subsidy or enrolment question
    ("春节前后要回家一趟，想问问罗山县政府给每人补助多少", "fiscal_subsidy"),
    ("我常年在外面打工，乐至县参保登记要准备什么材料", "registration"),
    # a newborn mentioned, the question about the asker, said in a clause of its own
    ("隔壁家刚生了孩子，我问的是我自己，陵川一个人交多少", "fee"),
    # ... and a question naming the baby stays the baby's, though 我 asks it
    ("儿媳妇前几天生了个儿子，家里让我打听一下这孩子的医保咋办", "newborn"),
])
def test_a_mention_yields_to_the_clause_that_asks(text, want, registry):
    assert understand(text, registry).intent.value == want


@pytest.mark.parametrize(("text", "want"), [
    # a detail told (paid by WeChat, a phone set up, a figure heard) is not the question
    ("去年是我儿子用支付宝帮我们交的，陵川今年几号截止", "deadline"),
    ("我外孙帮我在手机上弄了个微信，我想打听乐至县五保户自己得出多少", "fee"),
    ("这几年越交越多，以前几十块，现在要好几百，我就想知道乐至县国家每人给贴了多少", "fiscal_subsidy"),
])
def test_a_story_detail_yields_to_the_question_at_the_end(text, want, registry):
    assert understand(text, registry).intent.value == want


def test_a_moving_mention_keeps_where_to_enrol_after_moving(registry):
    assert understand("户口已经迁过来了，能在这边参保不", registry).intent is Intent.MOVING


def test_a_household_registration_not_moved_asks_whether_a_non_local_may_enrol(registry):
    # 户口没迁: the resident is non-local here, and asks the eligibility (the blind sets' reading)
    assert understand("我从外省嫁过来的，户口没迁，能在这边参保不", registry).intent is Intent.REGISTRATION
    said = "娶的媳妇是外县的 户籍一直没转过来 她可以在罗山县交合疗吗"
    assert understand(said, registry).intent is Intent.REGISTRATION


# -- sound-alikes: a function word heard for one character of a longer term, terms not ours, 交 heard as 教 --------


@pytest.mark.parametrize(("text", "intent", "region"), [
    ("陵川县政府不助每人多少", "fiscal_subsidy", "陵川县"),  # 不 for 补 in 政府补助
    ("罗山县养佬保险交多少", "out_of_scope", "罗山县"),  # 佬 for 老: a pension
    ("乐至县怎么用亲晴账户", "family_account", "乐至县"),
    ("青河多少钱一年", "fee", "青禾县"),  # 河 for 禾 in a county's short name (青河县 is another county's)
    ("罗山县医保在网上咋教", "channels", "罗山县"),  # 教 heard for 交
])
def test_terms_heard_otherwise_are_understood(text, intent, region, registry):
    query = understand(text, registry)
    assert (query.intent.value, query.region) == (intent, region)


def test_a_function_word_does_not_turn_a_question_into_a_term(registry):
    assert normalize("现在能交吗") == "现在能交吗"
    query = understand("陵川2024年的医保现在能交吗", registry)
    assert query.intent is Intent.DEADLINE


# -- a group's name said as a phrase, with a 的 between its words ---------------------------------------------


@pytest.mark.parametrize(("text", "category"), [
    ("我们是被征地的农民，罗山县自己交多少", "land_requisitioned"),
    ("俺家是失独的家庭，陵川县要交钱不", "family_planning"),
    ("禁捕退捕的渔民在青禾县交多少", "retired_fisher"),
])
def test_a_group_alias_split_by_de_is_the_group(text, category, registry):
    assert understand(text, registry).categories == (category,)


# -- a date is not an insurance year; a year told in the story is not the year asked ----------------------------

TODAY = dt.date(2024, 11, 10)


@pytest.mark.parametrize(("text", "year"), [
    ("陵川是不是明年2月25号就停止交费了", None),  # a day of next year: a date
    ("罗山县明年三月以后还能补交不", None),
    ("前年搬到乐至县来的，现在一个人交多少", None),  # when they moved, told
    ("明年乐至县交多少", 2025),  # still the year asked
    ("去年的医保陵川交多少", 2023),
    ("下一年的合疗罗山县几号开始收", 2025),  # 下一年 before the insurance: next year
    ("我去年买的是低档，能换成高档不", None),  # the year of a tier told as paid before
])
def test_relative_years_in_dates_and_stories_are_not_the_year_asked(text, year, registry):
    assert understand(text, registry, today=TODAY).year == year


@pytest.mark.parametrize(("text", "year"), [
    ("2023年和2024年都断了，这回打算缴2025年度的，要等几个月才能报", 2025),
    ("我2023年交过一次，这次要交2025年的多少钱", 2025),
    ("现在想补交24年的，23年交过了", 2024),
])
def test_a_year_named_as_the_one_to_pay_beats_the_story_years(text, year, registry):
    assert understand(text, registry, today=TODAY).year == year


@pytest.mark.parametrize(("text", "tier"), [
    ("青禾县的，往年都交二档，今年可以直接交三档吗，不行的话一档多少钱", "high"),
    ("以前交的是低档 能选高档不 乐至县", "high"),
    ("去年交的一档多少钱 青禾县", "low"),  # the only tier named
])
def test_the_tier_asked_beside_one_told_or_a_fallback(text, tier, registry):
    assert understand(text, registry, today=TODAY).tier == tier


def test_can_it_be_paid_now_asks_the_collection_period(registry):
    assert understand("乐至县现在可以交了吗", registry).intent is Intent.DEADLINE


# -- two places named: the one said as where the resident is ----------------------------------------------------


@pytest.mark.parametrize(("text", "region"), [
    ("老家是陵川县的，嫁到罗山好些年了，罗山这边一个人交多少", "罗山县"),
    ("我在乐至县上过班，如今住青禾，青禾县这里啥时候截止", "青禾县"),
])
def test_the_place_said_as_here_is_the_one_asked_about(text, region, registry):
    query = understand(text, registry)
    assert (query.region, query.extras.get("regions")) == (region, None)


def test_a_move_between_two_places_keeps_both(registry):
    query = understand("我从罗山县迁到乐至县了，医保怎么转过来", registry)
    assert query.extras.get("regions") == "罗山县,乐至县"


# -- a county named in a question the rules could not read was a region switch: the questions' wordings ----------


@pytest.mark.parametrize(("text", "want"), [
    ("乐至县年年都交医保，有没有什么好处", "enrolment_reward"),
    ("罗山县入保需要哪些条件", "registration"),
    ("陵川县医保的钱交到哪", "channels"),
    ("周集镇过了月底是不是就不让交了", "deadline"),
    ("乐至县今年400一口人吗", "fee"),
    ("青禾县我外孙女能替着交不", "family_account"),
    ("罗山县医保用啥软件交", "channels"),
])
def test_a_question_naming_a_county_is_not_a_region_switch(text, want, registry):
    assert understand(text, registry).intent.value == want


# -- a mention saying when (年底才回): whether one can still pay asks about that time ------------------------------


@pytest.mark.parametrize("text", [
    "我在广东进厂，腊月底才能回家，还赶得上交不",
    "在外面干活春节前才回得去，能交上不",
])
def test_a_return_said_with_its_time_keeps_the_migrant_reading(text, registry):
    assert understand(text, registry).intent is Intent.MIGRANT


@pytest.mark.parametrize(("text", "want"), [
    ("低档多少，几号截止", ["fee", "deadline"]),  # a tier and a bare how-much is the fee
    ("一直参保的有没有奖励，啥时候截止", ["enrolment_reward", "deadline"]),  # 有没有 asks
])
def test_more_ways_a_clause_asks(text, want, registry):
    assert intents(text, registry) == want


def test_paying_a_relatives_share_from_afar_is_the_family_account(registry):
    text = "我常年在外地上班，能不能替家里爹娘把罗山县的合疗交上"
    assert understand(text, registry).intent is Intent.FAMILY_ACCOUNT
