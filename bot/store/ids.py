"""身份证号 (GB 11643-1999 citizen ID numbers): validation, keyed HMAC, masking, birth date and sex.

A full ID number never leaves this module except as an HMAC (for matching) or a masked form (for display).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from operator import mul

from bot.catalogue import t
from bot.store import digits

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")  # ASCII only: \d also matches full-width digits
_OLD_SHAPE = re.compile(r"[0-9]{15}")  # the first-generation number: no century, no check character


class InvalidId(ValueError):
    """The text is not a valid 18-digit ID number; the message says why (templates/cli/zh.toml [ids], in Chinese:
    an import report shows it to staff, the binding answer quotes it to the resident)."""


def normalize(raw: str) -> str:
    """The number with spaces, dots and dashes dropped, digits ASCII and the check character X upper-case
    (bot.store.digits.fold)."""
    if _SHAPE.fullmatch(raw):  # the common case, already clean
        return raw
    return digits.fold(raw)


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def validate(raw: str) -> str:
    """The normalised ID number, or `InvalidId` saying what is wrong (length, birth date or checksum)."""
    number = normalize(raw)
    if _OLD_SHAPE.fullmatch(number):  # issued before 1999; every record now holds the 18-digit number
        raise InvalidId(t("ids.old_number"))
    if len(number) != 18 or not _SHAPE.fullmatch(number):
        raise InvalidId(t("ids.length", length=len(number)))
    try:
        born = _birth(number)
    except ValueError:
        raise InvalidId(t("ids.birth_invalid", birth=number[6:14])) from None
    if not dt.date(1890, 1, 1) <= born <= dt.date(2100, 12, 31):
        raise InvalidId(t("ids.birth_implausible", birth=number[6:14]))
    if check_char(number[:17]) != number[17]:
        raise InvalidId(t("ids.check_char"))
    return number


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except InvalidId:
        return False
    return True


def id_digest(number: str, key: bytes) -> bytes:
    """HMAC-SHA256 of a normalised ID number (32 bytes)."""
    return hmac.digest(key, number.encode("ascii"), "sha256")


def id_hmac(number: str, key: str | bytes) -> str:
    """The keyed HMAC stored in `residents.id_hmac` (64 hex characters)."""
    return id_digest(number, key.encode() if isinstance(key, str) else key).hex()


def mask(number: str) -> str:
    """140524********1234: the area code and the last four characters, nothing of the birth date."""
    number = normalize(number)
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def _birth(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def birth_date(number: str) -> dt.date:
    return _birth(normalize(number))


def sex(number: str) -> str:
    """'M' or 'F' from the 17th digit (odd: male)."""
    return "M" if int(normalize(number)[16]) % 2 else "F"


def make_id(area: str, born: dt.date, sequence: int) -> str:
    """A well-formed ID number (for synthetic data): area code, birth date, 3-digit sequence, check."""
    first17 = f"{area}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)


def mask_phone(phone: str) -> str:
    """138****0001 for an 11-digit mobile number; other numbers keep only their last four digits."""
    number = re.sub(r"[^0-9]", "", digits.fold(phone))
    if mobile := digits.mobile(number):
        return f"{mobile[:3]}****{mobile[-4:]}"
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


# Numbers shorter than a mobile number (dates, amounts, counts) stay as written.
_SHORTEST_MASKED = 11
_DIGIT = re.compile(r"\d")


def _masked_number(m: re.Match[str]) -> str:
    if len(m[0]) < _SHORTEST_MASKED:  # fewer characters than digits needed
        return m[0]
    number = digits.fold(m[0])
    if len(number) < _SHORTEST_MASKED:
        return m[0]
    if digits.is_id_shaped(number):
        return mask(number)
    # A mobile or landline number, or anything as long (a bank card, an ID and a phone typed together):
    # nothing of it but the last four digits.
    return mask_phone(number)


def mask_text(text: str) -> str:
    """Free text (a message, a log line, a cell of an import report) with every number of 11 or more digits
    masked: an ID number to its area code and last four characters, a mobile number to 138****5678, any other
    to its last four digits. Numbers are found as bot.store.digits reads them: full-width, in groups
    separated by any space, dot or dash, with +86."""
    if not _DIGIT.search(text):  # most messages: no number at all
        return text
    return digits.NUMBER.sub(_masked_number, text)
