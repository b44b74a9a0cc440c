"""The webhook's database work, done in shared transactions (group commit), through the DB-API driver.

A message costs a read and one write: `peek` (its dedupe record and the follower as stored), then, once its
answer is known, `settle` (claim the key and complete the message: follower, reply for retries, in one
transaction; a delivery that finds the key taken is a retry). A message whose answer needs
the database (binding, payment status) is claimed before it is answered: `arrive` (claim, load the
follower), then `complete`. See bot/wechat/inbox.py. Whatever arrives while a transaction is running goes
into the next one, so under load one transaction serves many messages. A batch that fails is retried one
operation at a time, so one bad message cannot fail its neighbours.

What a transaction costs is mostly the pages it rewrites, and a message's rows land on random pages (its
follower's row, its follower's entry in message_log's openid index). So: a follower's timestamps are not
rewritten while the stored ones are fresh (bot.store.followers.TOUCH_INTERVAL_S), and message_log rows are
written in bulk, at most LOG_INTERVAL_S after they were made (with the batch running then), where many
share their pages. The message's reply is committed with its claim, as before: a crash (or a power cut with
synchronous=NORMAL) may lose the last second of message_log rows, never a claim or a reply that went out.

The statements are plain SQL run by the driver (bot/wechat/sql.py): sqlite3 on SQLite, asyncpg on
PostgreSQL. SQLAlchemy Core's per-row parameter processing cost more than the database work itself.

PostgreSQL runs up to MAX_INFLIGHT batches at once, each on a connection of the app's engine (kept between
batches), with each table's rows passed as arrays (one statement per table and batch); peeks ride along
with the batches. SQLite runs one batch at a time (one write lock), inline on a synchronous sqlite3
connection: SQLite is in-process and a batch takes about a millisecond, while a thread (aiosqlite's, or one
of ours) would make the event loop and the database take turns for the GIL on every call; a peek is read
at once on the same connection, between batches. That connection never waits for the lock inside SQLite
(busy_timeout=0, BEGIN IMMEDIATE); when another process holds it, the batch backs off asynchronously and
tries again, so the event loop is never blocked. It also uses synchronous=NORMAL (WAL): a power cut may
lose the last transactions' dedupe records and follower timestamps, never corrupt the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.pipeline import Speaker
from bot.store.followers import STALE, TOUCH_INTERVAL_S, FollowerWrite, Fresh
from bot.wechat import dedupe, sql

log = logging.getLogger("yibao.wechat.store")

MAX_BATCH = 500
MAX_INFLIGHT = 4  # PostgreSQL batches running at once (SQLite: one)
LOG_INTERVAL_S = 1.0  # message_log rows are written in bulk, at most this long after the oldest of them
MAX_LOG_ROWS = 1000  # ... or as soon as there are this many
LOCK_WAIT_S = 30.0  # how long a batch keeps trying while another process holds SQLite's write lock
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
    "busy_timeout=0",
    "cache_size=-32000",  # 32 MB: the followers' and indexes' pages stay in memory
    "wal_autocheckpoint=0",  # checkpoints run in a thread (_SQLite.before_batch), not inside our COMMITs
    "journal_size_limit=67108864",  # a restarted WAL file is truncated back to 64 MB
)
CHECKPOINT_INTERVAL_S = 0.5
CHECKPOINT_TAIL_S = 0.002  # a PASSIVE round this short leaves little for the RESTART to copy
CHECKPOINT_ROUNDS = 4  # PASSIVE rounds at most before the RESTART
TOUCH_AGE = dt.timedelta(seconds=TOUCH_INTERVAL_S)
MEMO_SIZE = 200_000  # followers' rows remembered by the SQLite store (then it reads the others each time)
MEMO_RECHECK_S = 0.001  # how often it asks SQLite whether another connection wrote
CHANGES_KEPT = 100_000  # follower_changes rows kept (a store further behind forgets every row it remembers)
PRUNE_EVERY = 1000  # batches


def sqlite_path(settings: Settings) -> str:
    """The file of a sqlite:// URL (`:memory:` for none)."""
    path = settings.sync_database_url.split("://", 1)[1].removeprefix("/").split("?", 1)[0]
    return path or ":memory:"


