"""message_log rows: every inbound and outbound message, with ID and phone numbers masked.

A passive reply is not copied into the log: the inbound message's row carries the reply's intent and its
dedupe key (`reply_key`), and the reply is inbound_messages.reply of that key, stored once, with the claim
(a conversation is message_log LEFT JOIN inbound_messages ON key = reply_key). Every other message the bot
sends (customer-service, template) is an "out" row of its own.

The webhook's store (bot/wechat/store.py) writes them in bulk, within a second, so logging costs a request
no transaction of its own.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from bot.store.ids import mask_text

MAX_CONTENT = 4000  # characters kept of one message


def _masked(content: str) -> str:
    return mask_text(content)[:MAX_CONTENT]


# The bot's own replies repeat (the same answers to the same questions): mask each text once. Residents'
# messages are masked afresh every time, so no ID number they typed stays in memory.
_masked_reply = lru_cache(maxsize=2048)(_masked)


def log_row(
    openid: str, direction: str, msg_type: str, content: str, at: dt.datetime, intent: str | None = None,
    reply_key: str | None = None,
) -> dict[str, Any]:
    """A message_log row; `direction` is "in" or "out"; `reply_key` for an inbound message answered by
    passive reply (whose `intent` it then carries)."""
    return {
        "reply_key": reply_key,
        "openid": openid,
        "direction": direction,
        "msg_type": msg_type[:32],
        "content": _masked_reply(content) if direction == "out" else _masked(content),
        "intent": intent,
        "created_at": at,
    }
