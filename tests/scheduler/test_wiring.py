"""The scheduler inside `yibao serve` (the app factory's step), alone, and one leader on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.app import create_app
from bot.config import TZ
from scheduler import jobs
from scheduler.sender import SenderOptions
from scheduler.wiring import SCHEDULING, Scheduling, standalone
from tests.scheduler.conftest import fake_state
from tests.scheduler.helpers import Person, add_people


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
