"""Text normalisation: what every rule and slot pattern sees instead of the raw message.

Steps, in order: cap the length, NFKC (full-width digits, letters and punctuation -> half-width), drop
control characters, emoji and WeChat emoticon codes, collapse whitespace (and remove it between two Chinese
characters), traditional -> simplified characters (zhconv, MediaWiki's zh-cn tables), a small table of
cheap typo fixes, and Chinese numerals where they carry a year, a day or an amount (二〇二三年, 二十五号,
五百四). Numerals inside category names (三级残疾, 一般残疾) are left alone on purpose.
"""

from __future__ import annotations

import re
import unicodedata

import zhconv

# A WeChat message is at most a couple of thousand characters; anything longer is not a question. Keep the
# head (where residents say who and where they are) and the tail (where the question usually is).
MAX_RAW_CHARS = 1500
MAX_TEXT_CHARS = 600
_HEAD_CHARS = 300

# Unicode categories dropped outright: controls and formats (ZWJ, BOM), surrogates, private use,
# unassigned, symbols that are not maths or currency (emoji, dingbats), modifiers (skin tones) and
# combining marks (variation selectors, keycaps). Chinese text uses none of them.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "So", "Sk", "Mn", "Me"})

# WeChat sends its stock emoticons as text: "[微笑]", "[Smile]", "/::)".
_WECHAT_EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,5}\]|/:{1,2}[^\s\u4e00-\u9fff]{1,5}")
_SPACES = re.compile(r"\s+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")

# Frequent slips of the pinyin keyboard and homophones, only where the fix cannot hurt another word.
TYPOS: dict[str, str] = {
    "缴废": "缴费",
    "交废": "交费",
    "低宝": "低保",
    "特捆": "特困",
    "医宝": "医保",
    "支付包": "支付宝",
    "截指": "截止",
    "结止": "截止",
    "新农和": "新农合",
    "合寮": "合疗",
    "多少前": "多少钱",
    "多钱钱": "多少钱",
    "时侯": "时候",
    "时后": "时候",
    "残急": "残疾",
    "残积": "残疾",
    "家庭公济": "家庭共济",
    "家庭共计": "家庭共济",
    "亲情帐户": "亲情账户",
    "帐户": "账户",
    "参宝": "参保",
    "手须费": "手续费",
    "手序费": "手续费",
}
_TYPO_RE = re.compile("|".join(sorted(map(re.escape, TYPOS), key=len, reverse=True)))

_DIGIT = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9}
_D = "〇零○一二两三四五六七八九"
# 二〇二三年 / 二零二五年度 / 二三年 / 一九年: a year written digit by digit.
_YEAR_4 = re.compile(rf"([{_D}]{{4}})(?=年)")
_YEAR_2 = re.compile(rf"(?<![{_D}十百千])(二[{_D}]|一[五六七八九])(?=年)")
# 四百, 五百四, 三百五十, 一千零七十, 两百块: amounts with 百 or 千 (never 百分之, which has no digit before).
# A trailing digit that starts a count (四百一个人, 三百两口子) is not part of the amount.
_AMOUNT = re.compile(
    rf"[{_D}]千(?:零?[{_D}]百)?(?:零?[{_D}]?十?[{_D}]?(?![个人口年次位户]))|[{_D}]百(?:零?[{_D}]十?[{_D}]?(?![个人口年次位户]))?"
)
# 二十五号, 九十天, 十二月, 八十岁: tens only before a unit, so 十分 and 十足 stay.
_TENS = re.compile(rf"[{_D}]?十[{_D}]?(?=[元块岁天号日月个])")


def _parse_chinese_number(text: str) -> int:
    """Value of 四百, 五百四 (=540), 三百零五, 一千零七十, 二十五, 十二."""
    total = 0
    current = 0
    last_unit = 1
    for ch in text:
        if ch in _DIGIT:
            current = _DIGIT[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current, last_unit = 0, 10
        elif ch == "百":
            total += current * 100
            current, last_unit = 0, 100
        elif ch == "千":
            total += current * 1000
            current, last_unit = 0, 1000
    if current:
        # 五百四 is 540: a trailing digit right after a unit counts in the next unit down.
        total += current * (last_unit // 10 if last_unit >= 100 and "零" not in text[-2:] else 1)
    return total


def _year_digits(match: re.Match[str]) -> str:
    return "".join(str(_DIGIT[ch]) for ch in match.group(1))


def chinese_numerals_to_digits(text: str) -> str:
    """Rewrite years, amounts and day counts written in Chinese numerals as Arabic digits."""
    if not any(ch in _DIGIT or ch in "十百千" for ch in text):
        return text
    text = _YEAR_4.sub(_year_digits, text)
    text = _YEAR_2.sub(_year_digits, text)
    text = _AMOUNT.sub(lambda m: str(_parse_chinese_number(m.group(0))), text)
    return _TENS.sub(lambda m: str(_parse_chinese_number(m.group(0))), text)


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:_HEAD_CHARS] + " " + text[-(limit - _HEAD_CHARS - 1) :]


def _keep(ch: str) -> bool:
    return unicodedata.category(ch) not in _DROP_CATEGORIES


# A space between two Chinese characters is a comma where the pieces it separates are words or clauses (交多少
# 几号截止, 俺在外地打工 户口在罗山县 今年交多少钱), not where it spaces out single characters (交 多 少).
_CJK_PIECE = re.compile(rf"[{_CJK}]+")


def _spaces_cut_clauses(text: str) -> bool:
    pieces = [p for p in text.split(" ") if p]
    return len(pieces) > 1 and all(len(m.group(0)) > 1 for p in pieces for m in _CJK_PIECE.finditer(p))


def normalize(text: str, *, clauses: bool = False) -> str:
    """The text as rules see it: simplified, half-width, no emoji, single spaces, bounded length. With `clauses`,
    a space between Chinese characters that cuts the message into clauses is a comma (see `_spaces_cut_clauses`):
    the form the intent rules read, which tell a clause that asks from one that only tells."""
    if not text:
        return ""
    text = _cap(text, MAX_RAW_CHARS)
    text = unicodedata.normalize("NFKC", text).replace("○", "〇")  # 二○二三: a circle (So) for a zero
    # Newlines and tabs become spaces before the control characters go.
    text = "".join(ch if _keep(ch) else (" " if ch.isspace() else "") for ch in text)
    text = _WECHAT_EMOTICON.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    text = _SPACE_BETWEEN_CJK.sub("," if clauses and _spaces_cut_clauses(text) else "", text)
    text = _cap(text, MAX_TEXT_CHARS)
    text = zhconv.convert(text, "zh-cn")
    text = _TYPO_RE.sub(lambda m: TYPOS[m.group(0)], text)
    return chinese_numerals_to_digits(text)


def warm_up() -> None:
    """Load zhconv's tables now (about 0.2 s) rather than inside the first resident's request."""
    zhconv.convert("繁體", "zh-cn")
