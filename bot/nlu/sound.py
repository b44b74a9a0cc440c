"""Sound-alike respelling: voice input and pinyin typing turn 低保 into 底保, 特困 into 特昆, 陵川县 into 林川县.

`SoundAlike(terms).respell(text)` rewrites every span of `text` that sounds like one of `terms` (and is not
itself a term) into that term, so the slot patterns and intent rules see the domain's own spelling. The
terms come from the policy files (category aliases, region and township names, tier names) and the lexicon
(lexicon.SOUND_TERMS), never from a list of misspellings.

A span is a sound-alike of a term when it has the term's length (at least 2 characters), every character
can be read (tone-less pinyin, any of its readings) as the term's character, at least half of its
characters are the term's own, and it holds no function word the term lacks (的, 了, 有, 几 ...), except as
the one character heard otherwise of a term of 3 or more (财政不助, 青和县). Terms of 3
or more characters also accept the fuzzy pairs of pinyin keyboards and dialects (lin/ling, zhi/zi, an/ang).
Exact occurrences of terms are found first and never rewritten or partly overlapped (低保边远户 may still
become 低保边缘户, a longer term around the exact 低保 with more of its own characters, but 陵川现在 stays:
its only other character is heard otherwise).
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from pypinyin import Style, pinyin

from bot.nlu import lexicon

_CJK_TERM = re.compile(r"[\u4e00-\u9fff]{2,}")
_PAIR_CACHE_SIZE = 20000
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FUZZY_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))


@lru_cache(maxsize=8192)
def readings(ch: str) -> frozenset[str]:
    """Tone-less pinyin readings of one character (empty for anything that is not a Chinese character)."""
    if not ("\u4e00" <= ch <= "\u9fff"):
        return frozenset()
    return frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])


@lru_cache(maxsize=1024)
def _usual_reading(ch: str) -> str:
    """A character's usual reading (觉 is jue, though 睡觉 reads it jiao): what one typing it would have heard."""
    return pinyin(ch, style=Style.NORMAL)[0][0] if "\u4e00" <= ch <= "\u9fff" else ""


def _fuzzy(syllable: str) -> str:
    for hard, soft in _FUZZY_INITIALS:
        if syllable.startswith(hard):
            syllable = soft + syllable[len(hard) :]
            break
    for hard, soft in _FUZZY_FINALS:
        if syllable.endswith(hard):
            return syllable[: -len(hard)] + soft
    return syllable


@lru_cache(maxsize=8192)
def fuzzy_readings(ch: str) -> frozenset[str]:
    return frozenset(_fuzzy(r) for r in readings(ch))


@lru_cache(maxsize=8192)
def _content_term(term: str) -> bool:
    """A term of 3 or more characters, none a function word (财政补助, 青禾县, not 在哪交): a function word may
    stand in for one of its characters (财政不助, 青和县), as its one difference."""
    return len(term) >= 3 and not any(ch in lexicon.SOUND_STOP_CHARS for ch in term)


# A verb asked twice, yes or no (叫没叫, 教不教, 叫了没叫): the one form a resident doubles to ask whether it was done.
_DOUBLED = re.compile(r"([\u4e00-\u9fff])(了?[没不])\1")


def respell_doubled(text: str, verb: str = lexicon.PAY_VERB) -> str:
    """`text` with a doubled question on a sound-alike of `verb` spelt with it (叫没叫 -> 交没交): a doubled
    character that reads as the verb can only be the verb asked about, whatever single word it is elsewhere."""
    want = readings(verb)

    def fix(m: re.Match[str]) -> str:
        ch = m.group(1)
        return m.group(0) if ch == verb or _usual_reading(ch) not in want else f"{verb}{m.group(2)}{verb}"

    return _DOUBLED.sub(fix, text)


