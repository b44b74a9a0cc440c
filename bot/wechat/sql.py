"""The webhook store's statements as plain SQL for the DB-API drivers (sqlite3, asyncpg), without SQLAlchemy.

The hot path of every message is a handful of rows in three tables (inbound_messages, followers,
message_log). Through SQLAlchemy Core each row costs tens of microseconds of parameter processing; as
prepared statements run by the driver itself it costs a few. The statements and their parameter
conversions are derived from the models (bot/store/models.py), so a column's type or default is written
once: a timezone-aware datetime is stored as UTC (on SQLite in the text format SQLAlchemy writes, so
SQLAlchemy reads the rows back unchanged and compares them correctly), JSON as `json.dumps` text, and a
column left out of an insert gets the model's default, as a Core insert would.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import JSON, Column, Table

from bot.store import followers
from bot.store.followers import FollowerWrite
from bot.store.models import Follower, UtcDateTime

SQLITE = "sqlite"
POSTGRES = "postgresql"

_FOLLOWERS: Table = Follower.__table__

Convert = Callable[[Any], Any]


@lru_cache(maxsize=256)  # a message's time is written four times (dedupe row, follower, message_log)
def sqlite_time(value: dt.datetime | None) -> str | None:
    """An aware datetime as SQLAlchemy stores it on SQLite: UTC, `YYYY-MM-DD HH:MM:SS.ffffff`."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: every datetime must carry its time zone")
    return value.astimezone(dt.UTC).isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def pg_time(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime: every datetime must carry its time zone")
    return value


def _json(value: Any) -> str:
    return "{}" if value == {} else json.dumps(value)  # most followers have no conversation state


def time_converter(dialect: str) -> Convert:
    return sqlite_time if dialect == SQLITE else pg_time


def _converter(dialect: str, column: Column) -> Convert | None:
    if isinstance(column.type, UtcDateTime):
        return time_converter(dialect)
    if isinstance(column.type, JSON):
        return _json
    return None


def _placeholders(dialect: str, n: int) -> str:
    return ", ".join("?" if dialect == SQLITE else f"${i}" for i in range(1, n + 1))


def _default(column: Column) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # type: ignore[attr-defined]  # SQLAlchemy wraps it to take a context
    return default.arg  # type: ignore[attr-defined]


@cache
def _follower_upsert(
    dialect: str, given: tuple[str, ...], update: tuple[str, ...]
) -> tuple[str, tuple[Convert | None, ...], tuple[Any, ...]]:
    """INSERT ... ON CONFLICT (openid) DO UPDATE for writes giving the columns `given`: the SQL, the
    converters of `given`, and the (converted) model defaults of the other non-nullable columns."""
    cols = _FOLLOWERS.c
    defaulted = [c for c in cols if c.name not in given and c.name != "openid" and c.default is not None]
    names = ["openid", *given, *(c.name for c in defaulted)]
    converters = tuple(_converter(dialect, cols[name]) for name in given)
    defaults = []
    for c in defaulted:
        convert = _converter(dialect, c)
        value = _default(c)
        defaults.append(convert(value) if convert else value)
    sets = ", ".join(f"{name} = excluded.{name}" for name in update)
    sql = (
        f"INSERT INTO followers ({', '.join(names)}) VALUES ({_placeholders(dialect, len(names))}) "
        f"ON CONFLICT (openid) DO UPDATE SET {sets}"
    )
    return sql, converters, tuple(defaults)


@cache
def follower_converter(dialect: str, column: str) -> Convert | None:
    """How the upserts below pass a value of the followers column `column` to the driver (None: as it is)."""
    return _converter(dialect, _FOLLOWERS.c[column])


def follower_upserts(dialect: str, writes: Iterable[FollowerWrite]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """One executemany per run of writes of one kind, in order (`bot.store.followers.runs`): the same as
    running the writes one by one. (The driver runs an executemany row by row, so a follower may appear
    twice in one.)"""
    out = []
    for run in followers.runs(writes):
        sql, converters, defaults = _follower_upsert(dialect, tuple(run[0].values), run[0].update)
        rows = []
        for w in run:
            values = [
                convert(v) if convert else v for convert, v in zip(converters, w.values.values(), strict=True)
            ]
            rows.append((w.openid, *values, *defaults))
        out.append((sql, rows))
    return out


# -- SQLite (sqlite3, qmark) ------------------------------------------------------------------------------

SQLITE_CLAIM = (
    "INSERT INTO inbound_messages (key, openid, received_at, status, reply) VALUES (?, ?, ?, 'processing', NULL) "
    "ON CONFLICT (key) DO NOTHING"
)
SQLITE_SETTLE = (  # key, openid, received_at, status, reply
    "INSERT INTO inbound_messages (key, openid, received_at, status, reply) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (key) DO NOTHING"
)
# The follower columns a peek reads, in this order (bot.wechat.store keeps rows in this shape).
PEEK_FOLLOWER = ("openid", "county", "township", "resident_id", "state", "last_interaction_at", "last_message_at",
                 "window_sends")
_PEEK_COLUMNS = ", ".join(f"f.{c}" for c in PEEK_FOLLOWER)
# A message's dedupe record and its sender's row, in one statement (one read transaction): key, openid.
SQLITE_PEEK = (
    f"SELECT m.status, m.reply, {_PEEK_COLUMNS} "
    "FROM (SELECT ? AS k, ? AS o) AS q LEFT JOIN inbound_messages AS m ON m.key = q.k "
    "LEFT JOIN followers AS f ON f.openid = q.o"
)
# follower_changes (filled by triggers on followers, migration 0002): since a row, the last row, pruning
SQLITE_CHANGES = "SELECT seq, openid FROM follower_changes WHERE seq > ? ORDER BY seq"
SQLITE_LAST_CHANGE = "SELECT max(seq) FROM follower_changes"
SQLITE_PRUNE_CHANGES = "DELETE FROM follower_changes WHERE seq <= ?"
SQLITE_SPEAKER = "SELECT openid, county, township, resident_id, state FROM followers WHERE openid = ?"
SQLITE_FINISH = "UPDATE inbound_messages SET status = ?, reply = ? WHERE key = ?"  # status, reply, key
SQLITE_LOG = (
    "INSERT INTO message_log (openid, direction, msg_type, content, intent, created_at, reply_key) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

# -- PostgreSQL (asyncpg, numbered): arrays in, one statement per batch -----------------------------------

PG_CLAIM = (
    "INSERT INTO inbound_messages (key, openid, received_at, status) "
    "SELECT k, o, t, 'processing' FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(k, o, t) "
    "ON CONFLICT (key) DO NOTHING RETURNING key"
)
PG_SETTLE = (
    "INSERT INTO inbound_messages (key, openid, received_at, status, reply) "
    "SELECT k, o, t, 'done', r FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[]) AS u(k, o, t, r) "
    "ON CONFLICT (key) DO NOTHING RETURNING key"
)
PG_PEEK = (  # keys, openids: per pair, the dedupe record and the follower's row
    f"SELECT q.k, q.o, m.status, m.reply, {_PEEK_COLUMNS} "
    "FROM unnest($1::text[], $2::text[]) AS q(k, o) LEFT JOIN inbound_messages AS m ON m.key = q.k "
    "LEFT JOIN followers AS f ON f.openid = q.o"
)
PG_SPEAKERS = "SELECT openid, county, township, resident_id, state FROM followers WHERE openid = ANY($1::text[])"
PG_FINISH = (
    "UPDATE inbound_messages AS m SET status = u.s, reply = u.r "
    "FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, s, r) WHERE m.key = u.k"
)
PG_LOG = (
    "INSERT INTO message_log (openid, direction, msg_type, content, intent, created_at, reply_key) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], "
    "$7::text[])"
)
LOG_COLUMNS = ("openid", "direction", "msg_type", "content", "intent", "created_at", "reply_key")


def log_rows(dialect: str, rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """message_log rows (dicts from bot.wechat.message_log.log_row) as parameter tuples."""
    at = time_converter(dialect)
    return [
        (r["openid"], r["direction"], r["msg_type"], r.get("content", ""), r.get("intent"), at(r["created_at"]),
         r.get("reply_key"))
        for r in rows
    ]


def load_state(raw: Any) -> dict[str, Any]:
    """The `state` column as read by the driver: JSON text, or already decoded by a registered codec."""
    if raw is None or raw == "{}":
        return {}
    if isinstance(raw, str | bytes):
        raw = json.loads(raw)
    return dict(raw or {})
