"""What WeChat accepts in a template message's keyword values (category templates, since May 2023). A keyword's
type is its key without the digits (thing1, character_string3, time5); its value must fit the type, or WeChat
refuses the message (errcode 47003, "argument invalid! data.character_string3.value invalid") or cuts the
value silently when it is too long. Line breaks are never shown.

The types we send and their rules, from WeChat's documentation of template and subscription messages:
thing: at most 20 characters of any kind; character_string: at most 32 digits, letters or symbols (no Chinese);
number: at most 32 digits, maybe with a decimal point; letter: at most 32 letters; symbol: at most 5 symbols;
phrase: at most 5 Chinese characters, nothing else; name: at most 10 characters; amount: a currency sign, at
most 10 digits, maybe with decimals, and 元 at the end; time: a time of day (15:01), maybe after a date
(2019年10月1日 15:01), maybe a span with ~; date: a day (2019年10月1日), maybe with a time.
"""

from __future__ import annotations

import re

LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "number": 32, "letter": 32, "symbol": 5, "name": 10,
          "amount": 16}
_DAY = r"(?:\d{4}年\d{1,2}月\d{1,2}日 ?)"
_CLOCK = r"(?:\d{1,2}:\d{2})"
_FORMS = {
    "character_string": (re.compile(r"[!-~]+"), "only digits, letters or symbols (no Chinese, no spaces)"),
    "number": (re.compile(r"[+-]?\d+(?:\.\d+)?"), "only a number"),
    "letter": (re.compile(r"[A-Za-z]+"), "only letters"),
    "symbol": (re.compile(r"[!-/:-@\[-`{-~]+"), "only symbols"),
    "phrase": (re.compile(r"[\u4e00-\u9fff]+"), "only Chinese characters"),
    "amount": (re.compile(r"[¥￥$]?\d{1,10}(?:\.\d{1,2})?元?"), "one amount: a currency sign, digits, 元"),
    # a time of day, maybe after a date, maybe a span (15:01; 2019年10月1日 15:01; 08:00~12:00)
    "time": (re.compile(rf"{_DAY}?{_CLOCK}(?:~{_DAY}?{_CLOCK})?"), "a time of day (2024年11月25日 23:59), not a day"),
    # a day, maybe with a time (2019年10月1日; 2019年10月1日 15:01)
    "date": (re.compile(rf"{_DAY}{_CLOCK}?(?:~{_DAY}{_CLOCK}?)?"), "a day (2024年11月25日)"),
}


def kind(key: str) -> str:
    """The keyword's type: its key without the trailing digits (character_string3 -> character_string)."""
    return key.rstrip("0123456789")


def problem(key: str, value: str) -> str | None:
    """Why WeChat would refuse or cut `value` in keyword `key`; None when it fits."""
    if "\n" in value or "\r" in value:
        return f"{key} has a line break"
    of = kind(key)
    limit = LIMITS.get(of)
    if limit is not None and len(value) > limit:
        return f"{key} is {len(value)} characters, WeChat keeps {limit}: {value!r}"
    return refused(key, value)


def refused(key: str, value: str) -> str | None:
    """Why WeChat refuses `value` in keyword `key` (47003: a value not of the keyword's kind); None otherwise.
    (A value too long is not refused but cut.)"""
    form = _FORMS.get(kind(key))
    if form is not None and not form[0].fullmatch(value):
        return f"{key} must hold {form[1]}: {value!r}"
    return None