class SoundAlike:
    """Respelling of sound-alikes for one set of terms (compiled once)."""

    def __init__(self, terms: list[str], *, fuzzy: bool = False, keep: list[str] | tuple[str, ...] = (),
                 suffixes: tuple[str, ...] = (), inner: tuple[str, ...] = ()):
        """`keep`: words found exactly and left alone, but never respelt to (a region's short form, 陵川: so
        陵川现在 is 陵川 and 现在, not a misheard 陵川县). `suffixes`: the ends of place names (县, 镇) that,
        said exactly, are evidence enough for a name whose other characters are all heard otherwise (清河县: 青禾县).
        `inner`: terms that end longer ones (报销 in 零报销), respelt to but not kept from a longer term heard
        around them (灵报销 is 零报销)."""
        self._fuzzy = fuzzy  # the fuzzy pairs for two-character terms too (place names in a place's context)
        self._suffixes = suffixes
        self._terms = sorted({t for t in [*terms, *inner] if _CJK_TERM.fullmatch(t)}, key=lambda t: (-len(t), t))
        exact = sorted({t for t in [*terms, *keep] if _CJK_TERM.fullmatch(t) and t not in inner},
                       key=lambda t: (-len(t), t))
        self._exact = re.compile("|".join(map(re.escape, exact))) if exact else None
        # Fuzzy syllables of the first two characters -> terms, for a quick look-up at each position.
        self._by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
        for term in self._terms:
            for first in fuzzy_readings(term[0]):
                for second in fuzzy_readings(term[1]):
                    self._by_pair[first, second].append(term)
        self._pair_cache: dict[tuple[str, str], list[str]] = {}

    def _sounds_like(self, span: str, term: str) -> bool:
        read = fuzzy_readings if len(term) >= 3 or self._fuzzy else readings
        differ = stops = 0
        for got, want in zip(span, term, strict=True):
            if got == want:
                continue
            differ += 1
            stops += got in lexicon.SOUND_STOP_CHARS
            if (differ * 2 > len(term) and not self._named_by_suffix(span, term)) or not (read(got) & read(want)):
                return False
        return differ > 0 and (stops == 0 or (differ == 1 and _content_term(term)))

    def _named_by_suffix(self, span: str, term: str) -> bool:
        """Whether `span` ends with `term`'s place suffix, said exactly (the other characters are checked by sound)."""
        return len(term) >= 3 and term.endswith(self._suffixes) and span[-1] == term[-1]

    def respell(self, text: str) -> str:
        out: list[str] = []
        done = 0
        for start, end, term in self.heard(text):
            out += [text[done:start], term]
            done = end
        return "".join(out) + text[done:] if out else text

    def heard(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, term) of each span of `text` that sounds like a term, in order."""
        if self._exact is None or not text:
            return []
        cover: list[tuple[int, int] | None] = [None] * len(text)  # the exact term at each position
        for m in self._exact.finditer(text):
            cover[m.start() : m.end()] = [(m.start(), m.end())] * (m.end() - m.start())

        def clashes(start: int, end: int, term: str) -> bool:
            """Whether the span overlaps an exact term, unless strictly around it and with one of `term`'s own
            characters besides it (低保边远户 may become 低保边缘户, but 陵川现在 never 陵川县在: a span whose only
            difference is what lies beyond an exact term gives no evidence for the longer one)."""
            first, last = cover[start], cover[end - 1]
            if first == (start, end):
                return True
            if bool(first and first[0] < start) or bool(last and last[1] > end):
                return True
            return any(cover[k] for k in range(start, end)) and not any(
                cover[k] is None and text[k] == term[k - start] for k in range(start, end))

        spans: list[tuple[int, int, str]] = []
        i = 0
        while i < len(text):
            found = None
            inside = cover[i] is not None and cover[i][0] < i  # nothing starting here can cover that term
            for term in [] if inside else self._candidates(text, i):
                end = i + len(term)
                if end <= len(text) and not clashes(i, end, term) and self._sounds_like(text[i:end], term):
                    found = term
                    break
            if found is None:
                i += 1
            else:
                spans.append((i, i + len(found), found))
                i += len(found)
        return spans

    def _candidates(self, text: str, i: int) -> list[str]:
        """Terms whose first two characters may sound like text[i : i + 2], longest first."""
        if i + 1 >= len(text):
            return []
        first, second = text[i], text[i + 1]
        hit = self._pair_cache.get((first, second))
        if hit is not None:
            return hit
        stop = lexicon.SOUND_STOP_CHARS
        terms = {
            term
            for a in fuzzy_readings(first)
            for b in fuzzy_readings(second)
            for term in self._by_pair.get((a, b), ())
            if (first not in stop or term[0] == first or (_content_term(term) and term[1] == second))
            and (second not in stop or term[1] == second or (_content_term(term) and term[0] == first))
        }
        if len(self._pair_cache) >= _PAIR_CACHE_SIZE:
            self._pair_cache.clear()
        hit = self._pair_cache[first, second] = sorted(terms, key=lambda t: (-len(t), t))
        return hit
