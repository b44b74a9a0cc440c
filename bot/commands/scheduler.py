"""`yibao scheduler`: the reminder scheduler and the outbox sender, alone (without the webhook)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from bot.commands.common import claim_scheduler, run_async
from bot.commands.text import section, t
from bot.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    sched = sub.add_parser("scheduler", help=t("scheduler.help"), description=t("scheduler.description"))
    sched.add_argument("--once", action="store_true", help=t("scheduler.once"))
    sched.add_argument("--no-jobs", action="store_true", help=t("scheduler.no_jobs"))
    sched.add_argument("--no-sender", action="store_true", help=t("scheduler.no_sender"))
    sched.set_defaults(func=lambda a: run_async(scheduler_command(
        Settings.from_env(), once=a.once, jobs=not a.no_jobs, sender=not a.no_sender)))


async def scheduler_command(settings: Settings, *, once: bool, jobs: bool, sender: bool) -> None:
    from bot.commands.serve import configure_logging
    from scheduler.wiring import standalone

    configure_logging()
    if jobs and not once:
        claim_scheduler(settings)

    async with standalone(settings, run_jobs=jobs and not once, run_sender=sender and not once) as scheduling:
        if once:
            stats = await scheduling.sender.drain()
            names = section("outbox.statuses")
            shown = "，".join(f"{names.get(status, status)} {n}" for status, n in sorted(stats.items()))
            print(t("scheduler.drained", stats=shown or t("scheduler.nothing_due")))
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(t("scheduler.started"), file=sys.stderr)
        await stop.wait()
