"""tests/nlu/unseen.yaml loads and is well-formed: known kinds, intents, regions, townships and category keys,
conversations of several turns, new phrasings, every intent and region covered. Not its accuracy: that is
measured by `python -m bench.nlu`, before and after the NLU work on issue 16."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.nlu import Intent
from bot.nlu.query import EVENT_INTENTS
from bot.rules.loader import PolicyRegistry
from tests.nlu.table import KINDS, ROWS, load_unseen, today_of, turns

# The set was written blind from the five notices and is never edited: it covers the intents and regions there
# were then. Those added since (issue 17: the waiting period, incentives, 青禾县) are measured elsewhere
# (tests/commands/test_ask_qinghe.py); the outreach's reminder words and officials' names are commands, in
# tests/outreach.
LATER_INTENTS = {Intent.WAITING_PERIOD.value, Intent.ENROLMENT_REWARD.value, Intent.REMINDERS.value,
                 Intent.OFFICIAL_NAME.value}
WRITTEN_FOR_REGIONS = {"陵川县", "罗山县", "周集镇", "乐至县"}
ITEMS = load_unseen()
MESSAGES = [turn for item in ITEMS for turn in turns(item)]
SLOTS = {"region", "township", "year", "categories", "tier", "topic", "extras"}
ITEM_KEYS = {"kind", "today", "note", "conversation", "text", "intent", "intents"} | SLOTS
TURN_KEYS = {"text", "intent", "intents", "note"} | SLOTS


def _intents(turn: dict[str, Any]) -> list[str]:
    return list(turn["intents"]) if "intents" in turn else [turn["intent"]]


@pytest.mark.parametrize("item", ITEMS, ids=[f"item{i:03d}" for i in range(len(ITEMS))])
def test_item_is_well_formed(item: dict[str, Any], registry: PolicyRegistry) -> None:
    assert item.get("kind") in KINDS, item
    assert set(item) <= ITEM_KEYS, f"unknown keys {set(item) - ITEM_KEYS} in {item}"
    assert isinstance(today_of(item), dt.date), item
    assert ("conversation" in item) == (item["kind"] == "follow_up"), "a follow-up is a conversation, and only it"
    if "conversation" in item:
        assert len(item["conversation"]) >= 2 and not set(item) & ({"text", "intent", "intents"} | SLOTS), item
    categories = set(registry.category_aliases().values())
    townships = {name for policy in registry.policies for table in policy.targets for name in
                 (row.name for row in table.rows)}
    for turn in item.get("conversation", []):
        assert set(turn) <= TURN_KEYS, f"unknown keys {set(turn) - TURN_KEYS} in {turn}"
    for turn in turns(item):
        assert set(turn) <= ITEM_KEYS, f"unknown keys {set(turn) - TURN_KEYS} in {turn}"
        assert isinstance(turn.get("text"), str) and turn["text"].strip(), turn
        assert ("intent" in turn) != ("intents" in turn), f"one of intent / intents: {turn}"
        intents = _intents(turn)
        assert all(i in set(Intent) for i in intents), turn
        assert ("intents" in turn) <= (len(intents) >= 2 and item["kind"] == "two_questions"), turn
        assert turn.get("region") is None or turn["region"] in registry.regions(), turn
        assert turn.get("township") is None or turn["township"] in townships, turn
        assert set(turn.get("categories", [])) <= categories, turn
        assert turn.get("tier") in (None, "high", "low"), turn
        assert turn.get("year") is None or isinstance(turn["year"], int), turn
        assert isinstance(turn.get("extras", {}), dict), turn


def test_set_is_large_new_and_covers_every_kind_intent_and_region() -> None:
    texts = [turn["text"] for turn in MESSAGES]
    assert len(texts) >= 150
    assert len(set(texts)) == len(texts), "duplicate phrasings"
    assert not set(texts) & {row["text"] for row in ROWS}, "a phrasing already in phrasings.yaml"
    assert {item["kind"] for item in ITEMS} == set(KINDS)
    assert {i for turn in MESSAGES for i in _intents(turn)} == {i.value for i in Intent} - LATER_INTENTS - EVENT_INTENTS
    assert {turn.get("region") for turn in MESSAGES} >= WRITTEN_FOR_REGIONS
