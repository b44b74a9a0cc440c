"""The webhook's reads and writes: claiming a message, its follower, its stored reply and its log row.

Every worker shares these tables, so any worker can answer any retry:
- inbound_messages: the first delivery of a key claims it (INSERT ... ON CONFLICT DO NOTHING: two workers
  can never both claim a key); a retry finds it and gets the stored reply (`DONE`), or "success" when the
  answer went out later by the customer-service API (`DEFERRED`).
- followers: loaded with the claim; saved with the reply (bot/store/followers.py builds the write).
- message_log: one row per message, IDs and phone numbers masked. A passive reply is not copied into the
  log: the inbound message's row names its key (`reply_key`), and the reply is inbound_messages.reply of that
  key (a conversation is message_log LEFT JOIN inbound_messages ON key = reply_key). Every other message the
  bot sends (customer-service, template) is an "out" row of its own.

Group commit: a message costs two writes, its claim (with its follower loaded) and its completion (follower,
reply and log row). `InboxStore` runs them in shared transactions, one at a time: whatever arrives while one is
running goes into the next, so under load a transaction serves many messages (a transaction per message
caps one SQLite process at a few hundred messages a second). A batch that fails is run again one message at
a time, so one bad message cannot fail its neighbours (unless the database stayed locked past the wait: then
the batch fails at once, as each message alone would wait as long again).

A batch is one synchronous function (`_write_batch`, SQLAlchemy Core on a Connection). On a SQLite file it
runs on the event loop itself, on a synchronous connection (Python's sqlite3) of its own: a batch is a few
milliseconds of work, and running it there costs no thread hop and no contest for the GIL with the loop (on a
thread, every statement gave the GIL up and waited to get it back while the loop ran requests: a batch took
twice as long as its work). Two things keep it from ever stalling the loop:
- Its connection never waits for a lock (busy_timeout=0). When another connection is writing (another worker's
  batch, a console import), the batch fails at once with "database is locked", is rolled back, and is tried
  again a moment later (`LOCKED_PAUSE_S`) while the loop goes on.
- It never checkpoints the WAL (wal_autocheckpoint=0: a checkpoint's fsync takes 10-40 ms). At most every
  `CHECKPOINT_EVERY_S` a PASSIVE checkpoint, which never blocks a writer, runs on a thread on a connection of
  its own.
On PostgreSQL (and an in-memory SQLite) the same function runs on the async engine's connection (`run_sync`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Insert, bindparam, delete, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store import followers
from bot.store.db import execute_many, sqlite_file_engine
from bot.store.db import insert as dialect_insert
from bot.store.followers import FollowerWrite
from bot.store.ids import mask_text
from bot.store.models import InboundMessage, MessageLog
from bot.types import Speaker

log = logging.getLogger("yibao.store.inbox")

_T = InboundMessage.__table__
_LOG = MessageLog.__table__

PROCESSING = "processing"
DONE = "done"  # answered by passive reply; `reply` holds its text (NULL: "success")
DEFERRED = "deferred"  # answered "success"; the text goes (or went) out as a customer-service message

MAX_BATCH = 500  # messages per transaction
LOCKED_PAUSE_S = 0.002  # a SQLite batch that found the database locked is tried again after this
LOCKED_GIVE_UP_S = 30.0  # ... until the database has been locked this long (as other connections' busy timeout)
CHECKPOINT_EVERY_S = 1.0  # at most this often a PASSIVE WAL checkpoint, on a thread
MAX_CONTENT = 4000  # characters of a message kept in the log


@dataclass(frozen=True)
class Seen:
    status: str
    reply: str | None


def _masked(content: str) -> str:
    return mask_text(content)[:MAX_CONTENT]


# The bot's own replies repeat (the same answers to the same questions): each text is masked once. Residents'
# messages are masked afresh every time, so no ID number they typed stays in memory.
_masked_reply = lru_cache(maxsize=2048)(_masked)


def log_row(
    openid: str, direction: str, msg_type: str, content: str, at: dt.datetime, intent: str | None = None,
    reply_key: str | None = None, detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message_log row; `direction` is "in" or "out"; `reply_key` for an inbound message answered by
    passive reply (whose `intent` it then carries); `detail` what the bot tried on a message it could not
    answer, or the resident's verdict on an answer."""
    return {
        "reply_key": reply_key,
        "detail": detail,
        "openid": openid,
        "direction": direction,
        "msg_type": msg_type[:32],
        "content": _masked_reply(content) if direction == "out" else _masked(content),
        "intent": intent,
        "created_at": at,
    }


