"""`yibao jobs`: the next scheduled reminder jobs, from the policies or from the running scheduler's job store."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING, TextIO

from bot import config
from bot.commands.args import iso_date
from bot.commands.common import when
from bot.commands.text import CommandError, t
from bot.config import TZ, Settings

if TYPE_CHECKING:
    from bot.rules.loader import PolicyRegistry



def register(sub: argparse._SubParsersAction) -> None:
    jobs = sub.add_parser("jobs", help=t("jobs.help"), description=t("jobs.description"))
    jobs.add_argument("--region", help=t("jobs.region"))
    jobs.add_argument("--after", type=iso_date, help=t("jobs.after"))
    jobs.add_argument("--all", action="store_true", help=t("jobs.all"))
    jobs.add_argument("--store", action="store_true", help=t("jobs.store"))
    jobs.set_defaults(func=lambda a: jobs_command(
        Settings.from_env(), a.region,
        dt.datetime.combine(a.after, dt.time(0), TZ) if a.after else config.now(), a.all, a.store))


def known_region(registry: PolicyRegistry, name: str | None) -> str | None:
    """The canonical name of a region given on the command line (None: all regions)."""
    if name is None:
        return None
    region = registry.region_name(name)
    if region is None:
        raise CommandError(t("errors.unknown_region", region=name, known="、".join(registry.regions())))
    return region


def print_upcoming_jobs(registry: PolicyRegistry, settings: Settings, *, after: dt.datetime,
                        region: str | None = None, limit: int = 12, out: TextIO | None = None) -> int:
    """The next scheduled jobs after `after` (what `yibao demo` shows); returns how many there are in all."""
    from scheduler.describe import describe_job
    from scheduler.timetable import all_jobs, upcoming

    out = out or sys.stdout
    jobs = upcoming(all_jobs(registry, settings, region), after)
    if not jobs:
        print(t("jobs.none", after=when(after), scope=region or t("jobs.none_scope_all")), file=out)
        return 0
    print(t("jobs.heading", after=when(after), count=len(jobs)), file=out)
    for spec in jobs[:limit]:
        print(f"  {when(spec.run_at)}  {describe_job(spec)}", file=out)
    if len(jobs) > limit:
        print(t("jobs.more", count=len(jobs) - limit), file=out)
    return len(jobs)


def jobs_command(settings: Settings, region: str | None, after: dt.datetime, show_all: bool, store: bool,
                 out: TextIO | None = None) -> None:
    from bot.rules.loader import load_registry

    out = out or sys.stdout
    registry = load_registry(settings.policy_dirs)
    region = known_region(registry, region)
    if store:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        from scheduler.jobs import JOBS_TABLE

        stored = SQLAlchemyJobStore(url=settings.sync_database_url, tablename=JOBS_TABLE)
        stored.start(None, "default")  # creates the table if the scheduler never ran
        try:
            jobs = [j for j in stored.get_all_jobs() if not region or j.name.startswith(region)]
        finally:
            stored.shutdown()
        print(t("jobs.store_heading", count=len(jobs)), file=out)
        if not jobs:
            print(t("jobs.store_empty"), file=out)
        for job in jobs:  # the store keeps wall-clock times; show them on the clock (YIBAO_TODAY)
            at = when(job.next_run_time + config.clock_shift()) if job.next_run_time else t("jobs.paused")
            print(f"  {at}  {job.id}", file=out)
        return
    print_upcoming_jobs(registry, settings, after=after, region=region,
                        limit=sys.maxsize if show_all else 20, out=out)
