"""The answer cache: rendered answers of the intents their router declares `cacheable=True`.

Such an answer depends only on the question, the speaker fields its route names (`reads`: the region, or
the region and township), the date, the default region and the policies (bot/handlers/router.py). The key is
exactly that: the normalised text of a question (its Query is a function of that text and the policies, when
no binding is in progress) or the Query of an event or of an offered follow-up (bot/handlers/offers.py) with
all its slots, today's date, the default region, and the values of
the fields its route reads (learnt with its first answer); the whole cache is dropped when the policies
change. A speaker with conversation state (a binding in progress) is answered afresh, and so is a text
carrying a long number (an ID or phone number perhaps, which is not kept in memory); a question waiting
for its county is no bar (the pipeline drops it first), nor is the conversation's context (bot/nlu/follow.py:
the pipeline keys a reading it changes under that reading). Bounded (`Settings.answer_cache` answers, least
recently used out; YIBAO_ANSWER_CACHE=0 switches it off); one per process.

Normalising a text (bot/nlu/normalize.py, about 20 µs for the benchmark's questions) costs far more than
looking its answer up, and residents ask the same few hundred questions: the normalised form of a text whose
answer may be kept is remembered (`_texts`, bounded like `_reads`), so a repeated question is one dict
lookup. Texts carrying a long number are never remembered.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bot.nlu import LONG_NUMBER, follow, normalize
from bot.nlu.query import Query
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Policy
from bot.types import Context, Speaker

Question = tuple[Any, ...]  # what was asked, on which day, with which default region


@dataclass(frozen=True)
class Kept:
    query: Query
    text: str
    remember: dict[str, Any] | None


class AnswerCache:
    def __init__(self) -> None:
        self._reads: dict[Question, tuple[str, ...]] = {}  # the fields a question's answer depends on
        self._texts: dict[str, str] = {}  # a question's text as asked -> normalised (no long numbers)
        self._kept: OrderedDict[tuple[Question, tuple[Any, ...]], Kept] = OrderedDict()
        self._registry: PolicyRegistry | None = None
        self._policies: list[Policy] = []
        self.hits = self.misses = self.bypassed = 0

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        self._reads.clear()
        self._texts.clear()
        self._kept.clear()
        self._registry, self._policies = None, []
        self.hits = self.misses = self.bypassed = 0

    def key(self, message: str | Query, ctx: Context) -> Question | None:
        """The question `message` (a text, or an event's Query) asks in `ctx`; None when its answer may not be
        kept (the cache is off, the speaker has conversation state beside the context, the text carries a
        long number)."""
        what: Any = None
        if ctx.settings.answer_cache <= 0 or ctx.speaker.state.keys() - {follow.KEY}:
            pass
        elif isinstance(message, Query):
            what = (message.intent, message.text, message.topic, message.region, message.township, message.year,
                    message.categories, message.tier, tuple(sorted(message.extras.items())))
        else:
            what = self._texts.get(message) or self._normal(message, ctx.settings.answer_cache)
        if what is None:
            self.bypassed += 1
            return None
        return what, ctx.today, ctx.settings.default_region

    def _normal(self, text: str, size: int) -> str | None:
        """The normalised text, remembered; None for a text carrying a long number (in either form)."""
        if LONG_NUMBER.search(text) or LONG_NUMBER.search(normal := normalize(text)):
            return None
        if len(self._texts) >= 4 * size:
            self._texts.clear()
        self._texts[text] = normal
        return normal

    def get(self, question: Question, ctx: Context) -> Kept | None:
        self._check(ctx.registry)
        reads = self._reads.get(question)
        kept = None if reads is None else self._kept.get((question, _values(ctx.speaker, reads)))
        if kept is None:
            self.misses += 1
        else:
            self.hits += 1
            self._kept.move_to_end((question, _values(ctx.speaker, reads)))  # type: ignore[arg-type]
        return kept

    def put(self, question: Question, reads: tuple[str, ...], ctx: Context, kept: Kept) -> None:
        self._check(ctx.registry)
        size = ctx.settings.answer_cache
        if len(self._reads) >= 4 * size:  # questions whose answers were all evicted
            self._reads = {q: self._reads[q] for q, _ in self._kept}
        self._reads[question] = reads
        self._kept[question, _values(ctx.speaker, reads)] = kept
        while len(self._kept) > size:
            self._kept.popitem(last=False)

    def _check(self, registry: PolicyRegistry) -> None:
        """Drop every answer when the policies changed (another registry, a policy reloaded)."""
        if registry is not self._registry or registry.policies != self._policies:
            self._reads.clear()
            self._kept.clear()
            self._registry, self._policies = registry, list(registry.policies)

    @property
    def hit_ratio(self) -> float:
        looked_up = self.hits + self.misses
        return self.hits / looked_up if looked_up else 0.0


def _values(speaker: Speaker, reads: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(speaker, name) for name in reads)


ANSWERS = AnswerCache()
