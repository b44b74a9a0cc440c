"""A tiny router: each handler module declares which intents it answers, and whether the answer may be cached.

An intent declared `cacheable=True` promises that its handler's answer depends only on the query, the speaker
fields named in `reads`, the date, the settings and the policies: no conversation state, no database, no
openid. bot/answers.py keys its cache on exactly those.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.nlu.query import Intent, Query
from bot.types import Answer, Context

Handler = Callable[[Query, Context], Awaitable[Answer]]


@dataclass(frozen=True)
class Route:
    handler: Handler
    cacheable: bool = False
    reads: tuple[str, ...] = ()  # the Speaker fields a cacheable answer depends on


class Router:
    def __init__(self) -> None:
        self.routes: dict[Intent, Route] = {}

    def handles(
        self, *intents: Intent, cacheable: bool = False, reads: tuple[str, ...] = ("region",)
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for intent in intents:
                if intent in self.routes:
                    raise ValueError(f"{intent} is handled twice in one router")
                self.routes[intent] = Route(fn, cacheable, reads if cacheable else ())
            return fn

        return register
