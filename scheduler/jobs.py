"""APScheduler 3 glue: the job store, `reschedule(registry)`, and the job function that plans one stage.

Jobs live in the application database through APScheduler's SQLAlchemy job store, which is synchronous: it
gets the sync URL of the same database (sqlite:///..., postgresql+psycopg://...). Each job is a DateTrigger at
its stage's time (Asia/Shanghai-aware) with a deterministic id (`lingchuan-2025:2024-11-25:reminder-5d`), so
re-adding replaces and a restart never doubles. A job missed while the process was down runs once when it
comes back (coalesce), but only while its cutoff is ahead: misfire_grace_time is the time from the run time to
the end of the cutoff day. Planning is idempotent anyway (outbox keys), so a job that runs twice is harmless.

A persistent job is stored as a textual reference to a module-level function plus its arguments, so the job
function cannot carry the objects it needs; it finds them in the `Runtime` that the running scheduler installs
here (`install`), the one module-level state of the scheduler.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import config
from bot.config import TZ, Settings
from bot.rules.loader import PolicyRegistry
from bot.store.pauses import is_paused
from scheduler.planner import StagePlan, plan_job
from scheduler.sender import Sender
from scheduler.timetable import JobSpec, all_jobs, find_job

log = logging.getLogger("yibao.scheduler.jobs")

JOBS_TABLE = "apscheduler_jobs"


@dataclass
class Runtime:
    """What a job needs at run time."""

    settings: Settings
    registry: PolicyRegistry
    sessions: async_sessionmaker
    clock: Callable[[], dt.datetime] = config.now
    on_planned: Callable[[], None] | None = None  # wakes the sender
    scheduler: AsyncIOScheduler | None = None
    sender: Sender | None = None  # renders with the same policies as the jobs plan with


_runtime: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("the scheduler runtime is not installed (scheduler.wiring starts it)")
    return _runtime


async def run_job(job_id: str) -> StagePlan | None:
    """Plan the outbox rows of one job (the APScheduler job function; `job_id` is the JobSpec id)."""
    rt = current()
    spec = find_job(rt.registry, rt.settings, job_id)
    if spec is None:
        log.warning("job %s: no such stage in the loaded policies any more; nothing planned", job_id)
        return None
    async with rt.sessions.begin() as session:
        if await is_paused(session, spec.policy_id, spec.stage):  # paused in the console
            log.info("job %s: its stage is paused; nothing planned", job_id)
            return None
        plan = await plan_job(session, rt.registry, spec, planned_at=rt.clock())
    log.info("job %s: planned %s new outbox rows for %d recipients%s", job_id, plan.inserted, plan.total,
             f" ({plan.note})" if plan.note else "")
    if rt.on_planned is not None:
        rt.on_planned()
    return plan


def make_scheduler(settings: Settings, *, url: str | None = None, tableschema: str | None = None,
                   engine_options: dict | None = None) -> AsyncIOScheduler:
    """An AsyncIOScheduler whose jobs persist in the application database (sync URL)."""
    url = url or settings.sync_database_url
    if engine_options is None and url.startswith("sqlite"):
        engine_options = {"connect_args": {"timeout": 30}}  # wait for the app's writers, as bot.store.db does
    store = SQLAlchemyJobStore(url=url, tablename=JOBS_TABLE, tableschema=tableschema,
                               engine_options=engine_options)
    return AsyncIOScheduler(
        jobstores={"default": store},
        timezone=TZ,
        job_defaults={"coalesce": True, "max_instances": 1},
    )


def add_job(scheduler: AsyncIOScheduler, spec: JobSpec) -> None:
    """Add (or replace) the job of one stage: late runs allowed only while its cutoff is ahead."""
    scheduler.add_job(
        run_job,
        trigger=DateTrigger(run_date=config.wall_time(spec.run_at), timezone=TZ),  # YIBAO_TODAY moves the clock
        args=[spec.id],
        id=spec.id,
        name=f"{spec.region} {spec.cutoff.isoformat()} {spec.stage}",
        replace_existing=True,
        misfire_grace_time=spec.grace_s,
        coalesce=True,
    )


@dataclass(frozen=True)
class Rescheduled:
    added: int  # future jobs added or replaced
    removed: int  # stored jobs no policy asks for any more
    kept_missed: int  # past jobs still in the store: they run once now if their cutoff is ahead


def reschedule(registry: PolicyRegistry, *, scheduler: AsyncIOScheduler | None = None,
               settings: Settings | None = None, now: dt.datetime | None = None) -> Rescheduled:
    """Make the job store match the policies: add (or replace) every future job, remove the jobs of stages
    that no longer exist. Past jobs are not added; a past job already stored (missed during downtime) stays,
    and APScheduler runs it once if it is still within its grace time."""
    rt = _runtime
    scheduler = scheduler or (rt.scheduler if rt else None)
    settings = settings or (rt.settings if rt else None)
    if scheduler is None or settings is None:
        raise RuntimeError("reschedule: no scheduler is running; pass scheduler= and settings=")
    if rt is not None and rt.scheduler is scheduler:
        rt.registry = registry  # jobs from now on plan with the new policies
        if rt.sender is not None:
            rt.sender.registry = registry
    now = now or (rt.clock() if rt else config.now())
    specs = all_jobs(registry, settings)
    wanted = {s.id for s in specs}
    removed = kept = 0
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
            removed += 1
        elif job.next_run_time is not None and job.next_run_time <= config.wall_time(now):
            kept += 1
    added = 0
    for spec in specs:
        if spec.run_at > now:
            add_job(scheduler, spec)
            added += 1
    log.info("rescheduled: %d jobs added or replaced, %d removed, %d missed kept", added, removed, kept)
    return Rescheduled(added, removed, kept)
