"""Why an outbox message was not sent (outbox.last_error), as staff read it: the sender (scheduler/sender.py)
records its reasons in English with WeChat's errcode and errmsg; the console's outbox and `yibao outbox` show
each known phrase in Chinese ([outbox.reasons]) and each known errcode with its meaning ([outbox.errcodes])."""

from __future__ import annotations

import re

from bot.catalogue import section

_CODE = re.compile(r"(?<![\d.])(-1|4\d{4})(?![\d.])")


def reason_in_chinese(error: str | None) -> str:
    """The sender's last error in Chinese; "" for none."""
    if not error:
        return ""
    reasons = section("outbox.reasons")
    if error in reasons:
        return reasons[error]
    for phrase in sorted(reasons, key=len, reverse=True):
        error = error.replace(phrase, reasons[phrase])
    meanings = section("outbox.errcodes")
    return _CODE.sub(lambda m: f"{m[1]}（{meanings[m[1]]}）" if m[1] in meanings else m[1], error)
