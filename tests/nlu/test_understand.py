"""understand(): slots, precedence, binding state, odd input, caching and speed."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.nlu import Intent, extractor_for, understand
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Policy

BINDING = {"binding": "1"}


# -- slots against the in-memory registry ------------------------------------------------------------


def test_region_by_name_and_short_form(mini_registry: PolicyRegistry) -> None:
    assert understand("甲山县交多少", mini_registry).region == "甲山县"
    assert understand("乙水交多少", mini_registry).region == "乙水县"
    assert understand("丙集", mini_registry).region == "丙集镇"


def test_town_named_with_its_county(mini_registry: PolicyRegistry) -> None:
    q = understand("丁河县丙集镇的", mini_registry)
    assert (q.intent, q.region, q.extras) == (Intent.SET_REGION, "丙集镇", {})
    assert understand("丁河丙集", mini_registry).region == "丙集镇"


def test_county_without_a_policy_is_reported_not_guessed(mini_registry: PolicyRegistry) -> None:
    q = understand("丁河县", mini_registry)
    assert (q.intent, q.region, q.extras) == (Intent.SET_REGION, None, {"unknown_region": "丁河县"})
    q = understand("我是戊城县的，交多少钱", mini_registry)
    assert (q.intent, q.region, q.extras) == (Intent.FEE, None, {"unknown_region": "戊城县"})


@pytest.mark.parametrize("text", ["我们县交多少", "隔壁县交多少", "在县城哪里交", "本县户籍能参保吗", "换个县"])
def test_words_ending_in_county_are_not_counties(mini_registry: PolicyRegistry, text: str) -> None:
    assert "unknown_region" not in understand(text, mini_registry).extras


def test_township_infers_region_when_unique(mini_registry: PolicyRegistry) -> None:
    q = understand("我是东风镇的", mini_registry)
    assert (q.region, q.township) == ("甲山县", "东风镇")
    q = understand("北村的怎么交", mini_registry)
    assert (q.intent, q.region, q.township) == (Intent.CHANNELS, "丙集镇", "北村")


def test_township_shared_by_two_regions_keeps_region_open(mini_registry: PolicyRegistry) -> None:
    q = understand("同名乡的", mini_registry)
    assert (q.region, q.township) == (None, "同名乡")
    q = understand("乙水县同名乡的", mini_registry)
    assert (q.region, q.township) == ("乙水县", "同名乡")


def test_township_of_another_region_is_dropped(mini_registry: PolicyRegistry) -> None:
    q = understand("乙水县东风镇的", mini_registry)
    assert (q.region, q.township) == ("乙水县", None)


def test_bare_township_stem_needs_context(mini_registry: PolicyRegistry) -> None:
    assert understand("我是东风的", mini_registry).township == "东风镇"
    assert understand("甲山东风", mini_registry).township == "东风镇"
    assert understand("东风吹", mini_registry).township is None


def test_several_regions(mini_registry: PolicyRegistry) -> None:
    q = understand("以前在甲山交的，现在搬到乙水了", mini_registry)
    assert (q.intent, q.region, q.extras) == (Intent.MOVING, "甲山县", {"regions": "甲山县,乙水县"})


def test_categories_longest_alias_first_and_deduplicated(mini_registry: PolicyRegistry) -> None:
    assert understand("农村低保交多少", mini_registry).categories == ("dibao",)
    assert understand("低保户，就是农村低保，交多少", mini_registry).categories == ("dibao",)
    q = understand("既是低保又是三级残疾", mini_registry)
    assert q.categories == ("dibao", "general_disability")


def test_colloquial_categories_without_aliases(mini_registry: PolicyRegistry) -> None:
    assert understand("残疾三级交多少", mini_registry).categories == ("general_disability",)
    assert understand("三级残交多少", mini_registry).categories == ("general_disability",)
    assert understand("肢体二级交多少", mini_registry).categories == ("severe_disability",)
    assert understand("精神四级交多少", mini_registry).categories == ("severe_disability",)
    assert understand("吃低保的交多少", mini_registry).categories == ("dibao",)
    assert understand("低保边缘户交多少", mini_registry).categories == ("dibao_edge",)
    assert understand("孤儿交多少", mini_registry).categories == ("orphan",)
    assert understand("事实孤儿交多少", mini_registry).categories == ("unsupported_child",)


def test_denied_category_is_dropped(mini_registry: PolicyRegistry) -> None:
    assert understand("我不是低保户，交多少", mini_registry).categories == ()
    assert understand("没吃低保，交多少", mini_registry).categories == ()
    assert understand("我是不是低保户", mini_registry).categories == ("dibao",)


def test_tier_by_name_and_by_amount(mini_registry: PolicyRegistry) -> None:
    assert understand("高档次多少", mini_registry).tier == "high"
    assert understand("低档多少钱", mini_registry).tier == "low"
    assert understand("540那档", mini_registry).tier == "high"
    assert understand("400元的那个档", mini_registry).tier == "low"
    assert understand("高档和低档有什么区别", mini_registry).tier is None


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2023年度交多少", 2023),
        ("2025年交多少", 2025),
        ("23年交多少", 2023),
        ("二〇二三年交多少", 2023),
        ("2024年12月了，还能交2025年度的吗", 2025),
        ("2024年9月1日开始交吗", None),
        ("今年交多少", None),
        ("交了2000块", None),
        ("交了20年了", None),
    ],
)
def test_year_only_when_explicit(mini_registry: PolicyRegistry, text: str, year: int | None) -> None:
    assert understand(text, mini_registry).year == year


# -- binding -----------------------------------------------------------------------------------------


def test_bind_commands(registry: PolicyRegistry) -> None:
    assert understand("绑定", registry).intent is Intent.BIND
    assert understand("解绑", registry).intent is Intent.UNBIND


def test_binding_name_and_id(registry: PolicyRegistry) -> None:
    q = understand("张三 410521199001011234", registry, state=BINDING)
    assert (q.intent, q.extras) == (Intent.BIND, {"name": "张三", "id_number": "410521199001011234"})
    assert "410521199001011234" not in q.text


def test_binding_id_alone_lowercase_x_and_grouped_digits(registry: PolicyRegistry) -> None:
    q = understand("4105 2119 9001 0112 3x", registry, state=BINDING)
    assert (q.intent, q.extras) == (Intent.BIND, {"id_number": "41052119900101123X"})


def test_binding_name_alone(registry: PolicyRegistry) -> None:
    assert understand("李四", registry, state=BINDING).extras == {"name": "李四"}
    assert understand("姓名：欧阳娜娜", registry, state=BINDING).extras == {"name": "欧阳娜娜"}
    assert understand("我叫王小明", registry, state=BINDING).extras == {"name": "王小明"}


def test_binding_cancel(registry: PolicyRegistry) -> None:
    for text in ["取消", "算了", "不绑了", "取消。"]:
        q = understand(text, registry, state=BINDING)
        assert (q.intent, q.extras) == (Intent.BIND, {"cancel": "1"}), text


def test_questions_while_binding_are_still_questions(registry: PolicyRegistry) -> None:
    assert understand("交多少钱", registry, state=BINDING).intent is Intent.FEE
    assert understand("你好", registry, state=BINDING).intent is Intent.GREETING
    assert understand("陵川", registry, state=BINDING).intent is Intent.SET_REGION
    assert understand("好的", registry, state=BINDING).intent is Intent.GREETING


@pytest.mark.parametrize("text", ["哈哈", "明白", "那个", "嗯嗯", "不知道", "可以"])
def test_everyday_words_are_not_names(registry: PolicyRegistry, text: str) -> None:
    assert understand(text, registry, state=BINDING).intent is not Intent.BIND


def test_names_and_ids_are_ignored_outside_binding(registry: PolicyRegistry) -> None:
    assert understand("李四", registry).intent is Intent.FALLBACK
    assert understand("取消", registry).intent is Intent.FALLBACK
    q = understand("410521199001011234", registry)
    assert (q.intent, q.extras) == (Intent.FALLBACK, {})
    assert "410521199001011234" not in q.text  # never kept whole, even when not binding


def test_state_without_binding_is_ignored(registry: PolicyRegistry) -> None:
    assert understand("李四", registry, state={"pending": "交多少钱"}).intent is Intent.FALLBACK


# -- odd input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", " ", "\n\t  ", "😀😀😀", "🙏", "。。。", "!!!", "……", "\x00\x01\x02", "\u200b\u200d"]
)
def test_nothing_to_understand_is_fallback(registry: PolicyRegistry, text: str) -> None:
    q = understand(text, registry)
    assert q.intent is Intent.FALLBACK
    assert (q.region, q.categories, q.extras) == (None, (), {})


@pytest.mark.parametrize("text", ["?", "？", "？？", "??"])
def test_question_mark_alone_is_help(registry: PolicyRegistry, text: str) -> None:
    assert understand(text, registry).intent is Intent.HELP


def test_control_characters_inside_a_question(registry: PolicyRegistry) -> None:
    q = understand("低保户\x00交多少\x1b钱\x7f", registry)
    assert (q.intent, q.categories) == (Intent.FEE, ("dibao",))


# Not a performance figure (python -m bench.nlu measures the time a message takes): a guard against a pattern
# that backtracks on long text, which takes minutes, not the milliseconds a loaded CI machine may add.
HANG = 2.0


def test_five_thousand_characters(registry: PolicyRegistry) -> None:
    text = "我是陵川县的，" + "家里老人身体不好，" * 600 + "低保户今年交多少钱"
    assert len(text) > 5000
    start = time.perf_counter()
    q = understand(text, registry)
    assert time.perf_counter() - start < HANG
    assert (q.intent, q.region, q.categories) == (Intent.FEE, "陵川县", ("dibao",))
    assert len(q.text) <= 600


def test_five_thousand_of_one_character(registry: PolicyRegistry) -> None:
    for text in ["交" * 5000, "😀" * 5000, "1" * 5000, "低保" * 2500]:
        start = time.perf_counter()
        understand(text, registry)
        assert time.perf_counter() - start < HANG


def test_none_text_is_tolerated(registry: PolicyRegistry) -> None:
    assert understand(None, registry).intent is Intent.FALLBACK  # type: ignore[arg-type]


# -- compile once, answer fast -----------------------------------------------------------------------


def test_patterns_compiled_once_per_registry(registry: PolicyRegistry, mini_registry: PolicyRegistry) -> None:
    assert extractor_for(registry) is extractor_for(registry)
    assert extractor_for(registry) is not extractor_for(mini_registry)


def test_recompiled_when_the_registry_changes(
    mini_registry: PolicyRegistry, make_policy: Callable[..., Policy]
) -> None:
    grown = PolicyRegistry(policies=list(mini_registry.policies))
    assert understand("庚县", grown).region is None
    grown.policies.append(make_policy("geng-2025", "庚县"))
    assert understand("庚县", grown).region == "庚县"


def test_empty_registry_still_understands_intents() -> None:
    # No region and no alias is known; only the colloquial patterns (吃低保) still name a category.
    q = understand("陵川吃低保的交多少钱", PolicyRegistry())
    assert (q.intent, q.region, q.categories) == (Intent.FEE, None, ("dibao",))
