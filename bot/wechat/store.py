"""The webhook's database work, done in shared transactions (group commit).

A message costs two awaits: `arrive` (claim its dedupe key, load the follower) and `complete` (save the
follower, store the reply for retries, write its message_log rows). Whatever arrives while a transaction
is running goes into the next one, so under load one transaction serves many messages, and a process never
has two of its own writers queueing for the database lock. A batch that fails is retried one operation at
a time, so one bad message cannot fail its neighbours.

PostgreSQL runs the batch on the app's async engine. SQLite runs it inline on a synchronous connection:
SQLite is in-process and a batch takes about a millisecond, while a thread (aiosqlite's, or one of ours)
would make the event loop and the database take turns for the GIL on every call. That connection never
waits for the lock inside SQLite (busy_timeout=0); when another process holds it, the batch backs off
asynchronously and tries again, so the event loop is never blocked. It also uses synchronous=NORMAL (WAL):
a power cut may lose the last transactions' dedupe records and follower timestamps, never corrupt the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.pipeline import Speaker
from bot.store import followers
from bot.store.followers import FollowerWrite
from bot.store.models import MessageLog
from bot.wechat import dedupe

log = logging.getLogger("yibao.wechat.store")

MAX_BATCH = 500
LOG_INTERVAL_S = 0.2  # message_log rows wait at most this long for a batch to ride along with
LOCK_WAIT_S = 30.0  # how long a batch keeps trying while another process holds SQLite's write lock
_LOG = insert(MessageLog.__table__)


def make_sqlite_engine(settings: Settings) -> Engine:
    """The store's own synchronous SQLite connection (used from the event loop's thread only)."""
    engine = create_engine(settings.sync_database_url, pool_size=1, max_overflow=0)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=0"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    return engine


def _locked(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig) or "busy" in str(exc.orig)


class _Inline:
    """A synchronous connection behind the async connection's `execute`, run on the event loop's thread."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.dialect = conn.dialect

    async def execute(self, stmt: Any, params: Any = None) -> Any:
        return self.conn.execute(stmt, params)


@dataclass
class _Arrival:
    key: str
    openid: str
    at: dt.datetime
    done: asyncio.Future


@dataclass
class _Completion:
    key: str
    status: str
    reply: str | None
    writes: list[FollowerWrite]
    logs: list[dict[str, Any]]
    done: asyncio.Future


