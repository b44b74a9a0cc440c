"""`yibao demo` (`make run`): the fake WeChat and the webhook in one process, on SQLite under ./var/.

It prints where to look and runs until Ctrl-C. Extra startup work (e.g. loading demo data) goes in
DEMO_STEPS: each function is awaited with the started app before it takes requests.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.commands.serve import configure_logging
from bot.config import TZ, Settings, now

if TYPE_CHECKING:
    from aiohttp import web

DEMO_REGION = "陵川县"
DEMO_SCALE = 0.01
# The notices encoded are for 2025; when today is past all their cutoffs, the demo also shows the schedule
# as it stood on a day inside the 陵川县 2025 collection period.
DEMO_AS_OF = dt.datetime(2024, 11, 20, 8, 0, tzinfo=TZ)

DEFAULT_PORT = 8080
DEFAULT_FAKE_PORT = 8010


@dataclass
class Stack:
    """A running webhook server with its fake WeChat."""

    app: web.Application
    runners: list[web.AppRunner]
    webhook_url: str
    fake_base: str
    settings: Settings

    async def close(self) -> None:
        for runner in reversed(self.runners):
            await runner.cleanup()


def _port(runner: web.AppRunner) -> int:
    return runner.addresses[0][1]


async def start_stack(settings: Settings, host: str = "127.0.0.1", port: int = 0, fake_port: int = 0) -> Stack:
    """Start the fake WeChat, then the webhook pointed at it (port 0: any free port)."""
    from aiohttp import web

    from bot.app import create_app
    from bot.wechat.fake import create_fake_app

    fake_runner = web.AppRunner(create_fake_app(settings.wechat_appid, settings.wechat_secret), access_log=None)
    await fake_runner.setup()
    await web.TCPSite(fake_runner, host, fake_port).start()
    fake_base = f"http://{host}:{_port(fake_runner)}"
    settings = replace(settings, wechat_api_base=fake_base)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    try:
        await runner.setup()
        for step in DEMO_STEPS:
            await step(app)
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        await fake_runner.cleanup()
        raise
    webhook_url = f"http://{host}:{_port(runner)}/wechat"
    return Stack(app, [fake_runner, runner], webhook_url, fake_base, settings)


async def load_demo_county(app: web.Application) -> None:
    """Fictional residents, payments and contacts for the demo county, scaled from its target table."""
    from bot.app import REGISTRY, SESSIONS, SETTINGS
    from bot.store.demo import load_demo_data

    summary = await load_demo_data(app[SESSIONS], app[REGISTRY], DEMO_REGION, DEMO_SCALE, settings=app[SETTINGS])
    print(
        f"demo data    {summary.region} {summary.year}年度 at scale {DEMO_SCALE}: {summary.residents} fictional"
        f" residents ({summary.paid} paid), {summary.contacts} contacts, {summary.followers} followers",
        flush=True,
    )


# Extra startup work, each awaited with the app before it takes requests.
DEMO_STEPS: list[Callable[[web.Application], Awaitable[None]]] = [load_demo_county]


def show_upcoming_jobs(stack: Stack) -> None:
    from bot.app import REGISTRY
    from bot.commands.jobs import print_upcoming_jobs

    registry = stack.app[REGISTRY]
    if print_upcoming_jobs(registry, stack.settings, after=now(), region=DEMO_REGION) == 0:
        print(f"（{DEMO_REGION}已收录通知的缴费截止日都已过去；以下是{DEMO_AS_OF:%Y年%m月%d日}时的提醒安排，供演示）")
        print_upcoming_jobs(registry, stack.settings, after=DEMO_AS_OF, region=DEMO_REGION, limit=8)
    print(f"  plan a stage: .venv/bin/yibao remind plan --date {DEMO_AS_OF:%Y-%m-%d} --region {DEMO_REGION}")


def describe(stack: Stack) -> str:
    settings = stack.settings
    base = stack.webhook_url.removesuffix("/wechat")
    mode = "safe mode (AES)" if settings.wechat_aes_key else "plain mode"
    lines = [
        "yibao demo is running (Ctrl-C to stop)",
        f"  webhook      {stack.webhook_url}   ({mode}, token from YIBAO_WECHAT_TOKEN)",
        f"  health       {base}/healthz",
        f"  fake WeChat  {stack.fake_base}/_fake/messages   (every API call the bot makes)",
    ]
    if any(r.canonical == "/console" for r in stack.app.router.resources()):
        lines.append(f"  console      {base}/console")
    database = settings.database_url.split("///", 1)[-1] if settings.is_sqlite else "PostgreSQL"
    lines += [
        f"  database     {database}",
        f"  talk to it   .venv/bin/yibao chat --url {stack.webhook_url} --fake {stack.fake_base} --region 陵川县",
    ]
    return "\n".join(lines)


async def _demo(settings: Settings, host: str, port: int, fake_port: int) -> None:
    stack = await start_stack(settings, host, port, fake_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    show_upcoming_jobs(stack)
    print(describe(stack), flush=True)
    try:
        await stop.wait()
    finally:
        await stack.close()


def run(args: argparse.Namespace) -> int:
    configure_logging()
    asyncio.run(_demo(Settings.from_env(), args.host, args.port, args.fake_port))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the webhook with a fake WeChat on localhost (make run)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"webhook port (default {DEFAULT_PORT})")
    p.add_argument("--fake-port", type=int, default=DEFAULT_FAKE_PORT, help=f"fake WeChat port ({DEFAULT_FAKE_PORT})")
    p.set_defaults(func=run)
