"""ID and phone numbers written every way residents and rosters write them (fictional numbers): the variants
the binding parser accepts, which the masker must therefore mask wherever they appear."""

from __future__ import annotations

import datetime as dt

from bot.store import ids

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
SEPARATORS = {"space": " ", "ideographic space": "\u3000", "NBSP": "\u00a0", "tab": "\t", "thin space": "\u2009",
              "zero-width space": "\u200b", "dot": ".", "full-width dot": "．", "middle dot": "·", "dash": "-",
              "en dash": "–", "full-width dash": "－", "space dash space": " - "}


def id_with_x() -> str:
    """A fictional ID number whose check character is X."""
    return next(n for s in range(1000) if (n := ids.make_id("140524", dt.date(1985, 3, 7), s)).endswith("X"))


def id_variants(number: str) -> dict[str, str]:
    """`number` (18 characters) as typed: in groups 6-8-4 with each separator, full-width, lower-case x."""
    out = {"plain": number, "full-width": number.translate(FULL_WIDTH), "lower-case x": number.lower()}
    for name, sep in SEPARATORS.items():
        out[f"groups, {name}"] = sep.join((number[:6], number[6:14], number[14:]))
    out["4-4-4-4-2, ideographic space, full-width"] = "\u3000".join(
        number[i:i + 4] for i in range(0, 18, 4)).translate(FULL_WIDTH)
    if number.endswith("X"):
        out["full-width Ｘ"] = number[:17] + "Ｘ"
    return out


def phone_variants(phone: str) -> dict[str, str]:
    """An 11-digit mobile number as typed: +86, 86, 0086, in 3-4-4 groups with each separator, full-width."""
    a, b, c = phone[:3], phone[3:7], phone[7:]
    out = {"plain": phone, "+86": f"+86{phone}", "+86 spaced": f"+86 {a} {b} {c}", "86": f"86{phone}",
           "0086": f"0086{phone}", "full-width": phone.translate(FULL_WIDTH), "full-width ＋８６": f"＋８６{phone}"
           .translate(FULL_WIDTH)}
    for name, sep in SEPARATORS.items():
        out[f"groups, {name}"] = sep.join((a, b, c))
    return out
