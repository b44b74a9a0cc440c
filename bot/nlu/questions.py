"""Several questions in one message: "高档多少钱，能用微信交不" asks the fee and the channels.

A message is cut into clauses at punctuation and spaces (voice input and elderly typists use spaces as
commas) and after a closing question particle (…交吗还能…). A clause is a question when it asks (a question
word or particle) and its reading is a question the bot answers; a clause that only names context (我是陵川的,
我家是低保户, 在外面打工) or points back at another (到时候呢, 具体咋弄) is not one. Each question clause is read
with the slots of the whole message where it names none: a county or group named in one clause applies to
the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.nlu.intents import ASK_MARKER, PLACE_BACK, REFERS_BACK, RULES, RuleMatch, classify
from bot.nlu.intents import asks as asks
from bot.nlu.normalize import normalize
from bot.nlu.query import Intent
from bot.nlu.slots import Slots

# Clause boundaries in the raw text (normalising drops spaces), and after 吗/嘛 followed by more words.
_BOUNDARY = re.compile(
    r"(?:[\s,;:!?。，；：！？、~～…]|(?<!\d)\.|\.(?!\d))+|(?<=[吗嘛])(?=[^\s,.;:!?。，；：！？、~～…吗嘛啊呀])"
)  # a full stop between digits (12.31, 1.5) cuts nothing
# Readings that are not a question of their own in a message with others.
_NOT_QUESTIONS = frozenset({Intent.GREETING, Intent.HELP, Intent.SET_REGION, Intent.FALLBACK, Intent.BIND,
                            Intent.UNBIND})
_GROUP_ONLY = "fee_category_or_tier_only"  # 我是低保户: names the group, asks nothing
_PLAIN = tuple(r for r in RULES if not r.context)


@dataclass(frozen=True)
class Asked:
    """One question clause: its normalised text, its reading and its slots (the message's where it names none)."""

    text: str
    found: RuleMatch
    slots: Slots


def clauses(text: str) -> list[str]:
    """The raw message cut into clauses (not yet normalised)."""
    return [c for c in _BOUNDARY.split(text) if c.strip()]


def spaced(text: str) -> bool:
    """Whether spaces cut the raw `text` into clauses its normal form (which drops spaces between Chinese
    characters) runs together: then its reading is not a function of the normal form alone."""
    if not any(ch.isspace() for ch in text.strip()):
        return False
    return len(clauses(text)) != len(clauses(normalize(text)))


def from_the_ask(pieces: list[str]) -> list[str]:
    """The clauses from the one announcing the question (我就想知道…, 想问一下…) on: the story before it asks
    nothing (现在又要几百 is told, not asked)."""
    start = next((i for i, piece in enumerate(pieces) if ASK_MARKER.search(piece)), 0)
    return pieces[start:]


def shared(own: Slots, message: Slots) -> Slots:
    """A clause's slots, with the message's where the clause names none."""
    return replace(
        own,
        region=own.region or (None if own.township else message.region),
        township=own.township or (None if own.region else message.township),
        year=own.year or message.year,
        categories=own.categories or message.categories,
        tier=own.tier or message.tier,
    )


def question_in(clause: str, slots: Slots, *, after_question: bool = False,
                without_mentions: bool = False) -> RuleMatch | None:
    """The clause's reading when it is a question of its own, else None. After a question (`after_question`),
    a clause pointing back only at the place named (那边怎么交) asks about it. `without_mentions`: read by the
    rules that are no mention (打工, 转回来, 刚生完孩子), for a mention said again."""
    if not asks(clause) or REFERS_BACK.search(PLACE_BACK.sub("", clause) if after_question else clause):
        return None
    found = classify(clause, slots, _PLAIN if without_mentions else RULES)
    if found is None or found.rule.intent in _NOT_QUESTIONS or found.rule.name == _GROUP_ONLY:
        return None
    if found.rule.context and not asks(clause.rstrip("呢啊呀")):
        return None  # 我在医院住院呢: a situation told, its 呢 asks nothing
    return found


def distinct(questions: list[Asked]) -> list[Asked]:
    """The questions in the order asked, each intent (and out-of-scope topic) once."""
    seen: set[tuple[Intent, str | None]] = set()
    out: list[Asked] = []
    for q in questions:
        key = (q.found.rule.intent, q.found.rule.topic)
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out
