"""One message in, one reply out: nlu -> handlers -> rules -> templates.

The same pipeline serves `yibao ask`, the webhook, reminders and the console preview. A question is a text,
understood here; an event (subscribe, a picture, a receipt, ...) comes as the Query the WeChat edge made of it.
The answers of intents declared cacheable are kept (bot/answers.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.answers import ANSWERS, Kept
from bot.handlers import offers, route
from bot.nlu import understand
from bot.nlu.query import Intent, Query
from bot.render import render
from bot.types import Context, Reply, Speaker

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
    pending = None if isinstance(message, Query) else speaker.state.pop("pending", None)
    question = ANSWERS.key(message, ctx)
    kept = ANSWERS.get(question, ctx) if question is not None else None
    if kept is None or (pending and _completes(kept.query)):
        if isinstance(message, Query):
            query = message
        else:  # relative years (去年, 明年) count from the day asked, which the cache's key holds too
            query = understand(message, ctx.registry, state=speaker.state, today=ctx.today)
        if pending and _completes(query):
            question = None  # the answer is the waiting question's
            speaker.region, speaker.township = query.region, query.township or speaker.township
            query = understand(pending, ctx.registry, state=speaker.state, today=ctx.today)
            query = replace(query, region=query.region or speaker.region)
        answer_route = route(query.intent)
        answer = await answer_route.handler(query, ctx)
        kept = Kept(query, render(answer), answer.remember)
        if question is not None and answer_route.cacheable:
            ANSWERS.put(question, answer_route.reads, ctx, kept)
    if kept.remember:
        _remember(speaker, kept.remember)
    return Reply(text=kept.text, intent=kept.query.intent, query=kept.query, speaker=speaker)


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