_INSERT_LOG = insert(_LOG)
# Record the outcome of a delivery, so retries get the same reply: executemany with k, s(tatus), r(eply).
_FINISH = update(_T).where(_T.c.key == bindparam("k")).values(status=bindparam("s"), reply=bindparam("r"))


async def lookup(conn: AsyncConnection, key: str) -> Seen | None:
    row = (await conn.execute(select(_T.c.status, _T.c.reply).where(_T.c.key == key))).first()
    return Seen(row.status, row.reply) if row else None


@dataclass
class _Claim:
    key: str
    openid: str
    at: dt.datetime
    done: asyncio.Future = field(repr=False)


@dataclass
class _Finish:
    key: str
    status: str
    reply: str | None
    writes: list[FollowerWrite]
    logs: list[dict[str, Any]]
    done: asyncio.Future = field(repr=False)


_Op = _Claim | _Finish


class InboxStore:
    """The inbox tables of one database, written in shared transactions (see the module's docstring)."""

    def __init__(self, engine: AsyncEngine, max_batch: int = MAX_BATCH):
        self.engine = engine
        self.max_batch = max_batch
        # a SQLite file: batches run on the loop, on a connection of their own (see the module's docstring)
        self._sqlite: Engine | None = sqlite_file_engine(engine)
        self._sqlite_conn: Connection | None = None  # opened by start()
        self._checkpoint: asyncio.Future | None = None  # the running checkpoint, if any
        self._next_checkpoint = 0.0  # loop time
        self._queue: list[_Op] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closing = False

    # -- what the webhook asks -----------------------------------------------------------------------------

    async def claim(self, key: str, openid: str, at: dt.datetime) -> Speaker | None:
        """Claim the first delivery of `key`: the follower as stored (a blank Speaker for a stranger); None
        when `key` was claimed before (a retry)."""
        return await self._submit(_Claim(key, openid, at, self._future()))

    async def finish(
        self, key: str, status: str, reply: str | None, writes: list[FollowerWrite] | None = None,
        logs: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record the outcome of `key` (its reply, for retries), with the follower's writes and the log rows."""
        await self._submit(_Finish(key, status, reply, writes or [], logs or [], self._future()))

    async def log(self, row: dict[str, Any]) -> None:
        """A message_log row of its own (a late answer sent by the customer-service API)."""
        async with self.engine.begin() as conn:
            await conn.execute(insert(_LOG), [row])

    async def release(self, key: str) -> None:
        """Forget a delivery whose answering failed, so WeChat's retry runs it afresh."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(_T).where(_T.c.key == key))

    async def wait_for_first(self, key: str, timeout_s: float) -> Seen | None:
        """The first delivery's outcome once it is no longer processing, or None if it is not ready in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        pause = 0.05
        while True:
            async with self.engine.connect() as conn:
                seen = await lookup(conn, key)
            if seen is None or seen.status != PROCESSING:
                return seen
            left = deadline - loop.time()
            if left <= 0:
                return None
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, 0.5)

    # -- the writer ----------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._sqlite is not None:
            self._sqlite_conn = self._sqlite.connect()
            self._sqlite_conn.exec_driver_sql("PRAGMA busy_timeout=0")  # never wait on the loop: see `_transaction`
            self._sqlite_conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # never fsync on the loop
            self._sqlite_conn.commit()
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def close(self) -> None:
        """Finish every queued claim and completion, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._checkpoint is not None:  # let it finish (its failure is logged by `_checkpoint_done`)
            await asyncio.wait({self._checkpoint})
        if self._sqlite_conn is not None:
            self._sqlite_conn.close()
        if self._sqlite is not None:
            self._sqlite.dispose()

    @staticmethod
    def _future() -> asyncio.Future:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, op: _Op) -> Any:
        if self._task is None or self._closing:
            raise RuntimeError("the inbox writer is not running")
        self._queue.append(op)
        self._wake.set()
        return await op.done

    async def _run(self) -> None:
        while self._queue or not self._closing:
            if not self._queue:
                await self._wake.wait()
                self._wake.clear()
                continue
            await asyncio.sleep(0)  # let the requests that are ready join this batch
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            for op, outcome in zip(batch, await self._run_safely(batch), strict=True):
                if op.done.done():
                    continue
                if isinstance(outcome, BaseException):
                    op.done.set_exception(outcome)
                else:
                    op.done.set_result(outcome)

    async def _run_safely(self, batch: list[_Op]) -> list[Any]:
        """Per operation its result or exception: the batch in one transaction, else one at a time."""
        try:
            return await self._transaction(batch)
        except Exception as exc:
            if len(batch) == 1 or _locked(exc):  # alone, each would wait for the lock as long again
                return [exc] * len(batch)
            log.warning("a batch of %d failed; running it one by one", len(batch), exc_info=True)
        outcomes: list[Any] = []
        for op in batch:
            try:
                outcomes.extend(await self._transaction([op]))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def _transaction(self, batch: list[_Op]) -> list[Any]:
        if self._sqlite_conn is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(_write_batch, batch)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + LOCKED_GIVE_UP_S
        while True:
            try:
                with self._sqlite_conn.begin():
                    outcomes = _write_batch(self._sqlite_conn, batch)
                break
            except OperationalError as exc:  # rolled back
                if not _locked(exc) or loop.time() > give_up:
                    raise
            await asyncio.sleep(LOCKED_PAUSE_S)
        if self._checkpoint is None and loop.time() >= self._next_checkpoint:
            self._next_checkpoint = loop.time() + CHECKPOINT_EVERY_S
            self._checkpoint = loop.run_in_executor(None, self._checkpoint_wal)
            self._checkpoint.add_done_callback(self._checkpoint_done)
        return outcomes

    def _checkpoint_wal(self) -> None:
        """On a thread: copy the WAL's pages into the database (PASSIVE: as far as readers allow, never blocking a
        writer), so that the WAL is rewound instead of growing."""
        assert self._sqlite is not None
        with self._sqlite.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _checkpoint_done(self, future: asyncio.Future) -> None:
        self._checkpoint = None
        if not future.cancelled() and future.exception() is not None:
            log.warning("WAL checkpoint failed: %s", future.exception())


def _locked(exc: Exception) -> bool:
    """SQLite's "database is locked": another connection held the write lock past the wait."""
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig)


