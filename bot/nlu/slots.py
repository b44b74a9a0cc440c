"""Slot extraction: region, township, year, categories and tier from normalised text.

A `SlotExtractor` is compiled once per registry (names, short forms, townships and category aliases all
come from the policy files) and then only runs precompiled patterns.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from bot.nlu import lexicon
from bot.nlu.lapse import STOPPED
from bot.nlu.sound import SoundAlike, respell_doubled
from bot.rules.loader import PolicyRegistry

# Full years 2015-2035 (2023, 2023年, 2023年度) and short ones (23年, 23年度); a year followed by a month
# is a date (2024年9月1日), not an insurance year, and 2000元 is money.
_YEAR_FULL = re.compile(r"(?<!\d)(20[1-3]\d)(?!\d)(?!\s*年\s*\d{1,2}\s*月)(?![-./]\d)(年度|年)?(?![元块])")
_YEAR_SHORT = re.compile(r"(?<![\d.])([1-3]\d)(年度|年)(?!\s*\d{1,2}\s*月)(?![了前多来以])")
_YEAR_MIN, _YEAR_MAX = 2015, 2035
# Years relative to the date a message is sent (calendar years, read as the insurance year of that number).
# A message that also says 今年 asks about this year: 去年在外地交的，今年交多少 names no year.
# 明年2月28号 / 明年二月 is a date, not the insurance year (as 2025年2月 is, above).
_MONTH_AFTER = r"(?!\s*(?:\d{1,2}|[一二三四五六七八九十]{1,2}|正|腊)\s*月)"
# 下一年度, 上年度 (the notices' words) say next and last year too; 下一年 alone is often not the year asked
# (没报过的，下一年有啥好处: the year a reward applies).
# ... but 下一年的医保 names the insurance's year.
_RELATIVE_YEAR = re.compile(
    rf"(?<!大)(?:前年|去年|明年|后年(?!头)|[下上]一?年度|下一?年(?=的?(?:医保|合疗|新农合|农合|居民医保|城乡医保|保险)))"
    rf"{_MONTH_AFTER}"
)
# A relative year in a clause of the story (去年从外地回来了，现在…交多少): a clause that neither asks nor names
# paying or the insurance, and is not the last, tells when something happened, not the year asked about.
_CLAUSE = re.compile(r"[,.;!?。，；！？、 ]+")
_STORY_ONLY = re.compile(r"吗|呢|么|嘛|咋|怎|啥|什么|多少|几|哪|[?？]|[交缴]|医保|合疗|农合|参保|保险|费|钱|档")
_RELATIVE_OFFSET = {"前年": -2, "去年": -1, "明年": 1, "后年": 2}
_THIS_YEAR = re.compile(r"今年|本年")
# A year named as the one to pay (想交2027年的, 要缴26年度的): the year asked, whatever years a story names.
_TO_PAY = re.compile(r"(?:[交缴买续]|参保|参加)(?:上)?(?:的是)?$")
# A tier told as paid before (去年交的一档, 一直都交一档的, 以前买的是低档): a story beside the tier asked.
_TOLD_PAID = (r"(?:去年|前年|以前|原来|之前|一直|往年|每年|上一?年|历年|过去|从前)(?:都|也|一直)*"
              r"(?:是|[交缴买选](?:的|了|过)?(?:是)?)")
# "去年没交": the year a lapse happened, not the insurance year asked about (the waiting period reads it).
_LAPSED_IN = re.compile(rf"(?:就|也|都)?{STOPPED}")

# Words right after a place that make it where the resident is: 乐至这边, 周集这里.
_HERE = re.compile(r"(?:县|镇)?(?:这边|这里|这儿|这块|这头)")
# The ends of a county's or town's name: said exactly, they make a name heard otherwise a place (清河县 for 青禾县).
_PLACE_SUFFIXES = ("县", "镇")
# Suffixes a resident may drop from a township or village name: 礼义镇 -> 礼义, 宝城街道办事处 -> 宝城街道.
_TOWNSHIP_SUFFIXES = ("街道办事处", "街道办", "街道", "镇", "乡", "村")
# Context that makes a bare short form (礼义, 班台) a place: 是礼义的, 在班台, 礼义人, 礼义那边.
_SHORT_BEFORE = ("是", "在", "住", "到", "回")
_SHORT_AFTER = ("的", "人", "那", "这")
# Where a bare two-character place name is said: 是林川的, 在林川, 住林川那边, opening the message (林川的…), and
# before a group's name (林川低保户, 在罗删五保户: see `SlotExtractor.respell`).
_PLACE_SAID = re.compile(r"(^|[是在住到回去从])([\u4e00-\u9fff]{2})(?=[的人那这县镇乡]|$)")
# ... and opening a message or a clause, whatever follows (林川今年交多少, 你好,罗删医保啥时候截止, 俺们林川): where a
# resident names the place a question is about. A sound-alike holding a function word (周几) is never a place.
_PLACE_OPENS = re.compile(r"(?:^|(?<=[,.;!?们]))([\u4e00-\u9fff]{2})")
# What follows a verb, not a place: a sound-alike said before it is an ordinary word (太阳落山了, 落山以后,
# 到落山的时候: the sun setting, not 罗山).
_AS_EVENT = re.compile(r"了|着|起来|下去|以后|之后|的时候")
_SUFFIX_AFTER = re.compile(r"[县镇市区]")
_PLACE_BEFORE = re.compile(r"(?:(?<![\s\S])|(?<=[是在住到回去从]))(?=([\u4e00-\u9fff]{2}))")
# Provinces and cities said before a county (我老家河南省信阳市光山县的): places too, for `SlotExtractor.rest`.
_ABOVE_COUNTY = re.compile(r"(?:(?![家是在住的我俺咱])[\u4e00-\u9fff]){2,3}?[省市](?=[\u4e00-\u9fff])")
# A county name: 2-3 characters none of which is a function word, then 县 (not 县城/县里/县医院).
_COUNTY_CANDIDATE = re.compile(
    r"(?:^|(?<=[是在到去住从回的省市,.!?。、 俺我咱家]))"
    r"((?:(?![在是的了我你他她们个这那哪和跟与到去从回住说要还就也都俺咱])[\u4e00-\u9fff]){2,3}?县)"
    r"(?![城里医委政])"
)


@dataclass(frozen=True)
class Slots:
    region: str | None = None
    township: str | None = None
    year: int | None = None
    categories: tuple[str, ...] = ()
    tier: str | None = None
    unknown_region: str | None = None  # a county named that has no policy (霍邱县 on its own)
    regions: tuple[str, ...] = ()  # every region named, in order of appearance
    extras: dict[str, str] = field(default_factory=dict)
    # The group is the 优抚 one because a veteran is named (我是退伍的老兵): kept for a fee question only (see
    # lexicon.VETERAN).
    veteran: bool = False
    # The text without the places it names (陵川县有啥新政策没 -> 有啥新政策没): what the message says beside
    # where, which tells a message that is only a place (我是陵川县的) from a question naming one.
    rest: str = ""
    # The groups' names as said (带病回乡退伍军人, 伤残民工): their words name the group, and are no evidence of
    # anything else asked (回乡 in 带病回乡退伍军人 is not the migrants' return: bot.nlu.intents).
    mentions: tuple[str, ...] = ()

    @property
    def place_named(self) -> bool:
        return bool(self.region or self.township or self.unknown_region)


def _alternation(terms: list[str]) -> re.Pattern[str] | None:
    """One regex matching any of `terms`, longest first so 农村低保 wins over 低保 at the same place."""
    unique = sorted(set(terms), key=lambda t: (-len(t), t))
    return re.compile("|".join(map(re.escape, unique))) if unique else None


def _split_by_de(terms: list[str]) -> re.Pattern[str] | None:
    """Like `_alternation`, with a 的 allowed between the characters of a term of 4 or more (a group's name
    said as a phrase: 退捕上岸的渔民, 计划生育的特扶家庭)."""
    unique = sorted(set(terms), key=lambda t: (-len(t), t))
    if not unique:
        return None
    return re.compile("|".join("的?".join(map(re.escape, t)) if len(t) >= 4 else re.escape(t) for t in unique))


def _short_forms(name: str) -> tuple[list[str], list[str]]:
    """(forms always safe to match, bare forms that need context) for a township or village name."""
    safe = [name]
    bare: list[str] = []
    for suffix in _TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            stem = name[: -len(suffix)]
            if suffix.startswith("街道"):
                safe += [stem + "街道", stem + "街道办", stem + "办事处"]
            bare.append(stem)
            break
    return safe, bare


class SlotExtractor:
    """Slot patterns compiled for one registry."""

    def __init__(self, registry: PolicyRegistry):
        self.readings: dict[tuple[Any, ...], Any] = {}  # understood texts (bot.nlu.understand), dropped with it
        self._region_of: dict[str, str] = {}
        self._county_of_town: dict[str, str] = {}  # 霍邱县/霍邱 -> 霍邱县
        self._towns_of_county: dict[str, set[str]] = {}
        self._ignore_counties: set[str] = set()
        for policy in registry.policies:
            region = policy.region
            for term in [region.name, *region.short]:
                self._region_of.setdefault(term, region.name)
            self._ignore_counties.add(region.name)
            if region.county:
                county = region.county
                self._towns_of_county.setdefault(county, set()).add(region.name)
                self._county_of_town[county] = county
                if county.endswith("县") and len(county) >= 3:
                    self._county_of_town[county[:-1]] = county
        self._region_re = _alternation(list(self._region_of))
        self._county_re = _alternation(list(self._county_of_town))

        # Townships: full names (and 宝城街道) anywhere; bare stems (礼义) only in context.
        self._township_regions: dict[str, list[str]] = {}
        self._township_of: dict[str, str] = {}
        bare_of: dict[str, str] = {}
        for region_name in registry.regions():
            for name in registry.townships(region_name):
                regions = self._township_regions.setdefault(name, [])
                if region_name not in regions:
                    regions.append(region_name)
                safe, bare = _short_forms(name)
                for form in safe:
                    self._township_of.setdefault(form, name)
                for form in bare:
                    if form not in self._region_of:
                        bare_of.setdefault(form, name)
        self._township_re = _alternation(list(self._township_of))
        self._bare_of = {k: v for k, v in bare_of.items() if k not in self._township_of}
        self._bare_re = _alternation(list(self._bare_of))

        # Categories: the registry's aliases first; colloquial patterns add what the files do not say.
        aliases = registry.category_aliases()
        self._alias_key = aliases
        # ... also with a 的 between their words (退捕上岸的渔民 for 退捕上岸渔民): looked up without the 的s.
        self._alias_key_plain = {alias.replace("的", ""): key for alias, key in aliases.items()}
        self._alias_re = _split_by_de(list(aliases))
        self._pattern_res = [
            (key, re.compile("|".join(f"(?:{p})" for p in patterns)))
            for key, patterns in lexicon.CATEGORY_PATTERNS.items()
        ]

        # Tiers: names, and "540那档" from the registry's named tiers (not the single "standard" one).
        tier_patterns: dict[str, list[str]] = {k: list(v) for k, v in lexicon.TIER_PATTERNS.items()}
        for policy in registry.policies:
            for tier in policy.contribution.tiers:
                if tier.key != "standard":
                    tier_patterns.setdefault(tier.key, []).append(
                        rf"(?<!\d){tier.amount}(?:元|块)?(?:钱)?(?:的)?(?:那|这)?(?:个|一)?档"
                    )
        # ... and the tiers' names and aliases (一档, 中档, 第三档), never inside 哪一档.
        for alias, key in registry.tier_aliases().items():
            tier_patterns.setdefault(key, []).append(rf"(?<!哪){re.escape(alias)}")
        self._tier_res = [(key, re.compile("|".join(pats))) for key, pats in tier_patterns.items()]
        self._told_tier = re.compile(
            rf"{_TOLD_PAID}(?:{'|'.join(p for pats in tier_patterns.values() for p in pats)})(?:的)?"
        )

        # Sound-alikes of the names above (bare two-character region forms excepted: 周几 is not 周集).
        sound_terms = [*aliases, *registry.tier_aliases(), *lexicon.SOUND_TERMS, *self._township_of]
        # A region's full name written with other characters (清河县, 青河县 for 青禾县) is another place, never respelt
        # as ours (one county's figures must not answer another's resident): it is heard, and asked about
        # (`heard_region`).
        full_names = [term for term in self._region_of if len(term) >= 3]
        self._sounds = SoundAlike(sound_terms, keep=[term for term in self._region_of if len(term) == 2],
                                  inner=lexicon.SOUND_TERMS_INNER)
        self._full_sounds = SoundAlike(full_names, suffixes=_PLACE_SUFFIXES)
        # ... and the two-character short forms (林川 for 陵川) only where a place is said (我是林川的, 在林川).
        self._place_sounds = SoundAlike([term for term in self._region_of if len(term) == 2], fuzzy=True)

    def respell(self, text: str) -> str:
        """`text` with sound-alikes of the domain's terms and the policies' names spelt as those (底保 -> 低保)."""
        text = self._sounds.respell(respell_doubled(text))
        text = _PLACE_SAID.sub(lambda m: m.group(1) + self._place_heard(m.group(2), text, m.end()), text)
        text = _PLACE_OPENS.sub(lambda m: self._place_heard(m.group(1), text, m.end()), text)
        for m in _PLACE_BEFORE.finditer(text):
            start = m.start()
            if self._group_at(text, start + 2) and (said := self._place_sounds.respell(m.group(1))) != m.group(1):
                return text[:start] + said + text[start + 2 :]  # one place opens a message's group
        return text

    def _place_heard(self, said: str, text: str, end: int) -> str:
        """A bare two-character place name heard in `said` (林川 for 陵川), unless a verb's ending follows (落山了) or
        a place's suffix does (清河县 is another county than 青禾县: `heard_region`)."""
        if _AS_EVENT.match(text, end) or _SUFFIX_AFTER.match(text, end):
            return said
        return self._place_sounds.respell(said)

    def heard_region(self, text: str) -> tuple[str, str] | None:
        """(the place as written, our region it sounds like) for a full place name written with other characters
        than ours (清河县: 青禾县), when the text names none of ours."""
        for start, end, term in self._full_sounds.heard(text):
            return text[start:end], self._region_of[term]
        return None

    def _group_at(self, text: str, position: int) -> bool:
        """Whether a group's name (an alias or a colloquial pattern) starts at `position`."""
        if self._alias_re is not None and self._alias_re.match(text, position):
            return True
        return any(pattern.match(text, position) for _, pattern in self._pattern_res)

    # -- the pieces -----------------------------------------------------------------------------------

    def regions_in(self, text: str) -> list[tuple[int, str]]:
        if self._region_re is None:
            return []
        return [(m.start(), self._region_of[m.group(0)]) for m in self._region_re.finditer(text)]

    def _region_end(self, text: str, start: int) -> int:
        m = self._region_re.match(text, start) if self._region_re is not None else None
        return m.end() if m else start

    def townships_in(self, text: str, named_regions: set[str]) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        if self._township_re is not None:
            found += [(m.start(), self._township_of[m.group(0)]) for m in self._township_re.finditer(text)]
        if self._bare_re is not None:
            for m in self._bare_re.finditer(text):
                name = self._bare_of[m.group(0)]
                before = text[m.start() - 1 : m.start()]
                after = text[m.end() : m.end() + 1]
                in_named_region = any(r in named_regions for r in self._township_regions[name])
                if in_named_region or before in _SHORT_BEFORE or after in _SHORT_AFTER:
                    found.append((m.start(), name))
        return sorted(found)

    def unknown_county(self, text: str) -> str | None:
        """A county named in the text that no policy governs (霍邱县 on its own, 固始县)."""
        if self._county_re is not None:
            for m in self._county_re.finditer(text):
                county = self._county_of_town[m.group(0)]
                towns = self._towns_of_county.get(county, set())
                if not any(t in text for t in towns):
                    return county
        for m in _COUNTY_CANDIDATE.finditer(text):
            name = m.group(1)
            if name in self._ignore_counties or name.startswith(lexicon.NOT_A_COUNTY_PREFIX):
                continue
            if name in self._county_of_town.values():
                continue
            return name
        return None

    def without_places(self, text: str) -> str:
        """`text` without the region, township, village, county, city and province names in it."""
        for pattern in (self._region_re, self._township_re, self._bare_re, self._county_re):
            if pattern is not None:
                text = pattern.sub("", text)
        text = _COUNTY_CANDIDATE.sub("", text)
        return _ABOVE_COUNTY.sub("", text)

    def categories_in(self, text: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(key for key, _ in self._mentions(text)))

    def _mentions(self, text: str) -> list[tuple[str, str]]:
        """(key, the words said) of each group named and not denied, in order."""
        spans: list[tuple[int, int, int, str]] = []  # (start, -length, source rank, key)
        if self._alias_re is not None:
            for m in self._alias_re.finditer(text):
                said = m.group(0)
                key = self._alias_key.get(said) or self._alias_key_plain[said.replace("的", "")]
                spans.append((m.start(), -len(said), 0, key))
        for key, pattern in self._pattern_res:
            for m in pattern.finditer(text):
                spans.append((m.start(), -len(m.group(0)), 1, key))
        spans.sort()
        found: list[tuple[str, str]] = []
        covered_to = -1
        for start, neg_len, _rank, key in spans:
            if start < covered_to:
                continue
            covered_to = start - neg_len
            if not _negated(text, start):
                found.append((key, text[start:covered_to]))
        return found

    @staticmethod
    def veteran_in(text: str) -> bool:
        """Whether a veteran is named, and not denied (不是退伍的)."""
        return any(not _negated(text, m.start()) for m in _VETERAN.finditer(text))

    def tier_in(self, text: str) -> str | None:
        named = {key for key, pattern in self._tier_res if pattern.search(text)}
        # "高档和低档有什么区别" names both: no single tier is meant.
        return named.pop() if len(named) == 1 else None

    @staticmethod
    def relative_year_in(text: str, today: dt.date) -> int | None:
        """去年/前年/明年/后年 against `today`, unless the message also says 今年."""
        if _THIS_YEAR.search(text):
            return None
        for m in _RELATIVE_YEAR.finditer(text):
            if not _LAPSED_IN.match(text, m.end()) and not _in_story(text, m.start()):
                return today.year + _RELATIVE_OFFSET.get(m.group(0), 1 if m.group(0)[0] == "下" else -1)
        return None

    @staticmethod
    def year_in(text: str) -> int | None:
        candidates: list[tuple[bool, bool, int, int]] = []  # (not to pay, not 年度, position, year)
        for m in _YEAR_FULL.finditer(text):
            to_pay = _TO_PAY.search(text, 0, m.start()) is not None
            candidates.append((not to_pay, m.group(2) != "年度", m.start(), int(m.group(1))))
        for m in _YEAR_SHORT.finditer(text):
            year = 2000 + int(m.group(1))
            if _YEAR_MIN <= year <= _YEAR_MAX:
                to_pay = _TO_PAY.search(text, 0, m.start()) is not None
                candidates.append((not to_pay, m.group(2) != "年度", m.start(), year))
        return min(candidates)[3] if candidates else None

    # -- all together ---------------------------------------------------------------------------------

    def extract(self, text: str, today: dt.date | None = None) -> Slots:
        """The slots named in `text`; with `today`, relative years (去年) are read too (a written year wins)."""
        named = self.regions_in(text)
        # Two places, one said as where the resident is (从罗山嫁过来的…周集这边多少钱): the question is about that one.
        here = [(i, r) for i, r in named if _HERE.match(text, self._region_end(text, i))]
        if here and len({r for _, r in named}) > 1:
            named = here[-1:]
        regions = tuple(dict.fromkeys(r for _, r in named))
        townships = self.townships_in(text, set(regions))
        region = regions[0] if regions else None
        township = None
        for _, name in townships:
            owners = self._township_regions[name]
            if region is None:
                township = name
                if len(owners) == 1:
                    region = owners[0]
                break
            if region in owners:
                township = name
                break
        # A tier told as paid before, beside another named (我去年交的一档，能选三档不): the other is asked, and
        # the story's years are not the year asked.
        tier = self.tier_in(text)
        asked = text
        if tier is None and (told := self._told_tier.sub("", text)) != text and (tier := self.tier_in(told)):
            asked = told
        extras: dict[str, str] = {}
        unknown = None
        if region is None:
            heard = self.heard_region(text)
            unknown = heard[0] if heard else self.unknown_county(text)
            if unknown:
                extras["unknown_region"] = unknown
            if heard:
                extras["heard_as"] = heard[1]
        if len(regions) > 1:
            extras["regions"] = ",".join(regions)
        mentions = self._mentions(text)
        categories = tuple(dict.fromkeys(key for key, _ in mentions))
        veteran = not categories and self.veteran_in(text)
        return Slots(
            region=region,
            township=township,
            year=self.year_in(asked) or (self.relative_year_in(asked, today) if today else None),
            categories=(lexicon.VETERAN_GROUP,) if veteran else categories,
            veteran=veteran,
            tier=tier,
            unknown_region=unknown,
            regions=regions,
            extras=extras,
            rest=self.without_places(text) if region or township or unknown else text,
            mentions=tuple(dict.fromkeys(said for _, said in mentions)),
        )


_VETERAN = re.compile(lexicon.VETERAN)


def _in_story(text: str, position: int) -> bool:
    """Whether `position` lies in a clause of the story (see _STORY_ONLY), not the last one."""
    start = 0
    for m in _CLAUSE.finditer(text):
        if m.start() >= position:
            return m.end() < len(text) and not _STORY_ONLY.search(text[start : m.start()])
        start = m.end()
    return False


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start]
    if before.endswith("是不是"):  # 我是不是低保户: a question, not a denial
        return False
    return before.endswith(lexicon.CATEGORY_NEGATIONS)
