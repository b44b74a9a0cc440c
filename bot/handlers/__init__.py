"""The composition root of the handlers: every intent family's router, composed into one dispatch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.handlers import binding, calendar, channels, enrolment, fee, general, waiting
from bot.handlers.answer import Answer
from bot.handlers.router import Handler
from bot.nlu.query import Intent, Query

if TYPE_CHECKING:
    from bot.pipeline import Context

ROUTERS = [fee.router, calendar.router, channels.router, enrolment.router, general.router, binding.router,
           waiting.router]


def _compose() -> dict[Intent, Handler]:
    table: dict[Intent, Handler] = {}
    for router in ROUTERS:
        for intent, handler in router.handlers.items():
            if intent in table:
                raise ValueError(f"{intent} is handled by two routers")
            table[intent] = handler
    return table


HANDLERS = _compose()


async def dispatch(query: Query, ctx: Context) -> Answer:
    handler = HANDLERS.get(query.intent) or HANDLERS[Intent.FALLBACK]
    return await handler(query, ctx)
