"""One message in, one reply out: nlu -> handlers -> rules -> templates.

The same pipeline serves `yibao ask`, the webhook, reminders and the console preview.

Residents ask the same few hundred questions, and an answer given without the database is a pure function
of the normalised text, the speaker fields its handler read (region, township, resident, whether there is
an openid), the configured default region, whether there is a database, the policy registry and today's
date. `AnswerCache` keeps those rendered answers with what each remembers for the follower (least recently
used first out, at most `Settings.answer_cache` of them; YIBAO_ANSWER_CACHE=0 switches it off): "低保户交多少",
and "我是陵川县礼义镇的" with the region it sets, or "我交了吗" from a follower who never bound an ID. And
`_understand` remembers what each text asked without a binding in progress was understood as. Never cached:
an answer that used the database (a binding step, a bound follower's payment status), a speaker with
conversation state (a binding in progress; a question waiting for its county alone is no bar, as every
answer drops it but the one naming the county), and a text with a long number in it (an ID or phone number
is not kept in memory). Handlers must stay deterministic in their inputs (query, today, registry, settings,
the speaker's fields), and reach the database only through `Context.sessions`, and only for the
`USES_DATABASE` intents.

`respond_offline` is `respond` for what needs no database (None for the rest): the webhook answers such a
message before claiming it, then claims and completes it in one write (bot/wechat/inbox.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.handlers import dispatch
from bot.nlu import binding_in_progress, normalize, understand
from bot.nlu.query import Intent, Query
from bot.render import render
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Policy


@dataclass
class Speaker:
    """Who is asking, with what we remember of them (a follower's stored state, or CLI flags)."""

    openid: str | None = None
    region: str | None = None  # canonical policy region name (bound, or --region)
    township: str | None = None
    resident_id: int | None = None
    state: dict[str, Any] = field(default_factory=dict)  # e.g. {"pending": "交多少钱"}

    @property
    def anonymous(self) -> bool:
        """No openid (`yibao ask`): nothing of the follower's own can be looked up. (Read this rather than the
        openid where that is all that matters: the answer is then kept for every follower.)"""
        return self.openid is None


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


CacheKey = tuple[Any, ...]
Kept = tuple[str, Query, dict[str, Any] | None]  # rendered text, query, what the answer remembers
MAX_NORMALISED = 20_000  # texts whose normal form is remembered (forgotten all at once beyond that)
_LONG_NUMBER = re.compile(r"[0-9０-９](?:[ \-]?[0-9０-９]){6}")
_WATCHED = frozenset({"openid", "region", "township", "resident_id", "anonymous"})
_FIELDS = frozenset({"region", "township", "resident_id"})  # remembered as the speaker's fields, not as state


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
            if name == "anonymous":  # not through self.openid: the answer does not depend on which openid
                return object.__getattribute__(self, "openid") is None
        return object.__getattribute__(self, name)


def _watched(speaker: Speaker) -> _Watched:
    return _Watched(speaker.openid, speaker.region, speaker.township, speaker.resident_id, speaker.state)


def _nothing(speaker: Speaker) -> tuple[()]:
    return ()


@functools.cache
def _getter(fields: tuple[str, ...]) -> Callable[[Speaker], Any]:
    """A speaker's values of `fields`, as one hashable value."""
    return attrgetter(*fields) if fields else _nothing


_normal: dict[str, str] = {}  # text -> normalize(text): the key of a hit costs no normalising


def _normal_form(text: str) -> str | None:
    """normalize(text), remembered; None when the text or its normal form carries a long number (an ID or
    phone number perhaps, which is not kept in memory)."""
    normal = _normal.get(text)
    if normal is None:
        if _LONG_NUMBER.search(text) or _LONG_NUMBER.search(normal := normalize(text)):
            return None
        if len(_normal) >= MAX_NORMALISED:
            _normal.clear()
        _normal[text] = normal
    return normal


def _cacheable_state(state: dict[str, Any]) -> bool:
    """Whether a speaker with this conversation state may be answered from the cache: with none, or with
    only a question waiting for its county, which every answer drops but one naming a region
    (`_completes`)."""
    return not state or (len(state) == 1 and "pending" in state)


def _completes(query: Query, pending: str | None) -> bool:
    """Whether `query` names the region a pending question waits for: the answer is then that question's."""
    return bool(query.intent is Intent.SET_REGION and pending and query.region)


def _remember(speaker: Speaker, remember: dict[str, Any]) -> None:
    for name, value in remember.items():
        if name in _FIELDS:
            setattr(speaker, name, value)
        elif value is None:
            speaker.state.pop(name, None)
        else:
            speaker.state[name] = value


def _keepable(remember: dict[str, Any] | None) -> bool:
    """Whether what an answer remembers may be kept in memory: no resident, no long number."""
    return not remember or all(
        value is None or (isinstance(value, str) and not _LONG_NUMBER.search(value)) for value in remember.values()
    )


class AnswerCache:
    """Rendered answers, with what they remember, to questions asked without conversation state (but a
    pending question), bounded (least recently used out).

    The key is the normalised text, the registry, today's date, the default region and whether there is a
    database; an entry is kept with the registry's policies (one reloaded misses). Within a key, an answer
    is kept with the speaker fields its handler read, and their values (a handler that reads none of the
    speaker's region, township, resident or openid gives the same answer to everyone: "乐至低保户交多少"
    does; "低保户交多少" depends on the speaker's region; "我交了吗" on the resident, and on whether there is
    an openid, not which). The handlers are deterministic in what they read, so a speaker with the same
    values for those fields gets the same answer, and remembers the same. A new day, another registry or a
    reloaded policy misses.
    """

    def __init__(self) -> None:
        # key -> (registry, its policies, {fields read: (their getter, {their values: Kept})})
        self._entries: OrderedDict[CacheKey, tuple[weakref.ref[PolicyRegistry], list[Policy], dict[Any, Any]]] = (
            OrderedDict()
        )
        self._policies: list[Policy] = []  # the last registry's, shared by its entries
        self._size = 0  # answers kept, over all keys
        self.hits = 0
        self.misses = 0
        # not looked up (conversation state, a long number, the cache switched off), or answered from a
        # pending question
        self.bypassed = 0

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        _understood.clear()
        _normal.clear()
        self._entries.clear()
        self._policies = []
        self._size = 0
        self.hits = self.misses = self.bypassed = 0

    def key(self, text: str, ctx: Context) -> CacheKey | None:
        """The key of `text` asked in `ctx`, or None when its answer may depend on conversation state (more
        than a pending question) or the text carries a long number (an ID or phone number perhaps, which is
        not kept in memory)."""
        if ctx.settings.answer_cache <= 0 or not _cacheable_state(ctx.speaker.state):
            return None
        normal = _normal_form(text)
        if normal is None:
            return None
        return (id(ctx.registry), ctx.today, normal, ctx.settings.default_region, ctx.sessions is None)

    def get(self, key: CacheKey, ctx: Context) -> Kept | None:
        """The answer kept for `key` and this speaker. (`respond` counts hits, misses and bypasses.)"""
        entry = self._entries.get(key)
        # else an id reused by another registry, or a policy reloaded (compared by identity first: cheap)
        if entry is not None and entry[0]() is ctx.registry and entry[1] == ctx.registry.policies:
            speaker = ctx.speaker
            for getter, answers in entry[2].values():
                hit = answers.get(getter(speaker))
                if hit is not None:
                    self._entries.move_to_end(key)
                    return hit
        return None

    def put(self, key: CacheKey, ctx: Context, reads: set[str], kept: Kept) -> None:
        registry = ctx.registry
        entry = self._entries.get(key)
        if entry is None or entry[0]() is not registry or entry[1] != registry.policies:
            if entry is not None:
                self._size -= sum(len(answers) for _, answers in entry[2].values())
            if self._policies != registry.policies:
                self._policies = list(registry.policies)
            entry = self._entries[key] = (weakref.ref(registry), self._policies, {})
        fields = tuple(sorted(reads))
        group = entry[2].get(fields)
        if group is None:
            group = entry[2][fields] = (_getter(fields), {})
        getter, answers = group
        values = getter(ctx.speaker)
        if values not in answers:
            self._size += 1
        answers[values] = kept
        self._entries.move_to_end(key)
        while self._size > ctx.settings.answer_cache and self._entries:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self._size -= sum(len(answers) for _, answers in dropped.values())

    @property
    def hit_ratio(self) -> float:
        """Of the questions looked up (asked without conversation state), the share answered from here."""
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


ANSWERS = AnswerCache()  # one per process

MAX_UNDERSTOOD = 20_000  # texts whose Query is remembered, per registry (forgotten all at once beyond that)
# id(registry) -> (weak reference, its policies' ids, {normal form: Query}); like bot.nlu.extractor_for
_understood: dict[int, tuple[weakref.ref[PolicyRegistry], tuple[int, ...], dict[str, Query]]] = {}


def _understand(text: str, ctx: Context, state: dict[str, Any]) -> Query:
    """`understand`, remembered for a text asked without a binding in progress (then its Query depends on
    the normal form of the text and the registry alone), unless caching is off or the text carries a long
    number. (What is said while binding, a name perhaps, is not kept.)"""
    if ctx.settings.answer_cache <= 0 or binding_in_progress(state) or (normal := _normal_form(text)) is None:
        return understand(text, ctx.registry, state=state)
    registry = ctx.registry
    fingerprint = tuple(map(id, registry.policies))
    entry = _understood.get(id(registry))
    if entry is None or entry[0]() is not registry or entry[1] != fingerprint:
        if len(_understood) >= 8:
            _understood.pop(next(iter(_understood)))
        entry = _understood[id(registry)] = (weakref.ref(registry), fingerprint, {})
    memo = entry[2]
    query = memo.get(normal)
    if query is None:
        if len(memo) >= MAX_UNDERSTOOD:
            memo.clear()
        query = memo[normal] = understand(text, registry, state=state)
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
    key = ANSWERS.key(text, ctx)
    if key is not None and (reply := _replay(key, ctx)) is not None:
        return reply
    reply = await _respond(text, ctx, key, database=True)
    assert reply is not None
    return reply


async def respond_offline(text: str, ctx: Context) -> Reply | None:
    """What `respond` says, when saying it needs no database; None when it would (a handler used
    `Context.sessions` for more than opening a session). Nothing is read or written outside memory, so it
    may run before the message is claimed, even twice."""
    key = ANSWERS.key(text, ctx)
    if key is not None and (reply := _replay(key, ctx)) is not None:
        return reply
    return await _respond(text, ctx, key, database=False)


def _replay(key: CacheKey, ctx: Context) -> Reply | None:
    """The reply kept for `key` and this speaker, leaving the speaker as answering would: a question
    waiting for its county dropped, what the answer remembers applied. None when nothing is kept, or the
    text names the county a pending question waits for."""
    hit = ANSWERS.get(key, ctx)
    if hit is None:
        return None
    cached, query, remember = hit
    s = ctx.speaker
    if s.state and _completes(query, s.state.get("pending")):
        return None
    ANSWERS.hits += 1
    speaker = Speaker(s.openid, s.region, s.township, s.resident_id, {})
    if remember:
        _remember(speaker, remember)
    return _reply(cached, query, speaker)


def _reply(text: str, query: Query, speaker: Speaker) -> Reply:
    """Reply(text, query.intent, query, speaker) at a third of the cost (a frozen dataclass's __init__ sets
    each field through object.__setattr__)."""
    reply = _new_reply()
    reply.__dict__.update(text=text, intent=query.intent, query=query, speaker=speaker)
    return reply


_new_reply = functools.partial(object.__new__, Reply)


async def _respond(text: str, ctx: Context, key: CacheKey | None, *, database: bool) -> Reply | None:
    """The pipeline, for what the cache does not answer (`key` is None when it may not)."""
    query = _understand(text, ctx, ctx.speaker.state)
    speaker = replace(ctx.speaker, state=dict(ctx.speaker.state))
    # A region named alone answers a question that was waiting for it ("交多少钱" -> "哪个县?" -> "陵川").
    pending = speaker.state.pop("pending", None)
    if _completes(query, pending):
        key = None  # an answer from conversation state
        speaker.region, speaker.township = query.region, query.township or speaker.township
        query = _understand(pending, ctx, speaker.state)
        query = replace(query, region=query.region or speaker.region)
    keep = key is not None
    seen = _watched(speaker) if keep else speaker  # (with an empty state: all a kept answer may have seen)
    # An answer to keep is first tried without the database: one that needs it is not kept.
    offline = ctx.sessions is not None and (keep or not database)
    try:
        answer = await dispatch(query, replace(ctx, speaker=seen, sessions=_OFFLINE if offline else ctx.sessions))
    except NeedsDatabase:
        if not database:
            return None
        keep = False
        answer = await dispatch(query, replace(ctx, speaker=speaker))
    if key is None:
        ANSWERS.bypassed += 1
    else:
        ANSWERS.misses += 1
    if answer.remember:
        _remember(speaker, answer.remember)
    rendered = render(answer)
    if keep and _keepable(answer.remember):
        assert key is not None
        remember = dict(answer.remember) if answer.remember else None
        ANSWERS.put(key, ctx, object.__getattribute__(seen, "reads"), (rendered, query, remember))
    return Reply(text=rendered, intent=query.intent, query=query, speaker=speaker)
