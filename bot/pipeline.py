"""One message in, one reply out: nlu -> handlers -> rules -> templates.

The same pipeline serves `yibao ask`, the webhook, reminders and the console preview.

Residents ask the same few hundred questions, and the answer to a policy question is a pure function of the
normalised text, the speaker's region and township, the configured default region, the policy registry and
today's date. `AnswerCache` keeps those rendered answers (least recently used first out, at most
`Settings.answer_cache` of them; YIBAO_ANSWER_CACHE=0 switches it off), and `_understand` remembers what
each text asked without conversation state was understood as. Never cached: a speaker with conversation
state (a pending question, a binding in progress), a text with a long number in it (an ID or phone number
is not kept in memory), the intents that read or change the follower's own data (`PER_FOLLOWER`), and any
answer that remembers something for the follower. Handlers must stay deterministic in their inputs (query,
today, registry, settings, the speaker's fields), and reach the database only through `Context.sessions`,
and only for the `USES_DATABASE` intents.

`respond_offline` is `respond` for what needs no database (None for the rest): the webhook answers such a
message before claiming it, then claims and completes it in one write (bot/wechat/inbox.py).
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.handlers import dispatch
from bot.nlu import normalize, understand
from bot.nlu.query import Intent, Query
from bot.render import render
from bot.rules.loader import PolicyRegistry


@dataclass
class Speaker:
    """Who is asking, with what we remember of them (a follower's stored state, or CLI flags)."""

    openid: str | None = None
    region: str | None = None  # canonical policy region name (bound, or --region)
    township: str | None = None
    resident_id: int | None = None
    state: dict[str, Any] = field(default_factory=dict)  # e.g. {"pending": "交多少钱"}


@dataclass
class Context:
    today: dt.date
    registry: PolicyRegistry
    speaker: Speaker = field(default_factory=Speaker)
    settings: Settings = field(default_factory=Settings)
    sessions: async_sessionmaker | None = None  # the database, for binding and payment status
    now: dt.datetime | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    intent: Intent
    query: Query
    speaker: Speaker  # the speaker's state after this message, for the caller to persist


# Intents whose answer reads or changes the follower's own data: never cached.
PER_FOLLOWER = frozenset({Intent.BIND, Intent.UNBIND, Intent.MY_STATUS, Intent.SET_REGION})

CacheKey = tuple[Any, ...]
MAX_NORMALISED = 20_000  # texts whose normal form is remembered (forgotten all at once beyond that)
_LONG_NUMBER = re.compile(r"[0-9０-９](?:[ \-]?[0-9０-９]){6}")
_WATCHED = frozenset({"openid", "region", "township", "resident_id"})


class _Watched(Speaker):
    """The speaker as the handlers see it on a cacheable question: notes which fields they read. (A copy made
    with dataclasses.replace reads every field of the original, so an answer built on a copy is keyed on
    all of them.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "reads", set())
        super().__init__(*args, **kwargs)

    def __getattribute__(self, name: str) -> Any:
        if name in _WATCHED:
            object.__getattribute__(self, "reads").add(name)
        return object.__getattribute__(self, name)


def _watched(speaker: Speaker) -> _Watched:
    return _Watched(speaker.openid, speaker.region, speaker.township, speaker.resident_id, speaker.state)


class AnswerCache:
    """Rendered answers to questions asked without conversation state, bounded (least recently used out).

    The key is the normalised text, the registry (its identity and its policies'), today's date and the
    default region; within a key, an answer is kept with the speaker fields its handler read, and their
    values (a handler that reads none of the speaker's region, township, resident or openid gives the
    same answer to everyone: "乐至低保户交多少" does; "低保户交多少" depends on the speaker's region). The
    handlers are deterministic in what they read, so a speaker with the same values for those fields gets
    the same answer. A new day, another registry or a reloaded policy is another key: it misses.
    """

    def __init__(self) -> None:
        # key -> (registry, {fields read: {their values: (text, query)}})
        self._entries: OrderedDict[CacheKey, tuple[weakref.ref[PolicyRegistry], dict[tuple[str, ...], dict]]] = (
            OrderedDict()
        )
        self._size = 0  # answers kept, over all keys
        self._normal: dict[str, str] = {}  # text -> normalize(text): the key of a hit costs no normalising
        self.hits = 0
        self.misses = 0
        self.bypassed = 0  # asked with conversation state (or the cache switched off): not looked up

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        _understood.clear()
        self._entries.clear()
        self._normal.clear()
        self._size = 0
        self.hits = self.misses = self.bypassed = 0

    def key(self, text: str, ctx: Context) -> CacheKey | None:
        """The key of `text` asked in `ctx`, or None when its answer may depend on conversation state (or
        the text carries a long number, an ID or phone number perhaps, which is not kept in memory)."""
        if ctx.settings.answer_cache <= 0 or ctx.speaker.state or _LONG_NUMBER.search(text):
            return None
        normal = self._normal.get(text)
        if normal is None:
            if len(self._normal) >= MAX_NORMALISED:
                self._normal.clear()
            normal = self._normal[text] = normalize(text)
        registry = ctx.registry
        return (id(registry), tuple(map(id, registry.policies)), ctx.today, normal, ctx.settings.default_region)

    def get(self, key: CacheKey, ctx: Context) -> tuple[str, Query] | None:
        """The answer kept for `key` and this speaker. (`respond` counts hits, misses and bypasses.)"""
        entry = self._entries.get(key)
        if entry is not None and entry[0]() is ctx.registry:  # else an id reused by another registry
            speaker = ctx.speaker
            for fields, answers in entry[1].items():
                hit = answers.get(tuple(getattr(speaker, name) for name in fields))
                if hit is not None:
                    self._entries.move_to_end(key)
                    return hit
        return None

    def put(self, key: CacheKey, ctx: Context, reads: set[str], text: str, query: Query) -> None:
        entry = self._entries.get(key)
        if entry is None or entry[0]() is not ctx.registry:
            if entry is not None:
                self._size -= sum(map(len, entry[1].values()))
            entry = self._entries[key] = (weakref.ref(ctx.registry), {})
        fields = tuple(sorted(reads))
        answers = entry[1].setdefault(fields, {})
        values = tuple(getattr(ctx.speaker, name) for name in fields)
        if values not in answers:
            self._size += 1
        answers[values] = (text, query)
        self._entries.move_to_end(key)
        while self._size > ctx.settings.answer_cache and self._entries:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._size -= sum(map(len, dropped.values()))

    @property
    def hit_ratio(self) -> float:
        """Of the questions looked up (asked without conversation state), the share answered from here."""
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


ANSWERS = AnswerCache()  # one per process

MAX_UNDERSTOOD = 20_000  # texts whose Query is remembered, per registry (forgotten all at once beyond that)
# id(registry) -> (weak reference, its policies' ids, {text: Query}); like bot.nlu.extractor_for
_understood: dict[int, tuple[weakref.ref[PolicyRegistry], tuple[int, ...], dict[str, Query]]] = {}


def _understand(text: str, ctx: Context, state: dict[str, Any]) -> Query:
    """`understand`, remembered for a text asked without conversation state (then its Query depends on the
    text and the registry alone), unless caching is off or the text carries a long number."""
    if state or ctx.settings.answer_cache <= 0 or _LONG_NUMBER.search(text):
        return understand(text, ctx.registry, state=state)
    registry = ctx.registry
    fingerprint = tuple(map(id, registry.policies))
    entry = _understood.get(id(registry))
    if entry is None or entry[0]() is not registry or entry[1] != fingerprint:
        if len(_understood) >= 8:
            _understood.pop(next(iter(_understood)))
        entry = _understood[id(registry)] = (weakref.ref(registry), fingerprint, {})
    memo = entry[2]
    query = memo.get(text)
    if query is None:
        if len(memo) >= MAX_UNDERSTOOD:
            memo.clear()
        query = memo[text] = understand(text, registry, state=state)
    return query


# Intents whose handlers may use the database (binding, payment status).
USES_DATABASE = frozenset({Intent.BIND, Intent.UNBIND, Intent.MY_STATUS})


class NeedsDatabase(Exception):
    """A handler reached for the database while answering offline."""


class _OfflineSession:
    """A session that may be opened and closed, and does nothing else: any statement, lookup or
    transaction raises NeedsDatabase."""

    async def __aenter__(self) -> _OfflineSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        raise NeedsDatabase(name)


class _Offline:
    """`Context.sessions` while answering offline ("我交了吗" from a follower who never bound an ID needs no
    database; from one who did, it does)."""

    def __call__(self, *args: object, **kwargs: object) -> _OfflineSession:
        return _OfflineSession()

    def begin(self, *args: object, **kwargs: object) -> Any:
        raise NeedsDatabase("begin")


_OFFLINE: Any = _Offline()


async def respond(text: str, ctx: Context) -> Reply:
    reply = await _respond(text, ctx, database=True)
    assert reply is not None
    return reply


async def respond_offline(text: str, ctx: Context) -> Reply | None:
    """What `respond` says, when saying it needs no database; None when it would (a handler used
    `Context.sessions` for more than opening a session). Nothing is read or written outside memory, so it
    may run before the message is claimed, even twice."""
    return await _respond(text, ctx, database=False)


async def _respond(text: str, ctx: Context, *, database: bool) -> Reply | None:
    key = ANSWERS.key(text, ctx)
    if key is not None and (hit := ANSWERS.get(key, ctx)) is not None:
        ANSWERS.hits += 1
        cached, query = hit
        s = ctx.speaker
        return Reply(text=cached, intent=query.intent, query=query,
                     speaker=Speaker(s.openid, s.region, s.township, s.resident_id, {}))

    query = _understand(text, ctx, ctx.speaker.state)
    speaker = replace(ctx.speaker, state=dict(ctx.speaker.state))
    # A region named alone answers a question that was waiting for it ("交多少钱" -> "哪个县?" -> "陵川").
    pending = speaker.state.pop("pending", None)
    if query.intent is Intent.SET_REGION and pending and query.region:
        speaker.region, speaker.township = query.region, query.township or speaker.township
        query = understand(pending, ctx.registry, state=speaker.state)
        query = replace(query, region=query.region or speaker.region)
    seen = _watched(speaker) if key is not None else speaker
    sessions = ctx.sessions if database or ctx.sessions is None else _OFFLINE
    try:
        answer = await dispatch(query, replace(ctx, speaker=seen, sessions=sessions))
    except NeedsDatabase:
        return None
    reads = set(object.__getattribute__(seen, "reads")) if key is not None else set()
    if key is None:
        ANSWERS.bypassed += 1
    else:
        ANSWERS.misses += 1
    if answer.remember:
        for name, value in answer.remember.items():
            if name in {"region", "township", "resident_id"}:
                setattr(speaker, name, value)
            elif value is None:
                speaker.state.pop(name, None)
            else:
                speaker.state[name] = value
    rendered = render(answer)
    if key is not None and query.intent not in PER_FOLLOWER and not answer.remember:
        ANSWERS.put(key, ctx, reads, rendered, query)
    return Reply(text=rendered, intent=query.intent, query=query, speaker=speaker)
