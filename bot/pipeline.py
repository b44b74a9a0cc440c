"""One message in, one reply out: nlu -> handlers -> rules -> templates.

The same pipeline serves `yibao ask`, the webhook, reminders and the console preview.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.handlers import dispatch
from bot.nlu import understand
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


async def respond(text: str, ctx: Context) -> Reply:
    query = understand(text, ctx.registry, state=ctx.speaker.state)
    speaker = replace(ctx.speaker, state=dict(ctx.speaker.state))
    # A region named alone answers a question that was waiting for it ("交多少钱" -> "哪个县?" -> "陵川").
    pending = speaker.state.pop("pending", None)
    if query.intent is Intent.SET_REGION and pending and query.region:
        speaker.region, speaker.township = query.region, query.township or speaker.township
        query = understand(pending, ctx.registry, state=speaker.state)
        query = replace(query, region=query.region or speaker.region)
    answer = await dispatch(query, replace(ctx, speaker=speaker))
    if answer.remember:
        for key, value in answer.remember.items():
            if key in {"region", "township", "resident_id"}:
                setattr(speaker, key, value)
            elif value is None:
                speaker.state.pop(key, None)
            else:
                speaker.state[key] = value
    return Reply(text=render(answer), intent=query.intent, query=query, speaker=speaker)
