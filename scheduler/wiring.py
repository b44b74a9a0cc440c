"""Starting and stopping the scheduler and the outbox sender: inside `yibao serve`, or alone (`yibao scheduler`).

`setup_scheduler(app)` is the app factory's step (bot/app.py SCHEDULER_STEPS, left out by
`yibao serve --no-scheduler`); it opens a `Scheduling` in a cleanup_ctx. On PostgreSQL only one process runs
the jobs: the leader holds an advisory lock on its own connection and a second scheduler waits for it (if the
leader dies, its connection and lock go with it). The leader watches that connection: the moment it is closed
or terminated (asyncpg's termination listener), or a heartbeat every `leader_heartbeat_s` cannot confirm the
lock, it stops its jobs and waits for the lock like any other process; a new leader may already run them.
Every process runs a sender; senders share the outbox safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from bot import config
from bot.config import Settings
from bot.keys import ENGINE, HTTP, POLICIES, SESSIONS, SETTINGS
from bot.rules.loader import PolicyRegistry
from bot.wechat.client import WeChatClient
from scheduler import jobs, tags
from scheduler.sender import Sender, SenderOptions

log = logging.getLogger("yibao.scheduler")

LEADER_LOCK = 0x79696261  # "yiba": the advisory lock key of the scheduler leader
LEADER_POLL_S = 10.0
LEADER_HEARTBEAT_S = 5.0
# The lock this session holds (a bigint key is classid = high 32 bits, objid = low 32 bits, objsubid = 1).
HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
    " AND classid = 0 AND objid = CAST(:k AS oid) AND objsubid = 1)"
)


@dataclass
class Scheduling:
    """The running scheduler (if this process leads) and sender, with what they were started from."""

    settings: Settings
    registry: PolicyRegistry
    sessions: async_sessionmaker
    engine: AsyncEngine
    client: WeChatClient
    clock: Callable = config.now
    run_jobs: bool = True
    run_sender: bool = True
    sender_options: SenderOptions | None = None
    leader_poll_s: float = LEADER_POLL_S
    leader_heartbeat_s: float = LEADER_HEARTBEAT_S
    scheduler: AsyncIOScheduler | None = None
    sender: Sender | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _leader: AsyncConnection | None = None

    async def start(self) -> None:
        self.sender = Sender(self.sessions, self.client, self.registry, self.settings, clock=self.clock,
                             options=self.sender_options)
        if self.run_sender:
            self._tasks.append(asyncio.create_task(self.sender.run(self._stop), name="outbox-sender"))
            self._tasks.append(asyncio.create_task(tags.run(self.sessions, self.client, self._stop), name="tag-job"))
        if self.run_jobs:
            self._tasks.append(asyncio.create_task(self._lead_logged(), name="scheduler-leader"))

    async def _lead_logged(self) -> None:
        try:
            await self._lead()
        except Exception:  # the webhook keeps serving; the log says why reminders are not scheduled
            log.exception("the reminder scheduler could not start")

    async def _lead(self) -> None:
        if self.engine.dialect.name != "postgresql":
            self._start_jobs()
            return
        while (conn := await self._acquire()) is not None:
            self._leader = conn
            self._start_jobs()
            if await self._hold(conn):
                return  # stopping: stop() releases the lock
            self._stop_jobs()
            self.scheduler = self._leader = None  # no longer the leader
            with contextlib.suppress(Exception):
                await conn.invalidate()
            # Another process has most likely taken the lock meanwhile: let it lead, then wait like it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.leader_poll_s)

    async def _acquire(self) -> AsyncConnection | None:
        """Wait for the leader lock, on a connection of its own; None when stopping first."""
        while not self._stop.is_set():
            conn = None
            try:
                conn = await self.engine.connect()
                if (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK})).scalar():
                    await conn.commit()  # the session-level lock outlives the transaction
                    return conn
                await conn.rollback()
                log.info("another scheduler holds the leader lock; waiting")
            except Exception as exc:  # the database is away: try again, the webhook goes on serving
                log.warning("cannot take the leader lock (%s); trying again in %.0fs", exc, self.leader_poll_s)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.leader_poll_s)
        return None

    async def _hold(self, conn: AsyncConnection) -> bool:
        """Watch the lock while leading: True when told to stop, False the moment the lock is gone (its
        connection was closed or terminated, or a heartbeat cannot confirm the lock within its timeout)."""
        lost = asyncio.Event()
        raw = await conn.get_raw_connection()
        raw.driver_connection.add_termination_listener(lambda _: lost.set())  # asyncpg: at once
        while True:
            waiters = [asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(lost.wait())]
            await asyncio.wait(waiters, timeout=self.leader_heartbeat_s, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
            if self._stop.is_set():
                return True
            reason = "its connection was closed"
            if not lost.is_set():
                try:
                    async with asyncio.timeout(max(self.leader_heartbeat_s, 1.0)):
                        held = (await conn.execute(HELD, {"k": LEADER_LOCK})).scalar()
                        await conn.rollback()
                    if held:
                        continue
                    reason = "the lock is no longer held"
                except Exception as exc:
                    reason = f"the heartbeat failed: {type(exc).__name__}: {exc}"
            log.error("lost the scheduler leader lock (%s): stopping the jobs until the lock is ours again",
                      reason)
            return False

    def _start_jobs(self) -> None:
        self.scheduler = jobs.make_scheduler(self.settings)
        jobs.install(jobs.Runtime(self.settings, self.registry, self.sessions, clock=self.clock,
                                  on_planned=self.sender.wake, scheduler=self.scheduler, sender=self.sender))
        # Paused until the store matches the policies, so a missed job runs after (not during) rescheduling.
        self.scheduler.start(paused=True)
        jobs.reschedule(self.registry, scheduler=self.scheduler, settings=self.settings, now=self.clock())
        self.scheduler.resume()
        log.info("scheduler started with %d jobs", len(self.scheduler.get_jobs()))

    def policies_changed(self, registry: PolicyRegistry) -> None:
        """Plan and send with `registry` from now on; if this process leads, its jobs follow it too."""
        self.registry = registry
        if self.sender is not None:
            self.sender.registry = registry
        if self.scheduler is not None and self.scheduler.running:
            jobs.reschedule(registry, scheduler=self.scheduler, settings=self.settings, now=self.clock())

    def _stop_jobs(self) -> None:
        """Stop this process's scheduler (the job store stays as it is, for the next leader)."""
        if self.scheduler is None:
            return
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        with contextlib.suppress(RuntimeError):
            if jobs.current().scheduler is self.scheduler:  # not another leader's runtime (tests run several)
                jobs.install(None)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._stop_jobs()
        if self._leader is not None:
            # A pooled connection would keep the session-level lock: give it back unlocked. A connection
            # that died meanwhile has lost the lock already: nothing to give back, and no error at exit.
            try:
                await self._leader.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
                await self._leader.commit()
                await self._leader.close()
            except Exception as exc:
                log.warning("the leader lock's connection was gone at shutdown (%s)", exc)
                with contextlib.suppress(Exception):
                    await self._leader.invalidate()
            self._leader = None


