"""Talking to the bot as a follower, exactly as `yibao ask --openid` does (state kept in the test database)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import handlers
from bot.commands.ask import ask
from bot.config import Settings
from bot.handlers import binding


def use_binding_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Route BIND, UNBIND and MY_STATUS to bot.handlers.binding (a no-op once the composition root does)."""
    for intent, route in binding.router.routes.items():
        monkeypatch.setitem(handlers.ROUTES, intent, route)


async def say(settings: Settings, text: str, *, openid: str = "o-test-1", on: dt.date = dt.date(2024, 11, 20),
              region: str | None = "陵川县") -> str:
    return await ask(text, region=region, on=on, openid=openid, settings=settings)
