"""APScheduler with its SQLAlchemy job store in the application database: reschedule, stable ids, missed jobs."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

from sqlalchemy import func, select

from bot.config import TZ, Settings
from bot.rules.loader import PolicyRegistry
from bot.store.models import OutboxMessage
from scheduler import jobs
from scheduler.timetable import all_jobs, find_job
from tests.scheduler.helpers import Person, add_people


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


async def outbox_count(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()


async def test_reschedule_stores_future_jobs_with_stable_ids(settings, engine, builtin) -> None:
    now = at(2024, 11, 21, 0, 0)
    scheduler = jobs.make_scheduler(settings)
    scheduler.start(paused=True)
    try:
        result = jobs.reschedule(builtin, scheduler=scheduler, settings=settings, now=now)
        future = [s for s in all_jobs(builtin, settings) if s.run_at > now]
        assert result.added == len(future) and result.removed == 0
        stored = {j.id: j for j in scheduler.get_jobs()}
        assert set(stored) == {s.id for s in future}
        assert "lingchuan-2025:2024-11-20:reminder-5d" not in stored  # past: never added
        job = stored["lingchuan-2025:2024-11-25:reminder-1d"]
        assert job.next_run_time == at(2024, 11, 24, 10, 0)
        assert job.next_run_time.utcoffset() == dt.timedelta(hours=8)
        assert job.misfire_grace_time == 38 * 3600 and job.coalesce is True
        assert job.args == ("lingchuan-2025:2024-11-25:reminder-1d",)
        assert stored["luoshan-2025:2024-11-30:incentive"].next_run_time == at(2024, 11, 27, 9, 0)
        assert stored["zhouji-2025:2025-02-28:reminder-5d"].next_run_time == at(2025, 2, 23, 10, 0)

        # Loading the policies again replaces every job: same ids, nothing doubled.
        again = jobs.reschedule(builtin, scheduler=scheduler, settings=settings, now=now)
        assert again.added == result.added and len(scheduler.get_jobs()) == len(future)

        # A policy withdrawn (or changed) takes its jobs with it.
        fewer = PolicyRegistry([p for p in builtin.policies if p.id != "luoshan-2025"])
        dropped = jobs.reschedule(fewer, scheduler=scheduler, settings=settings, now=now)
        assert dropped.removed == sum(1 for s in future if s.policy_id == "luoshan-2025")
        assert not [j for j in scheduler.get_jobs() if j.id.startswith("luoshan-2025:")]
    finally:
        scheduler.shutdown(wait=False)

    # The store is in the application database and outlives the process: a new scheduler finds the jobs.
    reopened = jobs.make_scheduler(settings)
    reopened.start(paused=True)
    try:
        assert len(reopened.get_jobs()) == len(future) - dropped.removed
    finally:
        reopened.shutdown(wait=False)


def _policy_due_soon(builtin: PolicyRegistry, cutoff: dt.date) -> PolicyRegistry:
    """陵川县 2025 moved to end at `cutoff`, without monthly windows: one payment cutoff near the real today."""
    p = builtin.get("陵川县", 2025)
    collection = p.collection.model_copy(update={"start": cutoff - dt.timedelta(days=60), "end": cutoff,
                                                 "monthly_window": None})
    return PolicyRegistry([p.model_copy(update={"collection": collection})])


async def test_a_job_missed_while_down_runs_once_on_restart(settings, sessions) -> None:
    from bot.rules.loader import load_registry

    builtin = load_registry()
    run_at = dt.datetime.now(TZ).replace(microsecond=0) + dt.timedelta(seconds=2)
    registry = _policy_due_soon(builtin, run_at.date() + dt.timedelta(days=2))
    settings = replace(settings, reminder_days=(2,), reminder_time=run_at.time())
    spec = find_job(registry, settings, f"lingchuan-2025:{run_at.date() + dt.timedelta(days=2)}:reminder-2d")
    assert spec is not None and spec.run_at == run_at
    await add_people(sessions, [Person("崇文镇"), Person("礼义镇")])
    planned = asyncio.Event()
    jobs.install(jobs.Runtime(settings, registry, sessions, on_planned=planned.set))
    try:
        first = jobs.make_scheduler(settings)
        first.start(paused=True)
        jobs.reschedule(registry, scheduler=first, settings=settings)
        assert first.get_job(spec.id).next_run_time == run_at
        first.shutdown(wait=False)  # the process goes down before the job's time ...

        await asyncio.sleep((run_at - dt.datetime.now(TZ)).total_seconds() + 0.5)
        second = jobs.make_scheduler(settings)  # ... and comes back after it
        second.start(paused=True)
        result = jobs.reschedule(registry, scheduler=second, settings=settings)
        assert result.kept_missed == 1 and spec.id in {j.id for j in second.get_jobs()}
        second.resume()
        await asyncio.wait_for(planned.wait(), 10)
        await asyncio.sleep(0.3)
        assert await outbox_count(sessions) == 2
        assert spec.id not in {j.id for j in second.get_jobs()}  # ran once, gone from the store
        second.shutdown(wait=False)
    finally:
        jobs.install(None)


async def test_a_job_past_its_cutoff_does_not_run_late(settings, sessions) -> None:
    from bot.rules.loader import load_registry

    yesterday = dt.datetime.now(TZ).date() - dt.timedelta(days=1)
    registry = _policy_due_soon(load_registry(), yesterday)
    spec = find_job(registry, settings, f"lingchuan-2025:{yesterday}:reminder-1d")
    await add_people(sessions, [Person("崇文镇")])
    ran = asyncio.Event()
    jobs.install(jobs.Runtime(settings, registry, sessions, on_planned=ran.set))
    scheduler = jobs.make_scheduler(settings)
    scheduler.start(paused=True)
    try:
        jobs.add_job(scheduler, spec)  # as if stored before the downtime that outlasted the cutoff
        scheduler.resume()
        await asyncio.sleep(0.5)
        assert not ran.is_set() and await outbox_count(sessions) == 0
    finally:
        scheduler.shutdown(wait=False)
        jobs.install(None)


async def test_run_job_plans_and_wakes_the_sender(settings, sessions, registry) -> None:
    await add_people(sessions, [Person("崇文镇"), Person("崇文镇", paid=True)])
    woken = []
    jobs.install(jobs.Runtime(Settings(), registry, sessions, clock=lambda: at(2024, 11, 20, 10, 0),
                              on_planned=lambda: woken.append(True)))
    try:
        plan = await jobs.run_job("lingchuan-2025:2024-11-25:reminder-5d")
        assert plan.inserted == 1 and woken == [True]
        assert await jobs.run_job("lingchuan-2025:2024-11-25:nonsense") is None
    finally:
        jobs.install(None)
    assert await outbox_count(sessions) == 1
