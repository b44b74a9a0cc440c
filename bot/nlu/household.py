"""How many people a fee question asks for: "我家4口人交多少", "一家三口要交多少钱", "两个人多少钱", "老两口交多少".

The reading stays FEE (bot.nlu.intents); the fee answer multiplies the per-person figure the notice gives by
this count (bot/handlers/fee.py). One person (一个人几块钱) is the per-person question; a message giving two
different counts (我家4口人，2个低保) asks no single total and gets none.
"""

from __future__ import annotations

import re

from bot.nlu.normalize import _parse_chinese_number

_NUMBER = r"\d{1,2}|[一二两俩三四五六七八九十]{1,3}"
_COUNT = re.compile(
    rf"(?:一家|全家|家里|家中|我家|俺家|咱家|我们家|俺们家|一共|总共|共)?(?:有)?({_NUMBER})\s*(?:口人|口子|口|个人|位|人)"
    r"(?![民员头均])"
)
# Pairs said in words: 老两口, 两口子, 夫妻俩, 我们俩, 我俩, 俩人, 两人.
_PAIR = re.compile(r"老两口|两口子|夫妻俩|夫妻两个|我们?俩|俺们?俩|咱们?俩|我们两个|俺们两个|咱们两个|俩人")
# Any other count of people (2个低保, 3个孩子): with the household's, the message asks no single total.
_OTHER = re.compile(rf"({_NUMBER})\s*(?:个|名)(?!月|小时|星期|档|工作日)")
_MOST = 20


def _value(word: str) -> int:
    if word.isdigit():
        return int(word)
    return _parse_chinese_number(word.replace("两", "二").replace("俩", "二"))


def people(text: str) -> int | None:
    """The number of people the fee is asked for, when it is one number of two or more; else None."""
    counts = {_value(m.group(1)) for m in _COUNT.finditer(text)}
    if _PAIR.search(text):
        counts.add(2)
    if counts:
        counts |= {_value(m.group(1)) for m in _OTHER.finditer(text)}
    if len(counts) != 1:
        return None
    (count,) = counts
    return count if 2 <= count <= _MOST else None
