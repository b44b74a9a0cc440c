"""Numbered offers: an answer may end "回复1查看…" or ask "您是想问：1. … 2. …", and the next message, if it is
that digit alone, is answered as the offered item.

An answer offers with `Answer.remember={"offers": [item, ...]}`; an item is a question text ("怎么交") or a
query descriptor (`descriptor(...)`: the intent and the slots the answer was about, so "1" is answered for
the same county, year and group). The pipeline calls `take` first thing: a lone digit ("1", "１", "1.",
"第1个") picks its item; any other message drops the offers. Offers live in the speaker's conversation state
(saved with the follower), so they last exactly one message.

A fee or deadline answer also asks 有用/没用 (one-tap links on its last line); the next message saying either
is a FEEDBACK query, recorded for the console (bot/handlers/records.py).
"""

from __future__ import annotations

import re
from typing import Any

from bot.nlu.query import Intent, Query
from bot.store.ids import mask_text
from bot.types import Speaker

KEY = "offers"
DETAILS = "details"  # the topic of a descriptor asking for an answer's details (every tier, group, period)

RATE = "feedback"  # state: the intent of an answer that asked "有用/没用" (fee, deadline)

_VERDICT = re.compile(r"^\s*(有用|有帮助|没用|没有用|没帮助|没有帮助)\s*[!！。.]*\s*$")
_PICK = re.compile(r"^\s*(?:第|选)?\s*([1-9１-９])\s*(?:个|项|条|号)?\s*[.。．、,，)）]?\s*$")


def descriptor(intent: Intent, *, region: str | None = None, year: int | None = None,
               categories: tuple[str, ...] = (), tier: str | None = None, topic: str | None = None,
               text: str | None = None) -> dict[str, Any]:
    """An offered query, as JSON-able state (kept with the follower); `text`, the message it came from, with ID
    and phone numbers masked as in the logs."""
    item: dict[str, Any] = {"intent": str(intent)}
    for name, value in (("region", region), ("year", year), ("categories", list(categories)), ("tier", tier),
                        ("topic", topic), ("text", mask_text(text) if text else None)):
        if value:
            item[name] = value
    return item


def picked(text: str) -> int | None:
    """The number a message picks (1-9), or None when it is not a lone digit."""
    m = _PICK.match(text)
    if m is None:
        return None
    return int(m.group(1).translate(str.maketrans("１２３４５６７８９", "123456789")))


def verdict(text: str) -> str | None:
    """"useful" / "useless" for a resident's 有用 / 没用 (as the feedback links send it), else None."""
    m = _VERDICT.match(text)
    return None if m is None else ("useful" if m.group(1) in ("有用", "有帮助") else "useless")


def take(message: str | Query, speaker: Speaker) -> str | Query:
    """The message to answer: the offered item a lone digit picks, a FEEDBACK query for 有用/没用 after an answer
    that asked for it, else `message` itself. Drops the speaker's offers and feedback request either way."""
    offers = speaker.state.pop(KEY, None)
    rated = speaker.state.pop(RATE, None)
    if not isinstance(message, str):
        return message
    if rated and (said := verdict(message)) is not None:
        return Query(intent=Intent.FEEDBACK, text=message, topic=said, extras={"about": rated})
    if not offers:
        return message
    number = picked(message)
    if number is None or number > len(offers):
        return message
    item = offers[number - 1]
    if isinstance(item, str):
        return item
    return Query(
        intent=Intent(item["intent"]),
        text=item.get("text", message),
        region=item.get("region"),
        year=item.get("year"),
        categories=tuple(item.get("categories", ())),
        tier=item.get("tier"),
        topic=item.get("topic"),
    )


def offer(*items: tuple[str, str | dict[str, Any]], rate: Intent | None = None) -> tuple[list[str], dict[str, Any]]:
    """(label, item) pairs, numbered in order -> the labels for the answer's data (its template names them,
    templates/messages/_offers.j2) and the `remember` that keeps the items for the next message; with `rate`,
    the answer also asks 有用/没用 (its template shows the links) and the next message may say which."""
    remember: dict[str, Any] = {KEY: [item for _, item in items]}
    if rate is not None:
        remember[RATE] = str(rate)
    return [label for label, _ in items], remember
