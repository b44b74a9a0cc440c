"""One message in, one reply out: nlu -> handlers -> rules -> templates.

The same pipeline serves `yibao ask`, the webhook, reminders and the console preview. A question is a text,
understood here; an event (subscribe, a picture, a receipt, ...) comes as the Query the WeChat edge made of it.
The answers of intents declared cacheable are kept (bot/answers.py).

Two things span messages or questions (each in its own functions below): a message asking several questions
gets one reply answering each in order (`Query.also`), and a conversation keeps its thread for a while
(bot/nlu/follow.py: the place, groups, tier and year of the last question, in `state["context"]`). That
context is no bar to the answer cache: a reading it changes is kept under that reading, and a place it
carries is given to the answer as the speaker's (as a bound follower's would be).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from bot.answers import ANSWERS, Kept
from bot.handlers import offers, route
from bot.nlu import follow, questions, understand
from bot.nlu.query import Intent, Query
from bot.render import render
from bot.types import Answer, Context, Reply, Speaker

_FIELDS = frozenset({"region", "township", "resident_id", "subscribed"})  # the speaker's own, not state


async def respond(message: str | Query, ctx: Context) -> Reply:
    """The reply to `message` (a text, or an event's Query) from `ctx.speaker`, with the speaker as they are
    after it (for the caller to save).

    An answer may offer numbered follow-ups ("回复1查看…"); a lone digit next is answered as the item it picks,
    and any other message drops them (bot/handlers/offers.py). A question waiting for its county ("交多少钱" ->
    "哪个县?") is dropped by every answer but the one to a text naming a region alone ("陵川"): that text
    answers the waiting question."""
    speaker = replace(ctx.speaker, state=dict(ctx.speaker.state))
    ctx = replace(ctx, speaker=speaker)
    message = offers.take(message, speaker)  # "1" after "回复1查看…": the offered question (bot/handlers/offers.py)
    now = _now(ctx)
    context = _recent_context(speaker, now)
    pending = None if isinstance(message, Query) else speaker.state.pop("pending", None)
    understood = carried = None
    place = None
    if context is not None and not isinstance(message, Query):
        understood = understand(message, ctx.registry, state=speaker.state, today=ctx.today)
        carried = follow.carry(understood, context)  # 那低保呢: the previous question, for 低保
        place = follow.place(carried, context)
        if place is not None and place[0] == speaker.region and place[1] in (None, speaker.township):
            place = None  # the follower's own region (and township) answer it anyway
    asked = _in_place(ctx, place)  # a place named before is the speaker's for this answer
    question = ANSWERS.key(message, _without_context(asked))
    if question is not None and isinstance(message, str) and questions.spaced(message):
        question = None  # 交多少 几号截止 asks two things, 交多少几号截止 (its cache key) one
    if question is not None and carried != understood:  # kept under the reading the context made of it
        question = (("follow-up", question[0], _reading(carried)), *question[1:])
    kept = ANSWERS.get(question, asked) if question is not None else None
    if kept is None or (pending and _completes(kept.query)):
        if isinstance(message, Query):
            query = message
        elif understood is not None:
            query = understood
        else:  # relative years (去年, 明年) count from the day asked, which the cache's key holds too
            query = understand(message, ctx.registry, state=speaker.state, today=ctx.today)
        if pending and _completes(query):
            question, asked = None, ctx  # the answer is the waiting question's
            speaker.region, speaker.township = query.region, query.township or speaker.township
            query = understand(pending, ctx.registry, state=speaker.state, today=ctx.today)
            query = _in_region(query, speaker.region)
        elif carried is not None:
            query = carried
        if query.also:
            kept = await _answer_each(query, asked)
        else:
            answer_route = route(query.intent)
            answer = await answer_route.handler(query, asked)
            kept = Kept(query, render(answer), answer.remember)
            if question is not None and answer_route.cacheable:
                ANSWERS.put(question, answer_route.reads, asked, kept)
    if kept.remember:
        _remember(speaker, kept.remember)
    read = kept.query
    if place is not None and asked is not ctx:
        read = replace(read, region=place[0], township=place[1])
    _keep_context(speaker, read, now)
    return Reply(text=kept.text, intent=read.intent, query=read, speaker=speaker)


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
    texts = [render(a) for a in answers]
    texts[1:] = [_without_header(t, texts[0]) for t in texts[1:]]
    remember: dict[str, Any] = {}
    for answer in answers:
        remember.update(answer.remember or {})
    if sum(len(t.splitlines()) for t in texts) > _MAX_LINES:
        items = [offers.descriptor(q.intent, region=q.region, year=q.year, categories=q.categories, tier=q.tier,
                                   topic=q.topic, text=q.text) for q in query.also]
        more = render(Answer("also_asked", {"questions": [q.text for q in query.also]}))
        return Kept(query, f"{texts[0]}\n{more}", {**remember, offers.KEY: items})
    return Kept(query, "\n".join(t for t in texts if t), remember or None)  # no blank line (bot.render)


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


def _in_region(query: Query, region: str | None) -> Query:
    """`query` (and its further questions) in `region` where they name none."""
    also = tuple(_in_region(q, region) for q in query.also)
    return replace(query, region=query.region or region, also=also)


# -- follow-ups keep the thread (bot/nlu/follow.py) --------------------------------------------------------

def _now(ctx: Context) -> dt.datetime:
    """The message's time (`yibao ask` and the bench give a date only: noon of it)."""
    return ctx.now or dt.datetime.combine(ctx.today, dt.time(12))


def _recent_context(speaker: Speaker, now: dt.datetime) -> dict[str, Any] | None:
    """The conversation's recent context; a stale one is dropped first (so it bars no cached answer)."""
    context = follow.remembered(speaker.state, now)
    if context is None:
        speaker.state.pop(follow.KEY, None)
    return context


def _in_place(ctx: Context, place: tuple[str, str | None] | None) -> Context:
    """`ctx` with the speaker in `place` (for the answer only: the follower's own region is not changed)."""
    if place is None:
        return ctx
    return replace(ctx, speaker=replace(ctx.speaker, region=place[0], township=place[1]))


def _without_context(ctx: Context) -> Context:
    """`ctx` as the answer cache sees it: the conversation's context is no conversation state to it (a
    reading the context changed is kept under that reading, see `respond`)."""
    if follow.KEY not in ctx.speaker.state:
        return ctx
    state = {k: v for k, v in ctx.speaker.state.items() if k != follow.KEY}
    return replace(ctx, speaker=replace(ctx.speaker, state=state))


def _reading(query: Query | None) -> tuple[Any, ...]:
    """What of a carried Query its answer depends on, beside its text (for the answer cache's key)."""
    assert query is not None
    return (query.intent, query.region, query.township, query.year, query.categories, query.tier, query.topic,
            tuple(sorted(query.extras.items())))


def _keep_context(speaker: Speaker, query: Query, now: dt.datetime) -> None:
    if (context := follow.context_of(query, now)) is not None:
        speaker.state[follow.KEY] = context
    elif follow.forgets(query):
        speaker.state.pop(follow.KEY, None)


def _completes(query: Query) -> bool:
    """Whether `query` names a region alone (the answer to a question waiting for its county)."""
    return query.intent is Intent.SET_REGION and query.region is not None


def _remember(speaker: Speaker, remember: dict[str, Any]) -> None:
    for name, value in remember.items():
        if name in _FIELDS:
            setattr(speaker, name, value)
        elif value is None:
            speaker.state.pop(name, None)
        else:
            speaker.state[name] = value
