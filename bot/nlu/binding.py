"""Binding details in a message: an ID number (身份证号) and a name, and the words that cancel binding.

Only the shape is checked here (18 characters, the last may be X); the checksum, and whether the person
exists, are the binding handler's business. Numbers are read by bot.store.digits, the normaliser the log masker
shares: full-width digits, groups separated by any space, dot or dash. ID numbers never stay in `Query.text`:
see `mask_ids`.
"""

from __future__ import annotations

import re

from bot.nlu.lexicon import NOT_NAMES, SURNAMES, SURNAMES_COMPOUND
from bot.store import digits, ids

_CANCEL = re.compile(
    r"^(?:取消|算了|不绑了|不绑定了|取消绑定|退出|不要了|返回|先不绑了?|不了|不用了|不弄了|停止)(?:吧|了)?[!.。?~]*$"
)
_EXPLICIT_NAME = re.compile(r"(?:我叫|姓名|名字(?:是|叫)?|叫做|本人)[:\s]*([\u4e00-\u9fff·]{2,12})")
_I_AM = re.compile(r"(?:^|[,\s])(?:我是|俺是)([\u4e00-\u9fff·]{2,4})(?:[,.。!\s]|$)")
_NAME_STOP = re.compile(r"身份证|号码|证件|的|是|我|叫|姓名|名字|今年|医保|绑定")
_FILLER = re.compile(
    r"(?:帮我|给我|我要|我想)?(?:绑定|绑一下|绑)|身份证(?:号码|号)?|证件号码?|号码|姓名|名字|我的|我叫|本人|是|为|[:,.。;、!\s]"
)
_HAN_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$|^[\u4e00-\u9fff]{1,8}·[\u4e00-\u9fff]{1,8}$")


def is_cancel(text: str) -> bool:
    return bool(_CANCEL.match(text))


def id_number_in(text: str) -> str | None:
    """The first number of the text that has an ID number's shape, folded (ASCII digits, X upper-case)."""
    for m in digits.numbers_in(text):
        if digits.is_id_shaped(number := digits.fold(m[0])):
            return number
    return None


def mask_ids(text: str) -> str:
    """The text with every ID number (and phone number) masked, as the message log masks it."""
    return ids.mask_text(text)


def _clean_name(candidate: str) -> str | None:
    candidate = _NAME_STOP.split(candidate, maxsplit=1)[0]
    return candidate if _HAN_NAME.match(candidate) else None


def _looks_like_name(candidate: str) -> bool:
    return bool(_HAN_NAME.match(candidate)) and candidate not in NOT_NAMES and (
        candidate[0] in SURNAMES or candidate.startswith(SURNAMES_COMPOUND) or "·" in candidate
    )


def explicit_name_in(text: str) -> str | None:
    """A name introduced as one: 我叫张三, 姓名：张三, 我是张三 (the last only if it looks like a name)."""
    m = _EXPLICIT_NAME.search(text)
    if m and (name := _clean_name(m.group(1))):
        return name
    m = _I_AM.search(text)
    if m and _looks_like_name(m.group(1)):
        return m.group(1)
    return None


def bare_name_in(text: str) -> str | None:
    """A message that is nothing but a name (and filler), e.g. "张三" or "姓名 李四"."""
    rest = _FILLER.sub("", digits.NUMBER.sub("", text))
    return rest if _looks_like_name(rest) else None


def binding_details(text: str) -> dict[str, str]:
    """{"name": ..., "id_number": ...} with whichever of the two the message carries."""
    details: dict[str, str] = {}
    id_number = id_number_in(text)
    name = explicit_name_in(text) or (bare_name_in(text) if id_number else None)
    if name:
        details["name"] = name
    if id_number:
        details["id_number"] = id_number
    return details