def _write_batch(conn: Connection, batch: list[_Op]) -> list[Any]:
    """The batch's claims and completions, in the caller's transaction; per operation its result."""
    claims = [op for op in batch if isinstance(op, _Claim)]
    finishes = [op for op in batch if isinstance(op, _Finish)]
    speakers = _claim(conn, claims) if claims else {}
    if finishes:
        _finish(conn, finishes)
    return [speakers.get(id(op)) if isinstance(op, _Claim) else None for op in batch]


@cache
def _claim_statement(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key: the keys of the rows inserted, the claims won."""
    stmt = dialect_insert(dialect, _T).on_conflict_do_nothing(index_elements=[_T.c.key])
    return stmt.returning(_T.c.key)


def _claim(conn: Connection, claims: list[_Claim]) -> dict[int, Speaker]:
    """Insert the claims; per claim that won (by id()), the follower as stored. Of two deliveries of one key
    in one batch, the first wins."""
    rows = {op.key: {"key": op.key, "openid": op.openid, "received_at": op.at, "status": PROCESSING}
            for op in reversed(claims)}
    won = set(conn.execute(_claim_statement(conn.dialect.name), list(rows.values())).scalars())
    first: dict[str, _Claim] = {}
    for op in claims:
        if op.key in won:
            first.setdefault(op.key, op)
    wanted = sorted({op.openid for op in first.values()})
    known = followers.read_speakers(conn, wanted) if wanted else {}
    return {id(op): known.get(op.openid) or Speaker(openid=op.openid) for op in first.values()}


def _finish(conn: Connection, finishes: list[_Finish]) -> None:
    outcomes = {op.key: {"k": op.key, "s": op.status, "r": op.reply} for op in finishes}  # the last wins
    execute_many(conn, _FINISH, list(outcomes.values()))
    followers.apply_writes(conn, [w for op in finishes for w in op.writes])
    execute_many(conn, _INSERT_LOG, [row for op in finishes for row in op.logs])
