"""Helpers the database commands share: open the configured database, name a region, print a time.

Kept light: the parser imports every command module, so heavy modules are imported inside the functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from bot.config import TZ, Settings

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

    from bot.rules.loader import PolicyRegistry


def run_async(coro: Coroutine[Any, Any, Any]) -> int:
    """Run a command's coroutine; its exit status is what it returns when that is a number, else 0."""
    result = asyncio.run(coro)
    return result if isinstance(result, int) else 0


@functools.cache
def console() -> Console:
    """A rich console wide enough for the status table when the output is a file or a pipe."""
    from rich.console import Console

    return Console(highlight=False, width=None if Console().is_terminal else 160)


@contextlib.asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The configured database, migrated first (as `yibao serve` does), disposed of at the end."""
    from bot.store.db import make_engine
    from bot.store.schema import ensure_schema

    engine = make_engine(settings)
    try:
        await ensure_schema(engine)
        yield engine
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def open_sessions(settings: Settings) -> AsyncIterator[async_sessionmaker]:
    from bot.store.db import make_sessionmaker

    async with open_engine(settings) as engine:
        yield make_sessionmaker(engine)


async def with_db(work: Callable[[Settings, PolicyRegistry, AsyncEngine], Awaitable[int]]) -> int:
    """Open the configured database with the policies loaded, run `work`, close."""
    from bot.rules.loader import load_registry

    settings = Settings.from_env()
    registry = load_registry(settings.policy_dirs)
    async with open_engine(settings) as engine:
        return await work(settings, registry, engine)


def when(value: dt.datetime) -> str:
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
