"""WeChat's size limit on a text message: a passive reply (and a customer-service text) carries at most 2,048
bytes of UTF-8 content. A longer passive reply is dropped by WeChat, and the follower sees "该公众号暂时无法提供
服务". So a longer answer is cut between lines into parts of at most that size: the first is the passive reply,
the others follow as customer-service messages (bot/wechat/inbox.py)."""

from __future__ import annotations

MAX_TEXT_BYTES = 2048


def parts(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """`text` in order, in parts of at most `limit` bytes of UTF-8, cut between lines (a single longer line is
    cut between characters). A text within the limit is one part, unchanged."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line.encode("utf-8")) > limit:  # a line longer than a whole part
            if current:
                out.append(current)
                current = ""
            head = _head(line, limit)
            out.append(head)
            line = line[len(head):]
        joined = f"{current}\n{line}" if current else line
        if len(joined.encode("utf-8")) <= limit:
            current = joined
        else:
            out.append(current)
            current = line
    if current:
        out.append(current)
    return out


def _head(line: str, limit: int) -> str:
    """The longest start of `line` within `limit` bytes."""
    size = 0
    for i, char in enumerate(line):
        size += len(char.encode("utf-8"))
        if size > limit:
            return line[:i]
    return line
