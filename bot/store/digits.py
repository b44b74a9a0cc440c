"""Numbers as residents and rosters write them: the ONE normaliser of ID and phone numbers.

The binding parser (bot.nlu.binding), the masker of free text (bot.store.ids.mask_text: message_log, Query.text,
import reports) and the roster cells (bot.store.cells) all read numbers through this module, so whatever the
parser accepts as an ID or phone number, the masker masks.

A number is a run of digits, any Unicode decimal digit (０-９ full-width, ٠-٩ ...), with up to three separators
between two digits: any Unicode space (U+3000 ideographic space, NBSP, tabs, line breaks), a zero-width
character, a dot (. ． 。 · ・) or a dash (- ‐ – — − －); optionally led by + (＋86 ...) and ended by the check
character X (x, Ｘ, ｘ). `fold` turns such a run into plain ASCII digits (and X).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

_SEPARATOR = (
    r"[\s\u200b-\u200d\u2060\ufeff"  # spaces of every kind (\s is Unicode-aware), zero-width characters
    r".\uff0e\u3002\u00b7\u30fb\u2027"  # . ． 。 · ・ ‧
    r"\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]"  # - ‐ ‑ ‒ – — ― − ﹘ ﹣ －
)
_CHECK_X = "XxＸｘ"
# \d is Unicode-aware: every decimal digit, full-width ones included. Linear: no nested repetition overlaps.
NUMBER = re.compile(rf"(?:[+＋]{_SEPARATOR}{{0,3}})?\d(?:{_SEPARATOR}{{0,3}}\d)*(?:{_SEPARATOR}{{0,3}}[{_CHECK_X}])?")
_DROP = re.compile(rf"{_SEPARATOR}|[+＋]")
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE = re.compile(r"(?:0086|86)?(1[3-9][0-9]{9})")


def _ascii_digit(ch: str) -> str:
    if "0" <= ch <= "9":
        return ch
    if ch.isdecimal():
        return str(unicodedata.decimal(ch))
    return "X" if ch in _CHECK_X else ch


def fold(raw: str) -> str:
    """`raw` with separators and + dropped, every decimal digit ASCII and the check character X upper-case;
    other characters are kept (so a validator can say what is wrong): "+86 138 1234－５６７８" -> "8613812345678"."""
    if raw.isascii() and raw.isdigit():  # the common case, already clean
        return raw
    return "".join(map(_ascii_digit, _DROP.sub("", raw)))


def numbers_in(text: str) -> Iterator[re.Match[str]]:
    """Every number in free text (see the module doc), left to right, each run as long as it goes."""
    return NUMBER.finditer(text)


def is_id_shaped(number: str) -> bool:
    """18 characters, 17 digits and a digit or X (a folded number; the checksum is bot.store.ids's business)."""
    return bool(_ID_SHAPE.fullmatch(number))


def mobile(number: str) -> str | None:
    """The 11-digit mobile number (1[3-9]…) of a folded number, without a leading 86 or 0086, or None."""
    m = _MOBILE.fullmatch(number)
    return m[1] if m else None