def connect_sqlite(settings: Settings) -> sqlite3.Connection:
    """The store's own SQLite connection (used from the event loop's thread only); transactions by hand."""
    path = sqlite_path(settings)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=32)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _locked(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        exc = exc.orig  # type: ignore[assignment]
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    return "locked" in str(exc) or "busy" in str(exc)


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


@dataclass
class _Settle:
    """Claim a message and complete it in one: its answer is already known (bot.wechat.inbox's fast path).
    Its writes and logs count only if the claim succeeds; the result says whether it did."""

    key: str
    openid: str
    at: dt.datetime
    reply: str | None
    writes: list[FollowerWrite]
    logs: list[dict[str, Any]]
    done: asyncio.Future


@dataclass
class _Peek:
    """Read a message's dedupe record and its sender's row (PostgreSQL: batched like the writes)."""

    key: str
    openid: str
    since: dt.datetime  # the follower's timestamps are fresh when younger than this
    done: asyncio.Future


Op = _Arrival | _Completion | _Settle | _Peek


def _writes(ops: list[Op], settled: set[str]) -> list[FollowerWrite]:
    """The follower writes of a batch's completions and winning settles, in order. (A key settled twice in
    one batch: the first won.)"""
    writes: list[FollowerWrite] = []
    won = set(settled)
    for op in ops:
        if isinstance(op, _Completion) or (isinstance(op, _Settle) and op.key in won):
            if isinstance(op, _Settle):
                won.discard(op.key)
            writes.extend(op.writes)
    return writes


def _results(ops: list[Op], settled: set[str], speakers: list[Speaker | None],
             peeked: dict[tuple[str, str], Any] | None = None) -> list[Any]:
    """Per operation: the speaker of an arrival, whether a settle claimed its key, what a peek read, None
    for a completion."""
    won, loaded = set(settled), iter(speakers)
    out: list[Any] = []
    for op in ops:
        if isinstance(op, _Arrival):
            out.append(next(loaded))
        elif isinstance(op, _Settle):
            out.append(op.key in won)
            won.discard(op.key)
        elif isinstance(op, _Peek):
            out.append(peeked[op.key, op.openid] if peeked is not None else None)
        else:
            out.append(None)
    return out


Peeked = tuple[dedupe.Seen | None, Speaker, Fresh]


def _peeked(seen: dedupe.Seen | None, follower: Any, openid: str, since: Any) -> Peeked:
    """From the follower's columns a peek read (sql.PEEK_FOLLOWER; all None for a stranger): the follower and
    whether their timestamps are fresh, i.e. not older than `since` (as the driver gives them: text on
    SQLite, datetimes on PostgreSQL)."""
    *row, interaction, message, sends = follower
    if row[0] is None:
        return seen, Speaker(openid=openid), STALE
    fresh = interaction is not None and interaction >= since
    return seen, _speaker(row), Fresh(fresh, fresh and message is not None and message >= since and not sends)


# A follower's row as the SQLite store remembers it (sql.PEEK_FOLLOWER's columns):
# column -> (its place in the row, how it is stored)
_MEMO_AT = {column: (i, sql.follower_converter(sql.SQLITE, column)) for i, column in enumerate(sql.PEEK_FOLLOWER)}
_MEMO_NEW = (None, None, None, None, "{}", None, None, 0)  # a new row: the model's defaults


def _after(row: tuple[Any, ...] | None, write: FollowerWrite) -> tuple[Any, ...] | None:
    """The remembered row after `write` (an upsert: a new row gets `values`, an existing one the columns in
    `update`); None when the row before it is not known."""
    if row is None:
        return None
    if row[0] is None:
        new, changed = [write.openid, *_MEMO_NEW[1:]], write.values
    else:
        new, changed = list(row), {column: write.values[column] for column in write.update}
    for column, value in changed.items():
        if (at := _MEMO_AT.get(column)) is not None:
            i, convert = at
            new[i] = convert(value) if convert else value
    return tuple(new)


def _speaker(row: Any) -> Speaker:
    openid, county, township, resident_id, state = row
    return Speaker(openid=openid, region=county, township=township, resident_id=resident_id,
                   state=sql.load_state(state))


def _speakers_in_order(arrivals: list[_Arrival], claimed: set[str], known: dict[str, Speaker]) -> list[Speaker | None]:
    speakers: list[Speaker | None] = []
    for a in arrivals:
        first = a.key in claimed
        claimed.discard(a.key)  # the same key twice in one batch: the second is a retry
        speakers.append((known.get(a.openid) or Speaker(openid=a.openid)) if first else None)
    return speakers


def _finish_rows(completions: list[_Completion]) -> dict[str, tuple[str, str | None]]:
    """key -> (status, reply); of two completions of one key in a batch the last wins."""
    return {c.key: (c.status, c.reply) for c in completions}


@dataclass
class _Prepared:
    ops: list[Op]
    settles: list[tuple[Any, ...]]  # SQLITE_SETTLE's parameters, per settle in `ops`
    logs: list[tuple[Any, ...]]  # SQLITE_LOG's


class _SQLite:
    """A batch on the store's sqlite3 connection, in one transaction.

    Checkpoints (copying the WAL into the database file, with an fsync) would otherwise run inside every
    thousandth page's COMMIT, on the event loop, for tens of milliseconds. Here a thread does them, on a
    connection of its own (sqlite3 releases the GIL meanwhile), every CHECKPOINT_INTERVAL_S while there are
    writes: first PASSIVE, alongside the batches, for the bulk of the pages (again, while a round is long);
    then, with this store's writer paused, RESTART for the few pages written meanwhile, which lets the next
    transaction start the WAL file from its beginning again (a checkpoint racing an active writer never
    completes, and the WAL would grow without end). Other connections to the file keep SQLite's automatic
    checkpoint.
    """

    dialect = sql.SQLITE

    def __init__(self, settings: Settings):
        self.conn = connect_sqlite(settings)
        self.path = sqlite_path(settings)
        self.written = False  # since the last checkpoint
        self._checkpointer: sqlite3.Connection | None = None
        self._bulk: asyncio.Future | None = None  # a PASSIVE round in a thread
        self._rounds = 0
        self._next_checkpoint = 0.0
        # followers' rows as this connection last read or wrote them (see `peek`)
        self._memo: dict[str, tuple[Any, ...]] = {}
        self._version: int | None = None  # SQLite's data_version when last looked at
        self._version_read = -1.0
        self._seen_changes: int | None = None  # the last follower_changes row taken into account
        self._batches = 0

    def _checkpoint(self, mode: str) -> float:
        """In a worker thread, one at a time; how long it took."""
        started = time.perf_counter()
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # RESTART waits this long for another process's writer (ours is paused)
            self._checkpointer.execute("PRAGMA busy_timeout=200")
        self._checkpointer.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
        return time.perf_counter() - started

    async def before_batch(self) -> None:
        """The writer calls this before each batch: start a checkpoint when one is due; carry one on.

        PASSIVE rounds run alongside the batches, each copying what was written during the one before,
        until one is short (CHECKPOINT_TAIL_S); then the RESTART, with the writer paused, has only a few
        pages left to copy."""
        if self.path == ":memory:":
            return
        loop = asyncio.get_running_loop()
        if self._bulk is None:
            if self.written and loop.time() >= self._next_checkpoint:
                self._bulk = loop.run_in_executor(None, self._checkpoint, "PASSIVE")
                self._rounds = 1
            return
        if not self._bulk.done():
            return
        bulk, self._bulk = self._bulk, None
        try:
            took = bulk.result()
            if took > CHECKPOINT_TAIL_S and self._rounds < CHECKPOINT_ROUNDS:
                self._bulk = loop.run_in_executor(None, self._checkpoint, "PASSIVE")
                self._rounds += 1
                return
            await loop.run_in_executor(None, self._checkpoint, "RESTART")
        except sqlite3.Error as exc:  # e.g. another process checkpointing: the next round does it
            log.debug("checkpoint incomplete: %s", exc)
        self.written = False
        self._next_checkpoint = loop.time() + CHECKPOINT_INTERVAL_S

    @staticmethod
    def prepare(ops: list[Op], logs: list[dict[str, Any]]) -> _Prepared:
        """The parameters that need no database, worked out once, before the write lock is taken: other
        workers wait for it while it is held."""
        settles = [(op.key, op.openid, sql.sqlite_time(op.at), dedupe.DONE, op.reply)
                   for op in ops if isinstance(op, _Settle)]
        return _Prepared(ops, settles, sql.log_rows(sql.SQLITE, logs) if logs else [])

    def run(self, prepared: _Prepared) -> list[Any]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")  # the write lock now, or "locked" at once (busy_timeout=0)
        try:
            self._sync()  # nobody else writes until COMMIT: what is remembered now is what is stored
            result, writes = self._statements(conn, prepared)
            seen = conn.execute(sql.SQLITE_LAST_CHANGE).fetchone()[0] if writes else self._seen_changes
            self._batches += 1
            if self._batches % PRUNE_EVERY == 0 and seen:
                conn.execute(sql.SQLITE_PRUNE_CHANGES, (seen - CHANGES_KEPT,))
            conn.execute("COMMIT")
            self.written = True
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._memo.clear()
            self._seen_changes = None
            raise
        self._seen_changes = seen  # this transaction's own changes are in the rows written below
        written: dict[str, tuple[Any, ...] | None] = {}
        memo = self._memo
        for w in writes:  # the followers' rows as this transaction left them
            written[w.openid] = _after(written[w.openid] if w.openid in written else memo.get(w.openid), w)
        for openid, row in written.items():
            if row is None:
                memo.pop(openid, None)
            elif openid in memo or len(memo) < MEMO_SIZE:
                memo[openid] = row
        return result

    @staticmethod
    def _statements(conn: sqlite3.Connection, prepared: _Prepared) -> tuple[list[Any], list[FollowerWrite]]:
        """The batch's statements: per operation its result, and the follower writes made."""
        ops = prepared.ops
        settled = set()
        for row in prepared.settles:
            if conn.execute(sql.SQLITE_SETTLE, row).rowcount:
                settled.add(row[0])
        writes = _writes(ops, settled)
        # completions first: a follower's next message in the same batch sees the state just saved
        for stmt, rows in sql.follower_upserts(sql.SQLITE, writes):
            conn.executemany(stmt, rows)
        completions = [op for op in ops if isinstance(op, _Completion)]
        if completions:
            finished = _finish_rows(completions)
            conn.executemany(sql.SQLITE_FINISH, [(s, r, k) for k, (s, r) in finished.items()])
        if prepared.logs:
            conn.executemany(sql.SQLITE_LOG, prepared.logs)
        arrivals = [op for op in ops if isinstance(op, _Arrival)]
        return _results(ops, settled, _SQLite._claim(conn, arrivals)), writes

    def peek(self, key: str, openid: str, since: dt.datetime) -> Peeked:
        """Read now, outside any transaction (the batches never leave one open between awaits): the
        message's dedupe record and the follower as stored.

        A follower's row is remembered, with what this connection writes to it, until another connection
        changes it: when SQLite's data_version (read at most every MEMO_RECHECK_S) says another connection
        committed, and before each batch, the rows named in follower_changes since the last look are
        forgotten (triggers on followers fill it, whoever writes: other workers, the binding handler's
        session, the scheduler). So a follower's next messages read nothing, with one worker or several.
        Then the dedupe record is not read either: a retry's settle finds the key taken, and the retry gets
        the first delivery's reply as before. A row may be up to MEMO_RECHECK_S older than a read would
        give, which is no more than the time any answer takes between its read and its write."""
        now = time.monotonic()
        if now - self._version_read > MEMO_RECHECK_S:
            self._version_read = now
            version = self.conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version:  # another connection committed something
                self._version = version
                self._sync()
        row = self._memo.get(openid)
        seen = None
        if row is None:
            status, reply, *row = self.conn.execute(sql.SQLITE_PEEK, (key, openid)).fetchone()
            if status is not None:
                seen = dedupe.Seen(status, reply)
            elif len(self._memo) < MEMO_SIZE:
                self._memo[openid] = tuple(row)
        return _peeked(seen, row, openid, sql.sqlite_time(since))

    def _sync(self) -> None:
        """Forget the remembered rows of followers changed since the last look (follower_changes, which
        triggers fill whoever writes); all of them when that is not known (the first look, a failed
        transaction, or rows pruned before this store read them)."""
        conn, seen = self.conn, self._seen_changes
        if seen is None:
            self._memo.clear()
            self._seen_changes = conn.execute(sql.SQLITE_LAST_CHANGE).fetchone()[0] or 0
            return
        changes = conn.execute(sql.SQLITE_CHANGES, (seen,)).fetchall()
        if not changes:
            return
        if changes[0][0] != seen + 1:  # the ones in between were pruned
            self._memo.clear()
        else:
            memo = self._memo
            for _, openid in changes:
                memo.pop(openid, None)
        self._seen_changes = changes[-1][0]

    @staticmethod
    def _claim(conn: sqlite3.Connection, arrivals: list[_Arrival]) -> list[Speaker | None]:
        claimed: set[str] = set()
        for a in arrivals:
            if conn.execute(sql.SQLITE_CLAIM, (a.key, a.openid, sql.sqlite_time(a.at))).rowcount:
                claimed.add(a.key)
        known: dict[str, Speaker] = {}
        for openid in {a.openid for a in arrivals if a.key in claimed}:
            row = conn.execute(sql.SQLITE_SPEAKER, (openid,)).fetchone()
            if row is not None:
                known[openid] = _speaker(row)
        return _speakers_in_order(arrivals, claimed, known)

    async def close(self) -> None:
        if self._bulk is not None:  # a thread may still be checkpointing: let it finish
            await asyncio.wait([self._bulk])
        if self.path != ":memory:":
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.conn.close()
        if self._checkpointer is not None:
            self._checkpointer.close()


class _Postgres:
    """A batch on an asyncpg connection of the app's engine, in one transaction. Up to MAX_INFLIGHT batches
    run at once, each on a connection of its own (kept between batches): a batch spends its time waiting
    for round trips, and PostgreSQL's unique index and row locks keep concurrent batches apart (a second
    claim of a key waits for the first transaction, then finds the key taken)."""

    dialect = sql.POSTGRES

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self._idle: list[tuple[AsyncConnection, Any]] = []  # (SQLAlchemy connection, its asyncpg connection)
        self._busy: list[tuple[AsyncConnection, Any]] = []

    async def _acquire(self) -> tuple[AsyncConnection, Any]:
        while self._idle:
            held = self._idle.pop()
            if not held[1].is_closed():
                return held
            await self._drop(held)
        conn = await self.engine.connect()
        try:
            return conn, (await conn.get_raw_connection()).driver_connection
        except BaseException:
            await conn.close()
            raise

    @staticmethod
    async def _drop(held: tuple[AsyncConnection, Any]) -> None:
        with contextlib.suppress(Exception):
            await held[0].invalidate()
        with contextlib.suppress(Exception):
            await held[0].close()

    async def run(self, ops: list[Op], logs: list[dict[str, Any]]) -> list[Any]:
        held = await self._acquire()
        self._busy.append(held)
        raw = held[1]
        try:
            if all(isinstance(op, _Peek) for op in ops) and not logs:
                return await self._statements(raw, ops, logs)  # reads only: no transaction
            async with raw.transaction():
                return await self._statements(raw, ops, logs)
        finally:
            self._busy.remove(held)
            if raw.is_closed():
                await self._drop(held)
            else:
                self._idle.append(held)

    @staticmethod
    async def _statements(raw: Any, ops: list[Op], logs: list[dict[str, Any]]) -> list[Any]:
        peeks = [op for op in ops if isinstance(op, _Peek)]
        peeked: dict[tuple[str, str], Any] = {}
        if peeks:
            since = {(op.key, op.openid): op.since for op in peeks}
            for k, o, status, reply, *follower in await raw.fetch(
                sql.PG_PEEK, [op.key for op in peeks], [op.openid for op in peeks]
            ):
                seen = dedupe.Seen(status, reply) if status is not None else None
                peeked[k, o] = _peeked(seen, follower, o, since[k, o])
        settles = [op for op in ops if isinstance(op, _Settle)]
        settled: set[str] = set()
        if settles:
            rows = await raw.fetch(sql.PG_SETTLE, [op.key for op in settles], [op.openid for op in settles],
                                   [op.at for op in settles], [op.reply for op in settles])
            settled = {row[0] for row in rows}
        writes = _writes(ops, settled)
        for stmt, rows in sql.follower_upserts(sql.POSTGRES, writes):
            await raw.executemany(stmt, rows)
        completions = [op for op in ops if isinstance(op, _Completion)]
        if completions:
            finished = _finish_rows(completions)
            await raw.execute(sql.PG_FINISH, list(finished), [s for s, _ in finished.values()],
                              [r for _, r in finished.values()])
        if logs:
            columns = list(zip(*sql.log_rows(sql.POSTGRES, logs), strict=True))
            await raw.execute(sql.PG_LOG, *columns)
        arrivals = [op for op in ops if isinstance(op, _Arrival)]
        return _results(ops, settled, await _Postgres._claim(raw, arrivals), peeked)

    @staticmethod
    async def _claim(raw: Any, arrivals: list[_Arrival]) -> list[Speaker | None]:
        if not arrivals:
            return []
        rows = await raw.fetch(sql.PG_CLAIM, [a.key for a in arrivals], [a.openid for a in arrivals],
                               [a.at for a in arrivals])
        claimed = {row[0] for row in rows}
        wanted = sorted({a.openid for a in arrivals if a.key in claimed})
        known: dict[str, Speaker] = {}
        if wanted:
            for row in await raw.fetch(sql.PG_SPEAKERS, wanted):
                known[row[0]] = _speaker(row)
        return _speakers_in_order(arrivals, claimed, known)

    async def close(self) -> None:
        for held in self._idle + self._busy:
            await self._drop(held)
        self._idle, self._busy = [], []


class WebhookStore:
    def __init__(self, settings: Settings, engine: AsyncEngine, workers_lock: Any = None):
        """`workers_lock`: a multiprocessing lock shared by the workers of one `yibao serve --workers N` (see
        `_apply`)."""
        self.engine = engine
        self.backend: _SQLite | _Postgres = _SQLite(settings) if settings.is_sqlite else _Postgres(engine)
        self.workers_lock = workers_lock if settings.is_sqlite else None
        self._ops: list[Op] = []
        self._logs: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._inflight: set[asyncio.Task] = set()  # PostgreSQL batches running
        self._closing = False
        self._logs_due = 0.0  # loop time by which the buffered message_log rows are written
        self._flushing: list[asyncio.Future] = []  # flush_logs() callers waiting for the next log write

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

    async def peek(self, key: str, openid: str, at: dt.datetime) -> Peeked:
        """The message's dedupe record (None: never seen), the follower as stored, and whether their
        timestamps are fresh at `at` (bot.store.followers.TOUCH_INTERVAL_S): on SQLite read at once (no
        transaction is open between awaits), on PostgreSQL with the next batch."""
        since = (at - TOUCH_AGE).replace(microsecond=0)  # to the second: its text is formatted once a second
        if isinstance(self.backend, _SQLite):
            return self.backend.peek(key, openid, since)
        return await self._submit(_Peek(key, openid, since, asyncio.get_running_loop().create_future()))

    async def settle(
        self, key: str, openid: str, at: dt.datetime, reply: str | None, writes: list[FollowerWrite],
        logs: list[dict[str, Any]],
    ) -> bool:
        """Claim `key` and complete it with `reply` and `writes`, in one transaction, and buffer `logs`; False
        (and nothing written or buffered) when another delivery claimed it first."""
        future = asyncio.get_running_loop().create_future()
        return await self._submit(_Settle(key, openid, at, reply, writes, logs, future))

    def log(self, row: dict[str, Any]) -> None:
        """A message_log row, written within LOG_INTERVAL_S (see `_logs_ready`)."""
        if not self._logs:
            self._logs_due = asyncio.get_running_loop().time() + LOG_INTERVAL_S
            self._wake.set()  # an idle writer learns when to wake up for them
        self._logs.append(row)
        if len(self._logs) == MAX_LOG_ROWS:
            self._wake.set()

    async def flush_logs(self) -> None:
        """Write the buffered message_log rows now (tests, and anyone about to read the log)."""
        if not self._logs:
            return
        future = asyncio.get_running_loop().create_future()
        self._flushing.append(future)
        self._wake.set()
        await future

    def _logs_ready(self) -> bool:
        """message_log rows are written in bulk: a row arriving with a batch's rows for the same follower lands
        on the same index page, so the pages rewritten per row are far fewer than with a write per message.
        They go with the batch that runs once the oldest has waited LOG_INTERVAL_S, or once there are
        MAX_LOG_ROWS of them, or on a flush or close."""
        return bool(self._logs) and (
            self._closing or bool(self._flushing) or len(self._logs) >= MAX_LOG_ROWS
            or asyncio.get_running_loop().time() >= self._logs_due
        )

    async def _submit(self, op: Op) -> Any:
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
        await self.backend.close()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._ops or self._logs or not self._closing:
            if not self._ops and not self._logs_ready():
                if not self._logs:
                    await self._wake.wait()
                else:  # log rows alone wait until they are due
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), max(0.0, self._logs_due - loop.time()))
                self._wake.clear()
                continue
            await asyncio.sleep(0)  # let the requests that are ready join this batch
            if isinstance(self.backend, _SQLite):
                await self.backend.before_batch()
            elif len(self._inflight) >= MAX_INFLIGHT:
                await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
            ops, self._ops = self._ops[:MAX_BATCH], self._ops[MAX_BATCH:]
            logs: list[dict[str, Any]] = []
            flushed: list[asyncio.Future] = []
            if self._logs_ready():
                logs, self._logs = self._logs, []
                flushed, self._flushing = self._flushing, []
            if isinstance(self.backend, _SQLite):  # one writer: SQLite has one write lock
                await self._batch(ops, logs, flushed)
            else:
                task = asyncio.create_task(self._batch(ops, logs, flushed))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
        if self._inflight:
            await asyncio.wait(set(self._inflight))

    async def _batch(self, ops: list[Op], logs: list[dict[str, Any]], flushed: list[asyncio.Future]) -> None:
        try:
            results = await self._apply_safely(ops, logs)
        finally:
            for future in flushed:
                if not future.done():
                    future.set_result(None)
        for op, (ok, value) in zip(ops, results, strict=True):
            if ok and (isinstance(op, _Completion) or (isinstance(op, _Settle) and value)):
                for row in op.logs:  # the message is answered for good: its log rows may follow
                    self.log(row)
            if op.done.done():
                continue
            if ok:
                op.done.set_result(value)
            else:
                op.done.set_exception(value)

    async def _apply_safely(self, ops: list[Op], logs: list[dict[str, Any]]) -> list[tuple[bool, Any]]:
        """Per operation (ok, result or exception): the batch in one transaction, else one at a time."""
        try:
            return [(True, r) for r in await self._apply(ops, logs)]
        except Exception as exc:
            if _locked(exc):  # waited LOCK_WAIT_S already: one by one would wait that long for each
                log.error("database locked for %.0fs: %d operations failed", LOCK_WAIT_S, len(ops))
                return [(False, exc)] * len(ops)
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

    async def _apply(self, ops: list[Op], logs: list[dict[str, Any]]) -> list[Any]:
        """One transaction; on SQLite, tried again (without blocking) while another process holds the lock.

        Workers of one `yibao serve` first take their shared lock, waiting for it in a thread: a worker
        whose batch waits is woken the moment the other's is done, where polling SQLite's lock would sleep
        a millisecond or more (the event loop's timer resolution), idle, with its answers waiting. The lock
        only schedules: SQLite's own lock keeps the data safe, so a lock not had within LOCK_WAIT_S (a
        worker killed holding it) is done without."""
        backend = self.backend
        if isinstance(backend, _Postgres):
            return await backend.run(ops, logs)
        lock = self.workers_lock
        if lock is None or lock.acquire(False):
            held = lock is not None
        else:
            held = await asyncio.get_running_loop().run_in_executor(None, lock.acquire, True, LOCK_WAIT_S)
        try:
            return await self._apply_sqlite(backend, ops, logs)
        finally:
            if held:
                lock.release()

    async def _apply_sqlite(self, backend: _SQLite, ops: list[Op], logs: list[dict[str, Any]]) -> list[Any]:
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + LOCK_WAIT_S, 0.001
        prepared = backend.prepare(ops, logs)
        while True:
            try:
                return backend.run(prepared)
            except sqlite3.OperationalError as exc:
                if not _locked(exc) or loop.time() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)
