"""`yibao scheduler`: the reminder scheduler and the outbox sender, alone (without the webhook)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from bot.commands.common import run_async
from bot.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    sched = sub.add_parser("scheduler", help="run the reminder scheduler and the outbox sender alone")
    sched.add_argument("--once", action="store_true", help="send what is due now, then exit")
    sched.add_argument("--no-jobs", action="store_true", help="only send (another process runs the jobs)")
    sched.add_argument("--no-sender", action="store_true", help="only run the jobs")
    sched.set_defaults(func=lambda a: run_async(scheduler_command(
        Settings.from_env(), once=a.once, jobs=not a.no_jobs, sender=not a.no_sender)))


async def scheduler_command(settings: Settings, *, once: bool, jobs: bool, sender: bool) -> None:
    from bot.commands.serve import configure_logging
    from scheduler.wiring import standalone

    configure_logging()

    async with standalone(settings, run_jobs=jobs and not once, run_sender=sender and not once) as scheduling:
        if once:
            stats = await scheduling.sender.drain()
            print(f"发件箱已处理：{dict(stats) or '没有到期的消息'}")
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("调度器已启动（Ctrl+C 停止）", file=sys.stderr)
        await stop.wait()
