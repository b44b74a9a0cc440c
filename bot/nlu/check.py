"""Checking a figure: "是不是交三百就行了", "听说今年四百，对吗", "截止是不是12月31号".

The reading is the question the figure belongs to (fee, deadline ...; bot.nlu.intents). This module only
reads what the resident checks, when the message checks something (是不是, 对吗, 对吧, 没记错吧, 真的假的, a
figure then 吗/吧): the amounts in yuan (Chinese numerals read: 四十, 一百二 = 120) and a date (12月31号, 25号
as month 0). 不用掏钱 / 免费 / 一分钱不用交 / 交0元 / 零元 check the amount 0. The answer then starts with 对 or
不对 (bot/handlers/verdict.py).
"""

from __future__ import annotations

import re

from bot.nlu.normalize import _parse_chinese_number

_CHECKING = re.compile(
    r"是不是|对吗|对吧|对不对|对不|是吧|是吗|没记错|没说错|没弄错|没错吧|真的假的|是?真的(?:吗|不|么)|是这样|就行了?|就可以了?"
    r"|(?:\d|[十百千零])(?:元|块)?(?:钱)?(?:吗|吧|嘛)|(?:\d|[十百千零])(?:元|块)?(?:钱)?不$|吧$"
)
# An amount: 2-4 digits that are no year, day, month, age or duration (normalising wrote 四百 as 400).
_AMOUNT = re.compile(r"(?<![\d./月])(\d{2,4})(?![\d.%])(?!\s*(?:年|月|号|日|天|岁|点|个月|周|小时|分|级|档次?|多))")
_YEAR_LIKE = range(2015, 2036)
# Tens written in words (四十, 八十块, 一百二 is already 120): only before 块/元 or after 交/是/补/收.
_TENS = re.compile(
    r"(?:(?<=[交是补收付缴])|(?=\S*[块元]))([一二两三四五六七八九]?十[一二三四五六七八九]?)(?![一二三四五六七八九十号日月天岁])"
)
_FREE = re.compile(
    r"不用(?:自己)?(?:交|掏|出|花|缴)(?:钱|费)?|免费|全免|不花钱|不要钱|不掏钱|免交|免缴|不收(?:钱|费)"
    r"|一分(?:钱)?(?:都|也)?不(?:用|要)?(?:交|花|出|掏|缴)|分文不|不花一分"
)
# The figure 0 said as a figure (交0元, 是不是0块, 零元): _AMOUNT reads 2-4 digits only.
_ZERO = re.compile(r"(?<![\d.])0(?=\s*(?:元|块))|(?<=[交是缴花掏付出])0(?![\d.%])|零(?=元|块)")
# 12月31号, 12月31, 12.31, 12/31 (month and day); 25号 (a day of the month).
_DATE = re.compile(
    r"(\d{1,2})月(\d{1,2})(?:号|日)?|(?<![\d.])(\d{1,2})[./](\d{1,2})(?![\d.])|(?<!\d)(\d{1,2})(?:号|日)"
)


def checking(text: str) -> bool:
    return bool(_CHECKING.search(text))


def amounts(text: str) -> tuple[int, ...]:
    """The amounts a checking message says (empty when it checks none)."""
    if not checking(text):
        return ()
    found = [(m.start(), int(m.group(1))) for m in _AMOUNT.finditer(text) if int(m.group(1)) not in _YEAR_LIKE]
    found += [(m.start(), _parse_chinese_number(m.group(1))) for m in _TENS.finditer(text)]
    found += [(m.start(), 0) for m in _ZERO.finditer(text)]
    if not found and _FREE.search(text):
        return (0,)
    return tuple(dict.fromkeys(value for _, value in sorted(found)))


def date(text: str) -> tuple[int, int] | None:
    """(month, day) of the date a checking message says (month 0 when it names a day only)."""
    if not checking(text):
        return None
    m = _DATE.search(text)
    if m is None:
        return None
    month, day = m.group(1) or m.group(3), m.group(2) or m.group(4) or m.group(5)
    return int(month or 0), int(day)
