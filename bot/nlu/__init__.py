"""Understanding: Chinese text (+ the follower's conversation state) -> `Query`.

    understand(text, registry, state=speaker.state, today=ctx.today)

Text is normalised (bot.nlu.normalize), sound-alikes of the domain's terms are respelt (bot.nlu.sound), slots
are read with patterns compiled once per registry (bot.nlu.slots), and the intent is the highest-priority
matching rule (bot.nlu.intents). While a follower is binding (state has "binding"), a message carrying a
name and/or an ID number is BIND with extras {"name", "id_number"}, and 取消 cancels (extras {"cancel": "1"}).
While an official's QR scan awaits their name (state has "official"), any text is OFFICIAL_NAME (extras {"name"}).
`Query.text` never carries a full ID number: it is masked to its first and last four characters.

A message asking several things (高档多少钱，能用微信交不) reads as its first question with the others in
`Query.also` (bot.nlu.questions); a figure or date the resident checks (是不是交三百) is in `Query.checked` /
`Query.checked_date` (bot.nlu.check). What a conversation carries from one message to the next is
bot.nlu.follow's, applied by the pipeline.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from dataclasses import replace
from typing import Any

from bot.nlu import binding, check, questions
from bot.nlu.intents import ANSWERED_ABOUT, ANSWERED_WITH, CLAUSE, RuleMatch, classify
from bot.nlu.normalize import normalize, warm_up
from bot.nlu.query import Intent, Query
from bot.nlu.slots import SlotExtractor, Slots
from bot.rules.loader import PolicyRegistry

__all__ = ["LONG_NUMBER", "Intent", "Query", "binding_in_progress", "extractor_for", "normalize", "understand"]

_MAX_CACHED = 8
# id(registry) -> (weak reference, fingerprint of its policies, compiled extractor). PolicyRegistry is an
# unhashable dataclass, so the cache is keyed on identity and checked against a weak reference.
_extractors: dict[int, tuple[weakref.ref[PolicyRegistry], tuple[int, ...], SlotExtractor]] = {}


def extractor_for(registry: PolicyRegistry) -> SlotExtractor:
    """The slot patterns compiled for `registry` (compiled on first use, again if its policies change)."""
    fingerprint = tuple(id(p) for p in registry.policies)
    hit = _extractors.get(id(registry))
    if hit is not None and hit[0]() is registry and hit[1] == fingerprint:
        return hit[2]
    extractor = SlotExtractor(registry)
    warm_up()
    if len(_extractors) >= _MAX_CACHED:
        _extractors.pop(next(iter(_extractors)))
    _extractors[id(registry)] = (weakref.ref(registry), fingerprint, extractor)
    return extractor


# The questions whose figure a resident may check (是不是交三百).
_CHECKED = frozenset({Intent.FEE, Intent.FISCAL_SUBSIDY, Intent.DEADLINE})


def _query(intent: Intent, text: str, slots: Slots, *, topic: str | None = None, **extras: str) -> Query:
    if slots.veteran and intent is not Intent.FEE:
        slots = replace(slots, categories=())  # a veteran asking the period names no group (lexicon.VETERAN)
    return Query(
        intent=intent,
        text=binding.mask_ids(text),
        region=slots.region,
        township=slots.township,
        year=slots.year,
        categories=slots.categories,
        tier=slots.tier,
        topic=topic,
        extras={**slots.extras, **extras},
        checked=check.amounts(text) if intent in _CHECKED else (),
        checked_date=check.date(text) if intent in _CHECKED else None,
    )


_MOST_CLAUSES = 24


# A clause asking what to do if the question before it is answered no (要是不能的话二档多少钱): a fallback.
_IF_NOT = re.compile(r"^(?:那)?(?:要是|如果|假如|万一)?(?:不(?:能|行|可以|让)|不能选|选不了)(?:的话)?")


def _asked_tier(norm: str, slots: Slots, extractor: SlotExtractor) -> Slots:
    """A story naming two tiers (交的是低档，今年想换成高档…高档一年多少钱): the tier of the clause that asks,
    not that of a fallback asked in case it is not (能直接选三档吗，不行的话二档多少)."""
    asked = {tier for clause in CLAUSE.split(norm)
             if questions.asks(clause) and not _IF_NOT.match(clause) and (tier := extractor.tier_in(clause))}
    return replace(slots, tier=asked.pop()) if len(asked) == 1 else slots


def _questions(text: str, slots: Slots, extractor: SlotExtractor, today: dt.date | None) -> list[questions.Asked]:
    """The distinct questions of a message asking several (see bot.nlu.questions); fewer than two otherwise."""
    pieces = questions.from_the_ask(questions.clauses(text))
    if len(pieces) < 2:
        return []
    if len(pieces) > _MOST_CLAUSES:  # a story of many clauses: its questions open or close it
        pieces = pieces[: _MOST_CLAUSES // 3] + pieces[-(_MOST_CLAUSES - _MOST_CLAUSES // 3) :]
    asked: list[questions.Asked] = []
    told: list[str] = []  # the clauses told since the last question (停了两年没交): what a bare question is about
    for piece in pieces:
        norm = normalize(piece)
        if not norm:
            continue
        if not questions.asks(norm):
            told.append(norm)
            continue
        norm = extractor.respell(norm)
        own = extractor.extract(norm, today)
        # a group named in another clause is whom the clause asks about (我是低保，…政府补多少: the group's
        # subsidy, a fee question)
        group = replace(own, categories=own.categories or slots.categories)
        found = questions.question_in(norm, group, after_question=bool(asked))
        if found is None and told:
            # a question that reads as nothing alone, asked about what the clause just before it told (停了两年没交，
            # 现在补上得等几个月: the wait for that lapse); not a reading the told clause gives by itself (以前都是村里
            # 给交的: a story's detail)
            before = extractor.respell(told[-1])
            story = f"{before},{norm}"
            found = questions.question_in(story, group, after_question=bool(asked))
            if found is not None and (alone := classify(before, group)) is not None \
                    and alone.rule.intent is found.rule.intent:
                found = None
            norm = story if found is not None else norm
        told = []
        if found is not None and found.rule.context and any(q.found.rule.intent is found.rule.intent for q in asked):
            # the mention said again after its own question (转回罗山怎么办手续，转回来交多少): it points back, and what
            # the clause asks beside it is the further question
            found = questions.question_in(norm, group, after_question=True, without_mentions=True) or found
        if found is not None:
            asked.append(questions.Asked(norm, found, questions.shared(own, slots)))
    return questions.distinct(asked)


def _covered(found: RuleMatch, norm: str, slots: Slots, asked: list[questions.Asked]) -> list[questions.Asked]:
    """The questions of a message whose reading is a mention that holds (a newborn, a move) only told, each one
    the mention's own answer covers read as the mention (娃九月份生的，现在办还来得及吗: the newborn answer)."""
    if any(q.found.rule.intent is found.rule.intent for q in asked):
        return asked  # the mention asked in a clause of its own (新生儿怎么办医保，什么时候开始享受): both stand
    covers = found.rule.covers | ANSWERED_WITH.get(found.rule.intent, frozenset())
    about, covers_about = ANSWERED_ABOUT.get(found.rule.intent, (None, frozenset()))
    held = questions.Asked(norm, found, slots)
    return questions.distinct([
        held if q.found.rule.intent in covers
        or (about is not None and q.found.rule.intent in covers_about and about.search(q.text)) else q
        for q in asked
    ])


