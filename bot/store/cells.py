"""Cells of the bureau's rosters, parsed: each parser returns a clean value or raises ValueError with the
reason in Chinese, for the error report. Pure functions, shared by the imports and binding."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.catalogue import t
from bot.store import digits, ids

Cell = str | int | float | Any  # str for CSV; openpyxl also gives int, float, datetime, bool or None

_NO_CATEGORY = {"", "无", "-", "—", "普通", "一般", "普通居民", "普通人员", "一般人员"}
SPACES = re.compile(r"[\s\u3000]+")
_CATEGORY_SPLIT = re.compile(r"[、,，/;；|\s]+")
# What a spreadsheet would run rather than show: a formula (= + - @ first, also full-width), a function call
# (HYPERLINK(, cmd(), DDE (cmd|' /C calc'!A0), or a control character (tab, line break).
_FORMULA = re.compile(r"^[=+\-@＝＋－＠]|[=|＝｜]|[A-Za-z_][A-Za-z0-9_.]*\s*[(（]|[\x00-\x1f\x7f]")


# Characters that show nothing (zero-width spaces and joiners, soft hyphen, BOM, word joiner) or reorder what
# is shown (bidirectional marks and overrides): pasted from web pages and chats, they make 崇文镇 a different
# township and 张三 a name no resident types, and an override can make a name read as another.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c"
                               "\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"))


def visible(text: str) -> str:
    """`text` without the characters that show nothing or reorder the rest (_INVISIBLE), stripped."""
    return text.translate(_INVISIBLE).strip()


def text_of(cell: Cell) -> str:
    if type(cell) is str:
        return visible(cell)
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return visible(str(cell))


def normalize_name(raw: str) -> str:
    """A person's name as compared: nothing invisible (`visible`), no spaces between Chinese characters
    (李 慈 = 李慈), single spaces else."""
    raw = visible(raw)
    if not SPACES.search(raw):
        return raw
    return SPACES.sub(" ", re.sub(r"(?<=[\u3400-\u9fff])[\s\u3000]+(?=[\u3400-\u9fff])", "", raw))


def plain_text(value: str, what: str) -> str:
    """`value` if it is plain text to store, else ValueError: names and places are shown to staff in the files
    we write, and a cell like =HYPERLINK(…) would run when they open one; an ID or phone number (in the wrong
    column) would be stored in clear."""
    if _FORMULA.search(value):
        raise ValueError(t("import.cells.formula", what=what))
    if ids.mask_text(value) != value:
        raise ValueError(t("import.cells.long_number", what=what))
    return value


def parse_name(cell: Cell) -> str:
    name = normalize_name(text_of(cell))
    if not name:
        raise ValueError(t("import.cells.name_empty"))
    if len(name) > 32 or re.search(r"\d", name):
        raise ValueError(t("import.cells.name_odd"))
    return plain_text(name, "姓名")


def parse_id(cell: Cell) -> str:
    if isinstance(cell, float):
        raise ValueError(t("import.cells.id_as_number"))
    raw = text_of(cell)
    if not raw:
        raise ValueError(t("import.cells.id_empty"))
    try:
        return ids.validate(raw)
    except ids.InvalidId as exc:
        raise ValueError(t("import.cells.id_invalid", reason=exc)) from None


_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# A date column formatted as numbers holds the date's serial: days since _EXCEL_EPOCH (45611 is 2024-11-15). A
# serial between these dates is read as that date, in an xlsx cell and in a CSV exported from one alike.
SERIAL_DATES = (dt.date(2000, 1, 1), dt.date(2100, 12, 31))
_SERIAL_RANGE = tuple((d - _EXCEL_EPOCH).days for d in SERIAL_DATES)
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_date(cell: Cell) -> dt.date:
    """2024-11-20, 2024/11/20, 2024.11.20, 2024年11月20日, 20241120, an Excel date, or an Excel date serial
    (45611, 45611.4375) within SERIAL_DATES, as a number or as text."""
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    raw = text_of(cell)  # a number too: 20241120 typed into a number cell is that day, 45611 a serial
    if not raw:
        raise ValueError(t("import.cells.date_empty"))
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(raw)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise ValueError(t("import.cells.date_impossible", date=raw)) from None
    if _NUMBER.fullmatch(raw):
        return _serial_date(float(raw), raw)
    raise ValueError(t("import.cells.date_unreadable", date=raw))


def _serial_date(number: float, raw: str) -> dt.date:
    first, last = _SERIAL_RANGE
    if first <= number < last + 1:  # a fraction is the time of day
        return _EXCEL_EPOCH + dt.timedelta(days=int(number))
    raise ValueError(t("import.cells.date_serial", date=raw, first=SERIAL_DATES[0], last=SERIAL_DATES[1]))


def parse_amount(cell: Cell) -> int:
    """Whole yuan, not negative: 400, 400.00, 400元, ￥400, 1,080."""
    if isinstance(cell, bool):
        raise ValueError(t("import.cells.amount_unreadable"))
    if isinstance(cell, int | float):
        value = float(cell)
    else:
        raw = re.sub(r"[\s,，]|元$|^[¥￥]", "", text_of(cell))
        if not raw:
            raise ValueError(t("import.cells.amount_empty"))
        if not re.fullmatch(r"-?\d+(\.\d+)?", raw):
            raise ValueError(t("import.cells.amount_not_a_number", amount=text_of(cell)))
        value = float(raw)
    if value < 0:
        raise ValueError(t("import.cells.amount_negative"))
    if not value.is_integer():
        raise ValueError(t("import.cells.amount_fraction"))
    if value > 10_000:
        raise ValueError(t("import.cells.amount_too_large"))
    return int(value)


def parse_year(cell: Cell) -> int:
    raw = re.sub(r"年度?$", "", text_of(cell))
    if not re.fullmatch(r"\d{4}", raw) or not 2000 <= int(raw) <= 2100:
        raise ValueError(t("import.cells.year_unreadable", year=text_of(cell)))
    return int(raw)


def parse_phone(cell: Cell) -> str:
    """An 11-digit mobile number (1[3-9]…) or a landline with its area code (0356-1234567)."""
    raw = digits.fold(re.sub(r"[()（）]", "", text_of(cell)))
    if mobile := digits.mobile(raw):
        return mobile
    if re.fullmatch(r"0[0-9]{2,3}[0-9]{7,8}", raw):
        return raw
    raise ValueError(t("import.cells.phone_malformed"))


def split_categories(raw: str) -> list[str]:
    """Category names separated by 、 , ， / ; ； — but not inside brackets (重度残疾（一、二级）)."""
    raw = raw.strip()
    parts, depth, current = [], 0, ""
    for ch in raw:
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(depth - 1, 0)
        if depth == 0 and _CATEGORY_SPLIT.fullmatch(ch):
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def parse_categories(cell: Cell, aliases: dict[str, str]) -> tuple[str, ...]:
    raw = text_of(cell) if cell else ""
    if raw in _NO_CATEGORY:
        return ()
    if raw in aliases:
        return (aliases[raw],)
    keys: list[str] = []
    unknown: list[str] = []
    for name in split_categories(raw):
        key = aliases.get(name)
        if key is None:
            unknown.append(name)
        elif key not in keys:
            keys.append(key)
    if unknown:
        raise ValueError(t("import.cells.category_unknown", categories="、".join(unknown)))
    return tuple(keys)


