"""Starting and stopping the scheduler and the outbox sender: inside `yibao serve`, or alone (`yibao scheduler`).

`setup_scheduler(app)` is the app factory's step (bot/app.py SCHEDULER_STEPS, left out by
`yibao serve --no-scheduler`); it opens a `Scheduling` in a cleanup_ctx. On PostgreSQL only one process runs
the jobs: the leader holds an advisory lock on its own connection and a second scheduler waits for it (if the
leader dies, its connection and lock go with it). Every process runs a sender; senders share the outbox safely.
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
from bot.rules.loader import PolicyRegistry
from bot.wechat.client import WeChatClient
from scheduler import jobs, tags
from scheduler.sender import Sender, SenderOptions

log = logging.getLogger("yibao.scheduler")

LEADER_LOCK = 0x79696261  # "yiba": the advisory lock key of the scheduler leader
LEADER_POLL_S = 10.0


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
        if self.engine.dialect.name == "postgresql":
            conn = await self.engine.connect()
            while not (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK})).scalar():
                await conn.rollback()
                log.info("another scheduler holds the leader lock; waiting")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.leader_poll_s)
                if self._stop.is_set():
                    await conn.close()
                    return
            await conn.commit()  # the session-level lock outlives the transaction
            self._leader = conn
        self.scheduler = jobs.make_scheduler(self.settings)
        jobs.install(jobs.Runtime(self.settings, self.registry, self.sessions, clock=self.clock,
                                  on_planned=self.sender.wake, scheduler=self.scheduler, sender=self.sender))
        # Paused until the store matches the policies, so a missed job runs after (not during) rescheduling.
        self.scheduler.start(paused=True)
        jobs.reschedule(self.registry, scheduler=self.scheduler, settings=self.settings, now=self.clock())
        self.scheduler.resume()
        log.info("scheduler started with %d jobs", len(self.scheduler.get_jobs()))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            jobs.install(None)
        if self._leader is not None:
            # A pooled connection would keep the session-level lock: give it back unlocked.
            await self._leader.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
            await self._leader.commit()
            await self._leader.close()
            self._leader = None


SCHEDULING = web.AppKey("scheduling", Scheduling)


def setup_scheduler(app: web.Application, settings: Settings | None = None) -> None:
    """The app factory's step: run the scheduler and the outbox sender as long as the app."""
    from bot.app import ENGINE, HTTP, REGISTRY, SESSIONS, SETTINGS

    async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
        s = settings or app[SETTINGS]
        client = WeChatClient(app[HTTP], appid=s.wechat_appid, secret=s.wechat_secret, base=s.wechat_api_base,
                              sessions=app[SESSIONS], retries=0)  # the outbox retries, with its own backoff
        scheduling = Scheduling(s, app[REGISTRY], app[SESSIONS], app[ENGINE], client)
        await scheduling.start()
        app[SCHEDULING] = scheduling
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
    from bot.store.schema import ensure_schema

    registry = registry or load_registry(settings.policy_dirs)
    engine = make_engine(settings)
    try:
        await ensure_schema(engine, registry=registry)
        sessions = make_sessionmaker(engine)
        connector = aiohttp.TCPConnector(limit=max(100, (sender_options or SenderOptions()).concurrency * 2))
        async with aiohttp.ClientSession(connector=connector) as http:
            client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                                  base=settings.wechat_api_base, sessions=sessions, retries=0,
                                  timeout_s=(sender_options or SenderOptions()).call_timeout_s)
            scheduling = Scheduling(settings, registry or load_registry(settings.policy_dirs), sessions, engine,
                                    client, clock=clock, run_jobs=run_jobs, run_sender=run_sender,
                                    sender_options=sender_options)
            await scheduling.start()
            try:
                yield scheduling
            finally:
                await scheduling.stop()
    finally:
        await engine.dispose()
