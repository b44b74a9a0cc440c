"""Engine and sessions for the configured database (async drivers: aiosqlite, asyncpg), and the one place the
SQL dialects differ in what the bot writes: INSERT ... ON CONFLICT.

SQLite is set up here, once, for every connection: WAL (readers and one writer work together, and the
workers of `yibao serve --workers N` share the file), synchronous=NORMAL (a power cut may lose the last
transactions, never corrupt the file), foreign keys, and a busy timeout: a connection waits for another's
write lock (in the driver's thread, not on the event loop) instead of failing.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, Insert, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.config import Settings

SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000")
SQLITE_CONNECT_ARGS = {"timeout": 30}


def sqlite_setup(dbapi_conn: object, _record: object = None) -> None:
    """The pragmas every SQLite connection gets (a "connect" listener)."""
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    for pragma in SQLITE_PRAGMAS:
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def make_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if settings.is_sqlite:
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args=SQLITE_CONNECT_ARGS)
        event.listen(engine.sync_engine, "connect", sqlite_setup)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def sqlite_file_engine(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine (Python's sqlite3 module) on the SQLite file of `engine`, its connections set up
    the same way; None for PostgreSQL or an in-memory database (which another engine would not see). For code
    that runs a whole transaction on a thread of its own (the inbox's writer, bot/store/inbox.py)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    sync = create_engine(url.set(drivername="sqlite"), connect_args=SQLITE_CONNECT_ARGS)
    event.listen(sync, "connect", sqlite_setup)
    return sync


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def insert(dialect: str, table: Table) -> Insert:
    """INSERT into `table` for the dialect named ("postgresql" or "sqlite"): both have
    on_conflict_do_nothing() and on_conflict_do_update()."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
