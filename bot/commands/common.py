"""Helpers the database commands share: open the configured database, name a region, print a time.

Kept light: the parser imports every command module, so heavy modules are imported inside the functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

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


def check_ports(host: str, ports: list[tuple[int, str]], hint: str) -> None:
    """Refuse before any work (migrating, scheduling) when a port to listen on is taken: name it and how to
    choose another. `ports` are (port, what listens there); port 0 is any free port."""
    import socket

    from bot.commands.text import CommandError, t

    for port, what in ports:
        if port == 0:
            continue
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds: TIME_WAIT is no conflict
            try:
                s.bind((host, port))
            except OSError:
                raise CommandError(t("errors.port_taken", port=port, what=what, host=host, hint=hint)) from None


_scheduler_lock: IO[str] | None = None  # held open for the life of the process


def claim_scheduler(settings: Settings) -> None:
    """On SQLite, be the only process running the reminder jobs on this database file, or refuse with the
    reason. (On PostgreSQL a second scheduler waits as a standby: scheduler/wiring.py, the leader lock.)"""
    global _scheduler_lock
    import fcntl

    from bot.commands.text import CommandError, t

    path = settings.database_url.split(":///", 1)[-1] if settings.is_sqlite else ""
    if not path or path == ":memory:" or _scheduler_lock is not None:
        return
    lock_path = Path(path).with_name(Path(path).name + ".scheduler.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    f = lock_path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise CommandError(t("errors.scheduler_running", database=path, pid=holder)) from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    _scheduler_lock = f
