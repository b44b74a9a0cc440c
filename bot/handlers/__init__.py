"""The composition root of the handlers: every family's router (questions, events, outreach), composed into one."""

from __future__ import annotations

from bot.handlers import binding, calendar, channels, enrolment, events, fee, general, outreach, waiting
from bot.handlers.router import Route
from bot.nlu.query import Intent, Query
from bot.types import Answer, Context

ROUTERS = [fee.router, calendar.router, channels.router, enrolment.router, general.router, binding.router,
           waiting.router, events.router, outreach.router]


def _compose() -> dict[Intent, Route]:
    table: dict[Intent, Route] = {}
    for router in ROUTERS:
        for intent, route in router.routes.items():
            if intent in table:
                raise ValueError(f"{intent} is handled by two routers")
            table[intent] = route
    return table


ROUTES = _compose()


def route(intent: Intent) -> Route:
    """The route of `intent` (not understood: FALLBACK's)."""
    return ROUTES.get(intent) or ROUTES[Intent.FALLBACK]


async def dispatch(query: Query, ctx: Context) -> Answer:
    return await route(query.intent).handler(query, ctx)
