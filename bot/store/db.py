"""Engine and sessions for the configured database (async drivers: aiosqlite, asyncpg), the one place the
SQL dialects differ in what the bot writes (INSERT ... ON CONFLICT), and `execute_many` for bulk writes.

SQLite is set up here, once, for every connection: WAL (readers and one writer work together, and the
workers of `yibao serve --workers N` share the file), synchronous=NORMAL (a power cut may lose the last
transactions, never corrupt the file), foreign keys, and a busy timeout: a connection waits for another's
write lock (in the driver's thread, not on the event loop) instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Insert, Table, UpdateBase, create_engine, event
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


@dataclass(frozen=True)
class _Bulk:
    """A DML statement compiled for one dialect and one set of row keys: its SQL, and per parameter position
    the key it takes, the value when the rows leave it out (the column's constant default) and the type's
    conversion to the driver's form."""

    sql: str
    plan: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple([values.get(key, default) if convert is None else convert(values.get(key, default))
                      for key, default, convert in self.plan])


_BULKS: dict[tuple[UpdateBase, str, str, tuple[str, ...]], _Bulk] = {}  # by statement, dialect, driver, keys


def _bulk(stmt: UpdateBase, dialect: Dialect, keys: tuple[str, ...]) -> _Bulk:
    found = _BULKS.get((stmt, dialect.name, dialect.driver, keys))
    if found is not None:
        return found
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    plan = []
    for name in compiled.positiontup or ():
        default = None
        if name not in keys:  # a column the rows leave out: Core would fill in its default
            column_default = stmt.table.c[name].default  # type: ignore[attr-defined]
            if column_default is None or not column_default.is_scalar:
                raise ValueError(f"execute_many: the rows must give {name} (its default is not a constant)")
            default = column_default.arg
        convert = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        plan.append((name, default, convert))
    bulk = _BULKS[stmt, dialect.name, dialect.driver, keys] = _Bulk(compiled.string, tuple(plan))
    return bulk


def execute_many(conn: Connection, stmt: UpdateBase, rows: list[dict[str, Any]]) -> None:
    """`conn.execute(stmt, rows)` for rows with the same keys, in one executemany of the driver, without
    SQLAlchemy's per-row work (its parameter dictionaries, defaults and type processing for every row): the
    statement is compiled once per dialect and set of keys, and each row becomes a tuple of driver values
    with the same types' bind processors and the columns' constant defaults. In the inbox's batches (bot/store/
    inbox.py) that took the writer's CPU from about 150 to 125 µs a message on the webhook benchmark."""
    if rows:
        bulk = _bulk(stmt, conn.dialect, tuple(rows[0]))
        conn.exec_driver_sql(bulk.sql, [bulk.row(row) for row in rows])
