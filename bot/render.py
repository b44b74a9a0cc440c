"""Answers become text through the jinja2 templates in templates/messages/ (Simplified Chinese)."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path

import jinja2

from bot.types import Answer

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"


def cn_date(value: dt.date, with_year: bool = True) -> str:
    """2024年11月25日 (or 11月25日)."""
    if with_year:
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.month}月{value.day}日"


def wx_time(value: dt.date, end: bool = True) -> str:
    """A day as a template message's `time` keyword takes it, with a time of day (WeChat refuses a day alone):
    the end of the day for a cutoff (2024年11月25日 23:59), its start otherwise."""
    return f"{cn_date(value)} {'23:59' if end else '00:00'}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
        auto_reload=False,  # templates change only with a deploy; no stat() per message
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters["cn_date"] = cn_date
    env.filters["wx_time"] = wx_time
    return env


def render(answer: Answer) -> str:
    """The answer's text; "" for an answer that says nothing."""
    if answer.template is None:
        return ""
    text = environment().get_template(f"{answer.template}.j2").render(**answer.data)
    # One statement per line, no blank lines: block tags leave empty lines behind, and a phone
    # screen has no room for them.
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


# A one-tap link in a text message (templates/messages/_offers.j2: 有用/没用): WeChat shows its words.
_LINK = re.compile(r'<a href="[^"]*">([^<]*)</a>')


def as_read(text: str) -> str:
    """`text` as the follower reads it on the phone, for a terminal: a one-tap link shows as [its words]."""
    return _LINK.sub(r"[\1]", text)