SCHEDULING = web.AppKey("scheduling", Scheduling)


def setup_scheduler(app: web.Application, settings: Settings | None = None) -> None:
    """The app factory's step: run the scheduler and the outbox sender as long as the app."""
    async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
        s = settings or app[SETTINGS]
        client = WeChatClient(app[HTTP], appid=s.wechat_appid, secret=s.wechat_secret, base=s.wechat_api_base,
                              sessions=app[SESSIONS], retries=0)  # the outbox retries, with its own backoff
        scheduling = Scheduling(s, app[POLICIES].registry, app[SESSIONS], app[ENGINE], client)
        await scheduling.start()
        app[SCHEDULING] = scheduling
        app[POLICIES].listeners.append(scheduling.policies_changed)  # a policy published in the console
        yield
        await scheduling.stop()

    app.cleanup_ctx.append(scheduler_ctx)


@contextlib.asynccontextmanager
async def standalone(settings: Settings, *, registry: PolicyRegistry | None = None, run_jobs: bool = True,
                     run_sender: bool = True, clock: Callable = config.now,
                     sender_options: SenderOptions | None = None) -> AsyncIterator[Scheduling]:
    """The database, HTTP session and client that `yibao scheduler` (and the tests) run the scheduling on."""
    from bot.rules.loader import load_registry
    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.published import CurrentRegistry
    from bot.store.schema import ensure_schema

    registry = registry or load_registry(settings.policy_dirs)
    engine = make_engine(settings)
    try:
        await ensure_schema(engine, registry=registry)
        sessions = make_sessionmaker(engine)
        policies = CurrentRegistry(registry)  # the files plus what the console published, followed
        await policies.refresh(sessions)
        connector = aiohttp.TCPConnector(limit=max(100, (sender_options or SenderOptions()).concurrency * 2))
        async with aiohttp.ClientSession(connector=connector) as http:
            client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                                  base=settings.wechat_api_base, sessions=sessions, retries=0,
                                  timeout_s=(sender_options or SenderOptions()).call_timeout_s)
            scheduling = Scheduling(settings, policies.registry, sessions, engine, client, clock=clock,
                                    run_jobs=run_jobs, run_sender=run_sender, sender_options=sender_options)
            await scheduling.start()
            policies.listeners.append(scheduling.policies_changed)
            policies.start(sessions)
            try:
                yield scheduling
            finally:
                await policies.stop()
                await scheduling.stop()
    finally:
        await engine.dispose()
