"""`python -m scheduler.sendloop`: plan some jobs, then send everything due, then exit (drills, tests, bench).

    python -m scheduler.sendloop --plan lingchuan-2025:2024-11-25:reminder-5d --now 2024-11-20T10:00:00+08:00

Settings come from YIBAO_* variables as for `yibao scheduler`. `--now` starts a clock at that moment that then
runs at the normal pace, so a drill can replay a stage of a past season against a fake WeChat. Killing this
process at any moment (kill -9) and starting it again delivers every planned message: planning is idempotent
and rows left in doubt are taken over once their lease has passed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
import time
from collections.abc import Callable

from bot import config
from bot.config import Settings
from bot.rules.loader import load_registry
from scheduler.planner import plan_job
from scheduler.sender import SenderOptions
from scheduler.timetable import find_job
from scheduler.wiring import standalone


def running_clock(start: dt.datetime) -> Callable[[], dt.datetime]:
    if start.tzinfo is None:
        raise SystemExit("--now needs a time zone, e.g. 2024-11-20T10:00:00+08:00")
    t0 = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - t0)


async def main(args: argparse.Namespace) -> dict:
    settings = Settings.from_env()
    if args.rate is not None:
        settings = dataclasses.replace(settings, send_rate_per_s=args.rate)
    clock = running_clock(dt.datetime.fromisoformat(args.now)) if args.now else config.now
    options = SenderOptions(batch=args.batch, concurrency=args.concurrency, lease_s=args.lease,
                            call_timeout_s=min(SenderOptions.call_timeout_s, args.lease / 4))
    registry = load_registry(settings.policy_dirs)
    specs = []
    for job_id in args.plan:
        spec = find_job(registry, settings, job_id)
        if spec is None:
            raise SystemExit(f"no job {job_id!r} in the loaded policies (yibao jobs --all lists them)")
        specs.append(spec)
    async with standalone(settings, registry=registry, run_jobs=False, run_sender=False, clock=clock,
                          sender_options=options) as scheduling:
        planned = 0
        for spec in specs:
            async with scheduling.sessions.begin() as session:
                plan = await plan_job(session, registry, spec, planned_at=clock())
            planned += plan.inserted or 0
        started = time.monotonic()
        stats = await scheduling.sender.drain()
        return {"planned": planned, "sent": dict(stats), "seconds": round(time.monotonic() - started, 3)}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scheduler.sendloop", description=__doc__.split("\n")[0])
    p.add_argument("--plan", action="append", default=[], metavar="JOB_ID", help="plan this job first")
    p.add_argument("--now", help="start the clock at this ISO time (with its offset)")
    p.add_argument("--lease", type=float, default=SenderOptions.lease_s, help="claim lease in seconds")
    p.add_argument("--batch", type=int, default=SenderOptions.batch)
    p.add_argument("--concurrency", type=int, default=SenderOptions.concurrency)
    p.add_argument("--rate", type=int, help="messages a second (0: no limit; default YIBAO_SEND_RATE)")
    return p.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse())), ensure_ascii=False))
    sys.exit(0)
