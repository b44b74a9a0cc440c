"""What the console's handlers reach through `request.app[CONSOLE]`, and the roles a route allows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import Settings
from bot.rules.loader import PolicyRegistry
from bot.store.published import CurrentRegistry
from bot.store.users import Account

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = "public"  # a route anyone may open (the login page)
BUREAU = ("admin", "staff")
EVERYONE = ("admin", "staff", "township")


@dataclass
class Console:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    policies: CurrentRegistry
    clock: Callable[[], dt.datetime]
    scheduling: Any = None  # scheduler.wiring.Scheduling when this process runs the scheduler

    @property
    def registry(self) -> PolicyRegistry:
        return self.policies.registry

    def today(self) -> dt.date:
        return self.clock().date()


CONSOLE = web.AppKey("console", Console)
ACCOUNT = web.RequestKey("account", Account)  # the signed-in account
CSRF = web.RequestKey("csrf", str)  # the session's CSRF token, for templates


def allow(*roles: str) -> Callable[[Handler], Handler]:
    """The roles that may use a route. A route without it is refused to everyone (bot/console/guard.py)."""

    def mark(handler: Handler) -> Handler:
        handler.roles = frozenset(roles)  # type: ignore[attr-defined]
        return handler

    return mark


def account(request: web.Request) -> Account:
    return request[ACCOUNT]


def console(request: web.Request) -> Console:
    return request.app[CONSOLE]