def _several(norm: str, slots: Slots, asked: list[questions.Asked]) -> Query:
    """The first question with the message's slots, the others in `also` with their clause's (and the
    message's where the clause names none)."""
    first, *rest = asked
    also = tuple(_query(q.found.rule.intent, q.text, q.slots, topic=q.found.rule.topic) for q in rest)
    main = _query(first.found.rule.intent, norm, slots, topic=first.found.rule.topic)
    return replace(main, also=also)


def binding_in_progress(state: dict[str, Any] | None) -> bool:
    """All `understand` reads of the conversation state: whether a binding is in progress."""
    return state is not None and "binding" in state


def official_name_awaited(state: dict[str, Any] | None) -> bool:
    """Whether an official scanned their QR code and is asked for their name (bot/handlers/outreach.py)."""
    return state is not None and "official" in state


# Readings of question texts, kept per compiled registry (`SlotExtractor.readings`): residents ask the same
# few hundred questions all season, and the pipeline may read a message twice (a follow-up's context is
# applied before the answer cache is asked). A text carrying a long number (an ID or phone number) is never
# kept in memory, nor a message read while a binding or an official's name is awaited.
MAX_READINGS = 4096
LONG_NUMBER = re.compile(r"[0-9０-９](?:[ \-]?[0-9０-９]){6}")


