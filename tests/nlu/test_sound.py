"""Sound-alike respelling (bot.nlu.sound): voice-input homophones of the domain's terms and the policies' names."""

from __future__ import annotations

import pytest

from bot.nlu import Intent, extractor_for, understand
from bot.nlu.sound import SoundAlike, respell_doubled
from bot.rules.loader import PolicyRegistry


def test_terms_from_the_policies_not_a_list_of_misspellings(mini_registry: PolicyRegistry) -> None:
    # 甲山县 and its aliases exist only in the in-memory registry: a mis-heard 底保 / 特昆 still reads, and a county's
    # full name written otherwise (假山县) is heard as another place that sounds like it, to be confirmed.
    q = understand("假山县底保户一年交多少", mini_registry)
    assert (q.intent, q.region, q.categories) == (Intent.FEE, None, ("dibao",))
    assert q.extras == {"unknown_region": "假山县", "heard_as": "甲山县"}
    q = understand("乙水县三级惨疾交多少钱", mini_registry)
    assert (q.region, q.categories) == ("乙水县", ("general_disability",))
    assert understand("西胡镇的特昆交多少", mini_registry).categories == ("tekun",)


@pytest.mark.parametrize(
    ("text", "region", "categories"),
    [
        ("罗删的五保户多少钱", "罗山县", ("tekun",)),  # 删/山 san~shan (fuzzy)
        ("凌川优扶对象要交钱不", "陵川县", ("youfu",)),
        ("乐治监侧户交多少", "乐至县", ("monitored",)),
        ("陵川县返频户交多少", "陵川县", ("returned_poor",)),
    ],
)
def test_misheard_regions_and_categories(registry: PolicyRegistry, text: str, region: str, categories: tuple) -> None:
    q = understand(text, registry)
    assert (q.intent, q.region, q.categories) == (Intent.FEE, region, categories)


@pytest.mark.parametrize(
    ("text", "written", "ours"),
    [
        ("清河县交多少钱", "清河县", "青禾县"),  # a real county in Hebei
        ("青河县什么时候截止", "青河县", "青禾县"),  # and one in Xinjiang
        ("罗删县的五保户多少钱", "罗删县", "罗山县"),
        ("周吉镇的新农合在哪交", "周吉镇", "周集镇"),
    ],
)
def test_a_full_place_name_written_otherwise_is_another_place(registry: PolicyRegistry, text: str, written: str,
                                                              ours: str) -> None:
    """X县 / X镇 in other characters than ours is another place, never answered with our county's figures: it is
    heard as the region it sounds like, for the answer to ask about (您问的是青禾县吗)."""
    q = understand(text, registry)
    assert q.region is None
    assert (q.extras["unknown_region"], q.extras["heard_as"]) == (written, ours)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("惨保要带啥证件", Intent.REGISTRATION),
        ("医包截指是哪天", Intent.DEADLINE),
        ("我要帮定身份证", Intent.BIND),
        ("新声儿怎么上医保", Intent.NEWBORN),
    ],
)
def test_misheard_domain_words(registry: PolicyRegistry, text: str, intent: Intent) -> None:
    assert understand(text, registry).intent is intent


@pytest.mark.parametrize(
    "text",
    [
        "周几能交",  # 周几 sounds like 周集, but a bare two-character place name is never respelt
        "我有父母在老家",  # 有父 sounds like 优抚, but shares no character with it
        "交的保险",  # 的保 sounds like 低保, but 的 is a function word
        "吃中餐的时候说的",  # 中餐 sounds like 重残, no shared character
        "我的缴费状态",  # 缴费 and 交费 are both terms: an exact term is never rewritten
    ],
)
def test_no_false_sound_alikes(registry: PolicyRegistry, text: str) -> None:
    assert extractor_for(registry).respell(text) == text


def test_exact_terms_win_and_a_longer_term_may_cover_one() -> None:
    sounds = SoundAlike(["低保", "低保边缘户", "特困"])
    assert sounds.respell("低保边远户") == "低保边缘户"
    assert sounds.respell("特困和特昆") == "特困和特困"
    assert sounds.respell("a低保b") == "a低保b"


def test_single_characters_and_non_chinese_terms_are_ignored() -> None:
    sounds = SoundAlike(["保", "1档", "医保"])
    assert sounds.respell("包1挡医包") == "包1挡医保"


def test_a_name_being_bound_is_not_respelt(registry: PolicyRegistry) -> None:
    q = understand("张特昆", registry, state={"binding": "1"})
    assert q.extras.get("name") == "张特昆"


def test_a_longer_term_needs_more_than_what_lies_beyond_an_exact_one() -> None:
    """陵川现在: 陵川 is said exactly; 现 sounds like 县, but 现在 is a word: nothing says 陵川县 was misheard."""
    sounds = SoundAlike(["陵川县", "低保边缘户"], keep=["陵川", "低保"])
    assert sounds.respell("陵川现在能交吗") == "陵川现在能交吗"
    assert sounds.respell("林川县交多少") == "陵川县交多少"  # no exact word in it: a sound-alike
    assert sounds.respell("低保边远户") == "低保边缘户"  # 边 and 户 are the longer term's own


@pytest.mark.parametrize("text", ["陵川现在能交吗", "罗山现在还能交吗", "乐至现在可以交吗"])
def test_a_county_then_now_asks_about_now(registry: PolicyRegistry, text: str) -> None:
    q = understand(text, registry)
    assert q.intent is Intent.DEADLINE and q.region in {"陵川县", "罗山县", "乐至县"}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("我叫没叫", "我交没交"),  # 叫 read jiao: the doubled question can only be the verb's
        ("教不教钱", "交不交钱"),
        ("叫了没叫上", "交了没交上"),
        ("觉不觉得贵", "觉不觉得贵"),  # 觉 is usually jue: left alone
        ("走没走", "走没走"),
    ],
)
def test_a_doubled_question_on_a_sound_alike_of_paying(text: str, said: str) -> None:
    assert respell_doubled(text) == said


def test_an_inner_term_does_not_keep_the_longer_one_from_being_heard(registry: PolicyRegistry) -> None:
    """报销 is heard (包销) but, said exactly, does not keep 零报销 from being heard around it (灵报销)."""
    extractor = extractor_for(registry)
    assert extractor.respell("灵报销有奖励吗") == "零报销有奖励吗"
    assert extractor.respell("多久能包销") == "多久能报销"


def test_a_place_suffix_said_exactly_lets_every_other_character_be_heard_otherwise() -> None:
    assert SoundAlike(["青禾县"], suffixes=("县",)).respell("清河县交多少") == "青禾县交多少"
    assert SoundAlike(["青禾县"]).respell("清河县交多少") == "清河县交多少"  # no suffix evidence: half must be own
    assert SoundAlike(["青禾县"], suffixes=("县",)).respell("清河线交多少") == "清河线交多少"


@pytest.mark.parametrize(("text", "region"), [("林川今年交多少", "陵川县"), ("你好,罗删医保啥时候截止", "罗山县")])
def test_a_misheard_short_form_opening_a_message_or_clause(registry: PolicyRegistry, text: str, region: str) -> None:
    assert understand(text, registry).region == region


def test_a_function_word_opening_a_message_is_no_place(registry: PolicyRegistry) -> None:
    assert extractor_for(registry).respell("周几截止") == "周几截止"  # 几 is never a character of 周集 heard otherwise
