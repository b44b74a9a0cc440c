"""message_log rows: every inbound and outbound message, with ID and phone numbers masked.

The webhook's store (bot/wechat/store.py) writes them with its next batch, so logging costs a request no
transaction of its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.store.ids import mask_text

MAX_CONTENT = 4000  # characters kept of one message


def log_row(
    openid: str, direction: str, msg_type: str, content: str, at: dt.datetime, intent: str | None = None
) -> dict[str, Any]:
    """A message_log row; `direction` is "in" or "out"."""
    return {
        "openid": openid,
        "direction": direction,
        "msg_type": msg_type[:32],
        "content": mask_text(content)[:MAX_CONTENT],
        "intent": intent,
        "created_at": at,
    }
