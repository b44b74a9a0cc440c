"""message_log rows: every inbound and outbound message, with ID and phone numbers masked.

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
    openid: str, direction: str, msg_type: str, content: str, at: dt.datetime, intent: str | None = None
) -> dict[str, Any]:
    """A message_log row; `direction` is "in" or "out"."""
    return {
        "openid": openid,
        "direction": direction,
        "msg_type": msg_type[:32],
        "content": _masked_reply(content) if direction == "out" else _masked(content),
        "intent": intent,
        "created_at": at,
    }
