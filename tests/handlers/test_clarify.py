"""The 您是想问 menu's guesses, and the plain questions it waits with when no county is known."""

from __future__ import annotations

import pytest

from bot.handlers import clarify
from bot.handlers.offers import picked
from bot.nlu import understand
from bot.nlu.query import Intent, Query
from bot.rules.loader import load_registry

REGISTRY = load_registry()


@pytest.mark.parametrize(("intent", "text"), list(clarify.QUESTIONS.items()))
def test_each_plain_question_is_understood_as_its_intent(intent, text):
    assert understand(text, REGISTRY).intent is intent


def test_every_guessed_intent_has_a_plain_question():
    guessed = {i for _, intents in clarify._HINTS for i in intents} | {Intent.FEE, Intent.DEADLINE}
    assert guessed <= set(clarify.QUESTIONS)


@pytest.mark.parametrize(("text", "slots", "first"), [
    ("孩子的医保", {}, Intent.NEWBORN),  # a word of one question outranks a word of many
    ("医保的事", {}, Intent.FEE),
    ("那个事", {"categories": ("dibao",)}, Intent.FEE),  # a group named: its fee first
    ("去年的", {"year": 2023}, Intent.FEE),
    ("打工的", {}, Intent.MIGRANT),
])
def test_the_likeliest_question_comes_first(text, slots, first):
    found = clarify.candidates(Query(Intent.FALLBACK, text, **slots))
    assert found[0] is first and len(found) <= clarify.MAX_ITEMS


def test_nothing_of_the_domain_gets_no_menu():
    assert clarify.candidates(Query(Intent.FALLBACK, "啊啊啊")) == []


@pytest.mark.parametrize(("text", "number"), [("1", 1), ("１", 1), ("1.", 1), ("2。", 2), ("第3个", 3), (" 2 ", 2),
                                             ("12", None), ("1个人", None), ("交1", None), ("", None)])
def test_a_lone_digit_picks(text, number):
    assert picked(text) == number