class WebhookStore:
    def __init__(self, settings: Settings, engine: AsyncEngine):
        self.engine = engine
        self.sqlite = make_sqlite_engine(settings) if settings.is_sqlite else None
        self._ops: list[_Arrival | _Completion] = []
        self._logs: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closing = False

    async def arrive(self, key: str, openid: str, at: dt.datetime) -> Speaker | None:
        """The follower as stored, for the first delivery of `key`; None when it is a retry."""
        return await self._submit(_Arrival(key, openid, at, asyncio.get_running_loop().create_future()))

    async def complete(
        self,
        key: str,
        status: str,
        reply: str | None,
        writes: list[FollowerWrite] | None = None,
        logs: list[dict[str, Any]] | None = None,
    ) -> None:
        future = asyncio.get_running_loop().create_future()
        await self._submit(_Completion(key, status, reply, writes or [], logs or [], future))

    def log(self, row: dict[str, Any]) -> None:
        """A message_log row, written with the next transaction (within LOG_INTERVAL_S)."""
        self._logs.append(row)
        self._wake.set()

    async def _submit(self, op: _Arrival | _Completion) -> Any:
        if self._task is None or self._closing:
            raise RuntimeError("the webhook store is not running")
        self._ops.append(op)
        self._wake.set()
        return await op.done

    # -- the writer --------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-store")

    async def close(self) -> None:
        """Finish every queued operation and log row, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self.sqlite is not None:
            self.sqlite.dispose()

    async def _run(self) -> None:
        while self._ops or self._logs or not self._closing:
            if not self._ops:
                if not self._logs:
                    await self._wake.wait()
                elif not self._closing:  # log rows alone wait a little for company
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), LOG_INTERVAL_S)
                self._wake.clear()
                if not self._ops and not self._logs:
                    continue
            await asyncio.sleep(0)  # let the requests that are ready join this batch
            ops, self._ops = self._ops[:MAX_BATCH], self._ops[MAX_BATCH:]
            logs, self._logs = self._logs, []
            for op, (ok, value) in zip(ops, await self._apply_safely(ops, logs), strict=True):
                if op.done.done():
                    continue
                if ok:
                    op.done.set_result(value)
                else:
                    op.done.set_exception(value)

    async def _apply_safely(
        self, ops: list[_Arrival | _Completion], logs: list[dict[str, Any]]
    ) -> list[tuple[bool, Any]]:
        """Per operation (ok, result or exception): the batch in one transaction, else one at a time."""
        try:
            return [(True, r) for r in await self._apply(ops, logs)]
        except OperationalError as exc:
            if _locked(exc):  # waited LOCK_WAIT_S already: one by one would wait that long for each
                log.error("database locked for %.0fs: %d operations failed", LOCK_WAIT_S, len(ops))
                return [(False, exc)] * len(ops)
            log.warning("a batch of %d failed; retrying one by one", len(ops), exc_info=True)
        except Exception:
            log.warning("a batch of %d failed; retrying one by one", len(ops), exc_info=True)
        results: list[tuple[bool, Any]] = []
        for op in ops:
            try:
                results.append((True, (await self._apply([op], []))[0]))
            except Exception as exc:
                results.append((False, exc))
        if logs:
            try:
                await self._apply([], logs)
            except Exception:
                log.exception("%d message_log rows could not be written", len(logs))
        return results

    async def _apply(self, ops: list[_Arrival | _Completion], logs: list[dict[str, Any]]) -> list[Any]:
        """One transaction; on SQLite, tried again (without blocking) while another process holds the lock."""
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + LOCK_WAIT_S, 0.001
        while True:
            try:
                async with self._transaction() as conn:
                    return await self._statements(conn, ops, logs)
            except OperationalError as exc:
                if self.sqlite is None or not _locked(exc) or loop.time() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Inline | AsyncConnection]:
        if self.sqlite is not None:
            with self.sqlite.begin() as conn:
                yield _Inline(conn)
        else:
            async with self.engine.begin() as conn:
                yield conn

    async def _statements(
        self, conn: _Inline | AsyncConnection, ops: list[_Arrival | _Completion], logs: list[dict[str, Any]]
    ) -> list[Any]:
        arrivals = [op for op in ops if isinstance(op, _Arrival)]
        completions = [op for op in ops if isinstance(op, _Completion)]
        # completions first: a follower's next message in the same batch sees the state just saved
        for stmt, rows in followers.upserts(conn.dialect.name, (w for c in completions for w in c.writes)):
            await conn.execute(stmt, rows)
        if completions:
            await conn.execute(dedupe.FINISH, [{"k": c.key, "s": c.status, "r": c.reply} for c in completions])
        logs = logs + [row for c in completions for row in c.logs]
        if logs:
            await conn.execute(_LOG, logs)
        speakers = iter(await self._claim(conn, arrivals))
        return [next(speakers) if isinstance(op, _Arrival) else None for op in ops]

    @staticmethod
    async def _claim(conn: _Inline | AsyncConnection, arrivals: list[_Arrival]) -> list[Speaker | None]:
        if not arrivals:
            return []
        rows = [dedupe.claim_row(a.key, a.openid, a.at) for a in arrivals]
        claimed = {row.key for row in await conn.execute(dedupe.claim_statement(conn.dialect.name), rows)}
        wanted = {a.openid for a in arrivals if a.key in claimed}
        known = {}
        if wanted:
            for row in await conn.execute(followers.SPEAKERS, {"openids": sorted(wanted)}):
                known[row.openid] = followers.speaker_from_row(row)
        speakers: list[Speaker | None] = []
        for a in arrivals:
            first = a.key in claimed
            claimed.discard(a.key)  # the same key twice in one batch: the second is a retry
            speakers.append((known.get(a.openid) or Speaker(openid=a.openid)) if first else None)
        return speakers
