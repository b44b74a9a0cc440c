"""Years without insurance (断了两年没交) and years paid back (补缴了一年), read from normalised text.

Used by the waiting-period answer: the wait is computed from the notice's numbers for these years.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_N = r"(\d{1,2}|十|[一两二三四五六七八九])"
_YEAR = r"(?:个)?(?:年|年度)"
STOPPED = r"(?:断(?:保|缴|交|档|了|掉|过)?|停(?:保|缴|交|了)?|没(?:有)?(?:交|缴|参保|参加|买|续)|未(?:交|缴|参保))"

_LAPSED = (
    re.compile(rf"{STOPPED}了?(?:有)?{_N}{_YEAR}"),  # 断了两年, 断保2年, 停了三年, 没交两年
    re.compile(rf"{_N}{_YEAR}(?:都|也|一直|就)?{STOPPED}"),  # 两年没交, 三年都没缴
    re.compile(rf"(?:已经)?有{_N}{_YEAR}(?:都|也)?{STOPPED}"),
)
_LAST_YEAR = re.compile(rf"去年(?:就|也)?{STOPPED}")  # 去年没交: one year
_BACK_PAID = (
    re.compile(rf"补(?:交|缴)(?:了|上)?{_N}{_YEAR}"),  # 补缴了一年, 补交两年
    re.compile(rf"{_N}{_YEAR}(?:都|也)?补(?:交|缴|上)"),  # 两年都补交
)


@dataclass(frozen=True)
class Lapse:
    lapsed_years: int | None  # None: the text does not say
    back_paid_years: int | None


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _DIGITS[token]


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> int | None:
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            return _number(m.group(1))
    return None


def lapse_in(text: str) -> Lapse:
    """The years of lapse and of back payment a resident names (我断了两年没交，补缴一年)."""
    lapsed = _first(_LAPSED, text)
    if lapsed is None and _LAST_YEAR.search(text):
        lapsed = 1
    return Lapse(lapsed, _first(_BACK_PAID, text))
