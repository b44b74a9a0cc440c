"""What the message log keeps beside a message's masked text (message_log.detail), for staff: what the bot
tried on a message it could not answer (the candidate intents, the slots it found: never the text), or the
resident's 有用/没用 on an answer. The webhook writes it with the message's log row."""

from __future__ import annotations

from typing import Any

from bot.handlers import clarify
from bot.nlu.query import Intent, Query

UNANSWERED = frozenset({Intent.FALLBACK, Intent.OUT_OF_SCOPE})


def detail(query: Query) -> dict[str, Any] | None:
    if query.intent in UNANSWERED:
        return clarify.tried(query)
    if query.intent is Intent.FEEDBACK:
        return {"useful": query.topic == "useful", "about": query.extras.get("about")}
    return None
