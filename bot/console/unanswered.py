"""/console/unanswered: what residents asked that yibao could not answer (its fallback, or its 您是想问 menu)
or that is outside its topics, grouped by similar text with counts and what the bot tried (the questions it
guessed, the county, group or year it found: message_log.detail), so staff see what to teach it next; and
the residents' 有用/没用 on fee and deadline answers, counted. The texts are message_log's, where ID and
phone numbers are already masked."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot.catalogue import t
from bot.console.context import BUREAU, allow, console
from bot.nlu import normalize
from bot.nlu.query import Intent
from bot.store.models import MessageLog

routes = web.RouteTableDef()
INTENTS = {intent: t(f"console.intents.{intent}") for intent in (Intent.FALLBACK, Intent.OUT_OF_SCOPE)}
SCANNED = 20_000  # the newest messages looked at
SHOWN = 200
TRIED_SHOWN = 3  # kinds of attempt shown per group
SIMILAR = 0.8  # difflib ratio above which two texts are one question
_NOISE = re.compile(r"[\W_]+|[吗呢啊吧呀哦嘛啦哈么]+$")


@dataclass
class Group:
    key: str
    intent: str
    texts: dict[str, int] = field(default_factory=dict)  # as residents wrote them (masked), with counts
    last: dt.datetime | None = None
    tried: list[dict[str, Any]] = field(default_factory=list)  # what the bot made of them, newest first, distinct

    @property
    def count(self) -> int:
        return sum(self.texts.values())

    @property
    def examples(self) -> list[str]:
        return sorted(self.texts, key=lambda t: -self.texts[t])[:3]


def group_key(text: str) -> str:
    """The text with what does not change the question taken out: width, script, punctuation, particles."""
    return _NOISE.sub("", normalize(text).lower())


def group_texts(rows: list[tuple[Any, ...]]) -> list[Group]:
    """(text, intent, time[, detail]) rows, newest first -> groups of the same or similar question, the most
    asked first, each with what the bot tried on it (a row's detail, bot/handlers/records.py)."""
    groups: dict[tuple[str, str], Group] = {}
    for text, intent, at, *rest in rows:
        key = group_key(text)
        if not key:
            continue
        g = groups.setdefault((key, intent), Group(key, intent))
        g.texts[text] = g.texts.get(text, 0) + 1
        g.last = max(g.last, at) if g.last else at
        _add_tried(g, rest[0] if rest else None)
    merged: list[Group] = []
    for g in sorted(groups.values(), key=lambda g: -g.count):
        home = next((m for m in merged if m.intent == g.intent and _similar(m.key, g.key)), None)
        if home is None:
            merged.append(g)
            continue
        for text, n in g.texts.items():
            home.texts[text] = home.texts.get(text, 0) + n
        for tried in g.tried:
            _add_tried(home, tried)
        home.last = max(home.last, g.last) if home.last and g.last else home.last or g.last
    return sorted(merged, key=lambda g: -g.count)


def _add_tried(group: Group, detail: dict[str, Any] | None) -> None:
    if detail and detail not in group.tried and len(group.tried) < TRIED_SHOWN:
        group.tried.append(detail)


def feedback_counts(details: list[dict[str, Any] | None]) -> dict[str, Counter[bool]]:
    """The 有用/没用 verdicts per rated answer's intent (fee, deadline): {intent: {True: n, False: m}}."""
    counts: dict[str, Counter[bool]] = {}
    for d in details:
        if d and "useful" in d:
            counts.setdefault(str(d.get("about")), Counter())[bool(d["useful"])] += 1
    return counts


def _similar(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR and matcher.ratio() >= SIMILAR


@routes.get("/unanswered", name="unanswered")
@allow(*BUREAU)
async def unanswered(request: web.Request) -> web.Response:
    c = console(request)
    days = int(request.query["days"]) if request.query.get("days", "").isdigit() else 30
    since = c.clock() - dt.timedelta(days=max(days, 1))
    async with c.sessions() as session:
        rows = (await session.execute(
            select(MessageLog.content, MessageLog.intent, MessageLog.created_at, MessageLog.detail)
            .where(MessageLog.direction == "in", MessageLog.intent.in_([str(i) for i in INTENTS]),
                   MessageLog.created_at >= since)
            .order_by(MessageLog.id.desc()).limit(SCANNED))).all()
        verdicts = (await session.execute(
            select(MessageLog.detail)
            .where(MessageLog.direction == "in", MessageLog.intent == str(Intent.FEEDBACK),
                   MessageLog.created_at >= since)
            .order_by(MessageLog.id.desc()).limit(SCANNED))).scalars().all()
    groups = group_texts([tuple(r) for r in rows])
    return aiohttp_jinja2.render_template("unanswered.html", request, {
        "groups": groups[:SHOWN], "total": len(rows), "days": days, "intents": {str(k): v for k, v in INTENTS.items()},
        "feedback": feedback_counts(list(verdicts))})
