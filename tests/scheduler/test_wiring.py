"""The scheduler inside `yibao serve` (the app factory's step), alone, and one leader on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import sys
from pathlib import Path

import psycopg
import pytest

from bot.app import create_app
from bot.config import TZ
from scheduler import jobs
from scheduler.sender import SenderOptions
from scheduler.wiring import LEADER_LOCK, SCHEDULING, Scheduling, standalone
from tests.scheduler.conftest import fake_state
from tests.scheduler.helpers import Person, add_people

ROOT = Path(__file__).resolve().parents[2]


async def wait_for(condition, timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


async def test_serve_runs_the_scheduler_unless_told_not_to(settings, engine, builtin, aiohttp_client) -> None:
    client = await aiohttp_client(create_app(settings, registry=builtin))
    scheduling = client.app[SCHEDULING]
    await wait_for(lambda: scheduling.scheduler is not None and scheduling.scheduler.running)
    assert scheduling.sender is not None and jobs.current().scheduler is scheduling.scheduler
    await client.close()
    assert not scheduling.scheduler.running
    with pytest.raises(RuntimeError):
        jobs.current()

    quiet = await aiohttp_client(create_app(settings, registry=builtin, scheduler=False))  # --no-scheduler
    assert SCHEDULING not in quiet.app


async def test_a_job_run_wakes_the_sender(settings, sessions, registry, fake) -> None:
    await add_people(sessions, [Person("崇文镇"), Person("礼义镇")])
    now = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)
    options = SenderOptions(idle_s=3600)  # only a wake-up can make it send in time
    async with standalone(settings, registry=registry, clock=lambda: now, sender_options=options) as scheduling:
        await wait_for(lambda: scheduling.scheduler is not None)
        await asyncio.sleep(0.1)  # the sender's first (empty) drain
        await jobs.run_job("lingchuan-2025:2024-11-25:reminder-5d")
        calls = fake_state(fake).calls
        await wait_for(lambda: sum(c["endpoint"] == "message/template/send" for c in calls) == 2)


async def test_one_scheduler_leads_on_postgresql(settings, engine, sessions, builtin, backend) -> None:
    if backend != "postgresql":
        pytest.skip("the leader lock is PostgreSQL's advisory lock; SQLite runs one process")
    first = Scheduling(settings, builtin, sessions, engine, client=None, run_sender=False)
    second = Scheduling(settings, builtin, sessions, engine, client=None, run_sender=False, leader_poll_s=0.1)
    await first.start()
    await wait_for(lambda: first.scheduler is not None)
    await second.start()
    await asyncio.sleep(0.5)
    assert second.scheduler is None  # waits for the leader
    await first.stop()
    await wait_for(lambda: second.scheduler is not None)
    await second.stop()


async def test_a_leader_that_loses_its_lock_stops_its_jobs_at_once(settings, engine, sessions, builtin, backend,
                                                                   request, caplog) -> None:
    """The lock's connection is terminated (pg_terminate_backend): the old leader stops its jobs at once, the
    other takes over without an error, and both stop cleanly."""
    if backend != "postgresql":
        pytest.skip("the leader lock is PostgreSQL's advisory lock; SQLite runs one process")
    first = Scheduling(settings, builtin, sessions, engine, client=None, run_sender=False, leader_poll_s=1.0,
                       leader_heartbeat_s=30)  # the termination is noticed without waiting for a heartbeat
    second = Scheduling(settings, builtin, sessions, engine, client=None, run_sender=False, leader_poll_s=0.1)
    await first.start()
    await wait_for(lambda: first.scheduler is not None)
    old = first.scheduler
    await second.start()
    await asyncio.sleep(0.3)
    assert second.scheduler is None
    with psycopg.connect(request.getfixturevalue("pg_url"), autocommit=True) as conn:
        (pid,) = conn.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
                              (LEADER_LOCK,)).fetchone()
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    await wait_for(lambda: not old.running, timeout_s=1.0)
    assert first.scheduler is None
    await wait_for(lambda: second.scheduler is not None and second.scheduler.running)
    assert jobs.current().scheduler is second.scheduler
    await asyncio.sleep(0.3)
    assert first.scheduler is None  # it waits for the lock again, like any other process
    await first.stop()
    await second.stop()
    assert "lost the scheduler leader lock (its connection was closed)" in caplog.text
    assert "JobLookupError" not in caplog.text and "Traceback" not in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and "lost" not in r.getMessage()
            ] == []


async def test_stopping_after_the_lock_connection_died_is_clean(settings, engine, sessions, builtin, backend,
                                                                request) -> None:
    if backend != "postgresql":
        pytest.skip("the leader lock is PostgreSQL's advisory lock")
    leader = Scheduling(settings, builtin, sessions, engine, client=None, run_sender=False, leader_poll_s=30)
    await leader.start()
    await wait_for(lambda: leader.scheduler is not None)
    with psycopg.connect(request.getfixturevalue("pg_url"), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                     (LEADER_LOCK,))
    await asyncio.sleep(0.1)  # SIGTERM arrives at once: stop() must not raise
    await leader.stop()


class Child:
    """`yibao scheduler --no-sender` as its own process, its log lines collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.lines: list[str] = []
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, settings) -> Child:
        env = {**os.environ, "YIBAO_DATABASE_URL": settings.database_url}
        return cls(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "scheduler", "--no-sender", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE))

    async def _read(self) -> None:
        while line := await self.proc.stderr.readline():
            self.lines.append(line.decode())

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 30)
        await self._reader
        return code


async def test_two_scheduler_processes_when_the_leaders_connection_is_terminated(settings, engine, backend,
                                                                                 request) -> None:
    """The drill of issue 12: the old leader stops its jobs, the new one starts without a JobLookupError,
    and both exit 0 on SIGTERM."""
    if backend != "postgresql":
        pytest.skip("the leader lock is PostgreSQL's advisory lock")
    old = await Child.start(settings)
    try:
        await wait_for(lambda: old.saw("scheduler started"), timeout_s=60)
        new = await Child.start(settings)
        try:
            await wait_for(lambda: new.saw("another scheduler holds the leader lock"), timeout_s=60)
            with psycopg.connect(request.getfixturevalue("pg_url"), autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                             " AND objid = %s", (LEADER_LOCK,))
            await wait_for(lambda: old.saw("lost the scheduler leader lock"), timeout_s=10)
            await wait_for(lambda: new.saw("scheduler started"), timeout_s=30)  # its next poll, within 10 s
        finally:
            assert await new.stop() == 0, new.log[-3000:]
    finally:
        assert await old.stop() == 0, old.log[-3000:]
    assert old.log.count("scheduler started") == 1  # it waits for the lock again, without taking it
    for child in (old, new):
        assert "Traceback" not in child.log and "JobLookupError" not in child.log, child.log[-3000:]
