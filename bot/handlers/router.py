"""A tiny router: each handler module declares which intents it answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.handlers.answer import Answer
from bot.nlu.query import Intent, Query

if TYPE_CHECKING:
    from bot.pipeline import Context

Handler = Callable[[Query, "Context"], Awaitable[Answer]]


class Router:
    def __init__(self) -> None:
        self.handlers: dict[Intent, Handler] = {}

    def handles(self, *intents: Intent) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for intent in intents:
                if intent in self.handlers:
                    raise ValueError(f"{intent} is handled twice in one router")
                self.handlers[intent] = fn
            return fn

        return register