def understand(
    text: str, registry: PolicyRegistry, *, state: dict[str, Any] | None = None, today: dt.date | None = None
) -> Query:
    """What the resident asks, with the slots named in the message. The query depends on the text, the
    registry, `binding_in_progress(state)`, `official_name_awaited(state)` and, when given, `today`
    (relative years: 去年 on a day of 2024 is 2023), nothing else, so a question's reading is kept (above)."""
    extractor = extractor_for(registry)
    if binding_in_progress(state) or official_name_awaited(state) or LONG_NUMBER.search(text or ""):
        return _read(text, extractor, state, today)
    key = (text, today)
    query = extractor.readings.get(key)
    if query is None:
        query = _read(text, extractor, state, today)
        if len(extractor.readings) >= MAX_READINGS:
            extractor.readings.clear()
        extractor.readings[key] = query
    return query


def _read(text: str, extractor: SlotExtractor, state: dict[str, Any] | None, today: dt.date | None) -> Query:
    binding_now = binding_in_progress(state)
    norm = normalize(text or "")
    if official_name_awaited(state):
        return _query(Intent.OFFICIAL_NAME, norm, Slots(), name=(text or "").strip())
    if not binding_now:  # a name being bound is never respelt
        norm = extractor.respell(norm)
    slots = extractor.extract(norm, today) if norm else Slots()

    if binding_now:
        if binding.is_cancel(norm):
            return _query(Intent.BIND, norm, Slots(), cancel="1")
        details = binding.binding_details(norm)
        if details:
            return _query(Intent.BIND, norm, slots, **details)

    # The rules read the message with the spaces that cut it into clauses (俺在外地打工 今年交多少钱): a clause
    # that only tells a situation yields to the one that asks.
    told = norm
    found = classify(norm, slots) if norm else None
    if found is not None and (found.rule.context or found.rule.question) and not binding_now \
            and (spaced := normalize(text, clauses=True)) != norm:
        told = extractor.respell(spaced)
        found = classify(told, slots)
    if found is not None and slots.tier is None:
        slots = _asked_tier(told, slots, extractor)
    if not binding_now and (found is None or found.rule.intent not in (Intent.BIND, Intent.UNBIND)):
        asked = _questions(text or "", slots, extractor, today)
        if found is not None and found.rule.context and asked:
            asked = _covered(found, norm, slots, asked)
        if len(asked) >= 2:
            return _several(norm, slots, asked)
    if found is None:
        if binding_now and (name := binding.bare_name_in(norm)):
            return _query(Intent.BIND, norm, slots, name=name)
        return _query(Intent.FALLBACK, norm, slots)
    if found.rule.intent is Intent.BIND:
        return _query(Intent.BIND, norm, slots, **binding.binding_details(norm))
    return _query(found.rule.intent, norm, slots, topic=found.rule.topic)
