"""Understanding: Chinese text (+ the follower's conversation state) -> `Query`.

    understand(text, registry, state=speaker.state, today=ctx.today)

Text is normalised (bot.nlu.normalize), sound-alikes of the domain's terms are respelt (bot.nlu.sound), slots
are read with patterns compiled once per registry (bot.nlu.slots), and the intent is the highest-priority
matching rule (bot.nlu.intents). While a follower is binding (state has "binding"), a message carrying a
name and/or an ID number is BIND with extras {"name", "id_number"}, and 取消 cancels (extras {"cancel": "1"}).
While an official's QR scan awaits their name (state has "official"), any text is OFFICIAL_NAME (extras {"name"}).
`Query.text` never carries a full ID number: it is masked to its first and last four characters.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

from bot.nlu import binding
from bot.nlu.intents import classify
from bot.nlu.normalize import normalize, warm_up
from bot.nlu.query import Intent, Query
from bot.nlu.slots import SlotExtractor, Slots
from bot.rules.loader import PolicyRegistry

__all__ = ["Intent", "Query", "binding_in_progress", "extractor_for", "normalize", "understand"]

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


def _query(intent: Intent, text: str, slots: Slots, *, topic: str | None = None, **extras: str) -> Query:
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
    )


def binding_in_progress(state: dict[str, Any] | None) -> bool:
    """All `understand` reads of the conversation state: whether a binding is in progress."""
    return state is not None and "binding" in state


def official_name_awaited(state: dict[str, Any] | None) -> bool:
    """Whether an official scanned their QR code and is asked for their name (bot/handlers/outreach.py)."""
    return state is not None and "official" in state


def understand(
    text: str, registry: PolicyRegistry, *, state: dict[str, Any] | None = None, today: dt.date | None = None
) -> Query:
    """What the resident asks, with the slots named in the message. The query depends on the normalised
    text, the registry, `binding_in_progress(state)`, `official_name_awaited(state)` and, when given, `today`
    (relative years: 去年 on a day of 2024 is 2023), nothing else."""
    binding_now = binding_in_progress(state)
    extractor = extractor_for(registry)
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

    found = classify(norm, slots) if norm else None
    if found is None:
        if binding_now and (name := binding.bare_name_in(norm)):
            return _query(Intent.BIND, norm, slots, name=name)
        return _query(Intent.FALLBACK, norm, slots)
    if found.rule.intent is Intent.BIND:
        return _query(Intent.BIND, norm, slots, **binding.binding_details(norm))
    return _query(found.rule.intent, norm, slots, topic=found.rule.topic)
