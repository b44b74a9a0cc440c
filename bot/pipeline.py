"""One message in, one reply out: nlu -> handlers -> rules -> templates.

The same pipeline serves `yibao ask`, the webhook, reminders and the console preview. A question is a text,
understood here; an event (subscribe, a picture, a receipt, ...) comes as the Query the WeChat edge made of it.
`respond`'s steps: a lone digit picks a question an answer offered (bot/handlers/offers.py); a text is read in
the conversation's context (bot/nlu/follow.py: the last question's place, groups, tier and year, for 30
minutes); the answer cache (bot/answers.py) may hold the answer; else it is answered (one question, several
in order, or the question waiting for the county the text names); the speaker keeps what the answer
remembers, and the conversation's new context.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from bot.answers import ANSWERS, Kept, Question
from bot.handlers import offers, route
from bot.nlu import follow, questions, understand
from bot.nlu.query import Intent, Query
from bot.render import render
from bot.types import Answer, Context, Reply, Speaker

_FIELDS = frozenset({"region", "township", "resident_id", "subscribed", "consent"})  # the speaker's own, not state


async def respond(message: str | Query, ctx: Context) -> Reply:
    """The reply to `message` (a text, or an event's Query) from `ctx.speaker`, with the speaker as they are
    after it (for the caller to save)."""
    speaker = replace(ctx.speaker, state=dict(ctx.speaker.state))
    ctx = replace(ctx, speaker=speaker)
    message = offers.take(message, speaker)  # "1" after "回复1查看…": the question offered; else offers dropped
    pending = None if isinstance(message, Query) else speaker.state.pop("pending", None)  # see `_waiting`
    heard = None if isinstance(message, Query) else speaker.state.pop("heard", None)  # see `_heard`
    now = ctx.now or dt.datetime.combine(ctx.today, dt.time(12))  # `yibao ask` and the bench: noon of the day
    asked = _read(message, ctx, now)
    kept = _cached(asked, pending)
    if pending and heard and isinstance(message, str) and (said := follow.yes_or_no(message)) is not None:
        kept = await _heard(said, pending, heard, message, ctx)
    if kept is None:
        query = asked.alone or _understand(message, ctx)  # a text read only now, if not in the context
        if pending and _completes(query):
            asked = _waiting(pending, query, ctx)
        kept = await _answer(asked.query or query, asked)  # its reading in the context, if any
    _remember(speaker, kept.remember or {})
    read = kept.query if asked.place is None else replace(kept.query, region=asked.place[0], township=asked.place[1])
    _keep_context(speaker, read, now)
    return Reply(text=kept.text, intent=read.intent, query=read, speaker=speaker)


@dataclass(frozen=True)
class _Asked:
    """The message being answered: as read in the conversation's context, and its key in the answer cache."""

    ctx: Context  # to answer it in: the speaker in `place`, if any
    place: tuple[str, str | None] | None  # named before, none in it: the speaker's and the reading's
    key: Question | None  # None: its answer is not kept
    alone: Query | None  # its reading on its own; None: a text not read yet (the cache may answer it)
    query: Query | None  # its reading in the context; None likewise


def _read(message: str | Query, ctx: Context, now: dt.datetime) -> _Asked:
    """`message` read in the conversation's recent context, if any (a stale one is forgotten)."""
    context = follow.remembered(ctx.speaker.state, now)
    if context is None:
        ctx.speaker.state.pop(follow.KEY, None)
    alone = query = place = None
    if isinstance(message, Query):
        alone = query = message
    elif context is not None:
        alone = _understand(message, ctx)
        query = follow.carry(alone, context)  # 那低保呢: the previous question, for 低保
        place = follow.place(query, context)
        if place is not None and place[0] == ctx.speaker.region and place[1] in (None, ctx.speaker.township):
            place = None  # the follower's own region (and township) answer it anyway
    if place is not None:  # for this answer only: the follower's own region is not changed
        ctx = replace(ctx, speaker=replace(ctx.speaker, region=place[0], township=place[1]))
    key = ANSWERS.key(message, ctx)
    if key is not None and isinstance(message, str) and questions.spaced(message):
        key = None  # 交多少 几号截止 asks two things, 交多少几号截止 (its cache key) one
    if key is not None and query != alone:  # kept under the reading the context made of it
        key = (("follow-up", key[0], _reading(query)), *key[1:])
    return _Asked(ctx, place, key, alone, query)


def _understand(text: str, ctx: Context) -> Query:
    """`text` understood; relative years (去年, 明年) count from the day asked, which the cache's key holds too."""
    return understand(text, ctx.registry, state=ctx.speaker.state, today=ctx.today)


def _reading(query: Query) -> tuple[Any, ...]:
    """What of a carried Query its answer depends on, beside its text (for the answer cache's key)."""
    return (query.intent, query.region, query.township, query.year, query.categories, query.tier, query.topic,
            tuple(sorted(query.extras.items())))


def _cached(asked: _Asked, pending: str | None) -> Kept | None:
    """The answer kept for `asked`, unless it names the county the `pending` question waits for."""
    kept = ANSWERS.get(asked.key, asked.ctx) if asked.key is not None else None
    return None if kept is None or (pending and _completes(kept.query)) else kept


def _waiting(pending: str, named: Query, ctx: Context) -> _Asked:
    """The question waiting for its county ("交多少钱" -> "哪个县?"), asked in the county `named` ("陵川"), which is
    the speaker's from now on. Any other answer drops the waiting question."""
    ctx.speaker.region, ctx.speaker.township = named.region, named.township or ctx.speaker.township
    query = _in_region(_understand(pending, ctx), ctx.speaker.region)
    return _Asked(ctx, None, None, query, query)


async def _heard(said: bool, pending: str, heard: list[str], message: str, ctx: Context) -> Kept:
    """是 / 不是 replying to 您问的是青禾县吗 (a place written otherwise, `heard`: [as written, ours]): yes answers the
    waiting question there, as naming it would; no says which places we cover."""
    if said:
        named = Query(Intent.SET_REGION, text=message, region=heard[1])
        asked = _waiting(pending, named, ctx)
        return await _answer(asked.query or named, asked)
    answer = Answer("unknown_region", {"asked": heard[0], "regions": ctx.registry.regions(), "heard_as": None})
    return Kept(Query(Intent.SET_REGION, text=message), render(answer), None)


def _completes(query: Query) -> bool:
    """Whether `query` answers a question waiting for its county: it names a region alone, or names one in a
    message not otherwise understood (陵川能用吗, after 家庭共济是啥 was asked which county)."""
    return query.intent in (Intent.SET_REGION, Intent.FALLBACK) and query.region is not None


def _in_region(query: Query, region: str | None) -> Query:
    """`query` (and its further questions) in `region` where they name none."""
    also = tuple(_in_region(q, region) for q in query.also)
    return replace(query, region=query.region or region, also=also)


async def _answer(query: Query, asked: _Asked) -> Kept:
    """The answer to `query` (to each of its questions, if several), kept in the cache if its route allows."""
    if query.also:
        return await _answer_each(query, asked.ctx)
    answer_route = route(query.intent)
    answer = await answer_route.handler(query, asked.ctx)
    kept = Kept(query, render(answer), answer.remember)
    if asked.key is not None and answer_route.cacheable:
        ANSWERS.put(asked.key, answer_route.reads, asked.ctx, kept)
    return kept


# -- several questions in one message (高档多少钱，能用微信交不) ---------------------------------------------

_MAX_LINES = 10  # longer together: the first answer, and the other questions named in one line


async def _answer_each(query: Query, ctx: Context) -> Kept:
    """One reply answering each question of `query` in order (`Query.also`), each without its own numbered
    offers (their numbers would clash); when together they would be long, the first answer, and the other
    questions offered by number ("回复1接着回答：在哪交", bot/handlers/offers.py). A question still waiting for
    its county is asked once, and the whole message is answered when the county comes."""
    asked = [query, *query.also]
    answers = [_unoffered(await route(q.intent).handler(q, ctx)) for q in asked]
    for answer in answers:
        if answer.template == "ask_region":
            return Kept(query, render(answer), {**(answer.remember or {}), "pending": query.text})
    texts = _texts(answers)
    if _lines(texts) > _MAX_LINES:  # the later answers in their brief form, where they have one (怎么交: one line)
        texts = _texts([answers[0], *(_brief(a) for a in answers[1:])])
    remember: dict[str, Any] = {}
    for answer in answers:
        remember.update(answer.remember or {})
    if _lines(texts) > _MAX_LINES:
        items = [offers.descriptor(q.intent, region=q.region, year=q.year, categories=q.categories, tier=q.tier,
                                   topic=q.topic, text=q.text) for q in query.also]
        more = render(Answer("also_asked", {"questions": [q.text for q in query.also]}))
        return Kept(query, f"{texts[0]}\n{more}", {**remember, offers.KEY: items})
    return Kept(query, "\n".join(t for t in texts if t), remember or None)  # no blank line (bot.render)


def _texts(answers: list[Answer]) -> list[str]:
    texts = [render(a) for a in answers]
    return [texts[0], *(_without_header(t, texts[0]) for t in texts[1:])]


def _lines(texts: list[str]) -> int:
    return sum(len(t.splitlines()) for t in texts)


def _brief(answer: Answer) -> Answer:
    """`answer` as one of several in a reply, in the brief form its template has (`brief`; the channels: their
    names in one line and the source), or as it is."""
    return Answer(answer.template, {**answer.data, "brief": True}, answer.remember)


def _without_header(text: str, first: str) -> str:
    """`text` without the header line (【陵川县 2025年度…】) the first answer already shows; a verdict before it
    (对，是80元。) stays."""
    top = first.split("\n", 1)[0]
    header = top[top.find("【"):] if "【" in top else top
    line, _, rest = text.partition("\n")
    if not header or not line.endswith(header) or not rest:
        return text
    return f"{line[: -len(header)]}\n{rest}" if line[: -len(header)] else rest


def _unoffered(answer: Answer) -> Answer:
    """`answer` without its numbered offers and 有用/没用 links (one of several answers in one reply)."""
    if "offers" not in answer.data and "feedback" not in answer.data:
        return answer
    remember = {k: v for k, v in (answer.remember or {}).items() if k not in (offers.KEY, offers.RATE)}
    return Answer(answer.template, {**answer.data, "offers": [], "feedback": False}, remember or None)


# -- what the speaker keeps ---------------------------------------------------------------------------------

def _remember(speaker: Speaker, remember: dict[str, Any]) -> None:
    """What an answer asks to remember: the speaker's own fields, or their conversation state."""
    for name, value in remember.items():
        if name in _FIELDS:
            setattr(speaker, name, value)
        elif value is None:
            speaker.state.pop(name, None)
        else:
            speaker.state[name] = value


def _keep_context(speaker: Speaker, query: Query, now: dt.datetime) -> None:
    """The conversation's context after `query`: renewed by a question, forgotten when one's own place is named."""
    if (context := follow.context_of(query, now)) is not None:
        speaker.state[follow.KEY] = context
    elif follow.forgets(query):
        speaker.state.pop(follow.KEY, None)
