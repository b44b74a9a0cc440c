"""`yibao demo` (`make run`): the fake WeChat and the webhook in one process, on SQLite under ./var/.

Before it listens, the demo checks its ports, loads fictional demo data for 陵川县 and sets its clock (and
only its clock: bot/config.py) to a day inside 陵川县's 2025 collection season, YIBAO_TODAY or 2024-11-20,
shortly before that day's resident reminder stage, so the reminders are sent to the fake WeChat within the
first minute. It prints where to look, demo residents to try binding with, and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot import config
from bot.commands.common import check_ports, claim_scheduler
from bot.commands.outreach_demo import outreach_demo
from bot.commands.serve import configure_logging
from bot.commands.text import t
from bot.commands.user import DEMO_ACCOUNTS, demo_accounts
from bot.config import TZ, Settings
from bot.render import cn_date

if TYPE_CHECKING:
    from aiohttp import web

    from bot.rules.loader import PolicyRegistry
    from bot.store.demo import DemoResident, DemoSummary
    from scheduler.timetable import JobSpec

DEMO_REGION = "陵川县"
DEMO_SCALE = 0.01
# Inside 陵川县's 2025 collection period (2024-09-01 to 2025-02-25), five days before the 11月25日 monthly cutoff:
# the day of the first resident reminder stage (10:00) of that cutoff.
DEMO_TODAY = dt.date(2024, 11, 20)
DEMO_LEAD = dt.timedelta(seconds=20)  # the demo clock starts this long before the day's reminder stage

DEFAULT_PORT = 8080
DEFAULT_FAKE_PORT = 8010


@dataclass
class Stack:
    """A running webhook server, behind the same edge as `yibao serve`, with its fake WeChat."""

    app: web.Application
    exits: contextlib.AsyncExitStack  # the servers, stopped in reverse order
    webhook_url: str
    fake_base: str
    settings: Settings

    async def close(self) -> None:
        await self.exits.aclose()


async def start_stack(settings: Settings, host: str = "127.0.0.1", port: int = 0, fake_port: int = 0, *,
                      registry: PolicyRegistry | None = None, scheduler: bool = True) -> Stack:
    """Start the fake WeChat, then the webhook pointed at it (port 0: any free port). The webhook is served
    behind the edge (bot/wechat/edge.py: read deadlines, idle limit, connection cap), as `yibao serve` does."""
    from aiohttp import web

    from bot.app import create_app
    from bot.wechat import edge
    from bot.wechat.fake import FAKE, create_fake_app

    exits = contextlib.AsyncExitStack()
    try:
        fake_runner = web.AppRunner(create_fake_app(settings.wechat_appid, settings.wechat_secret), access_log=None)
        await fake_runner.setup()
        exits.push_async_callback(fake_runner.cleanup)
        await web.TCPSite(fake_runner, host, fake_port).start()
        fake_base = f"http://{host}:{fake_runner.addresses[0][1]}"
        settings = replace(settings, wechat_api_base=fake_base)
        app = create_app(settings, registry=registry, scheduler=scheduler)
        limits = edge.Limits.from_settings(settings, edge.raise_descriptor_limit())
        served = await exits.enter_async_context(edge.serving(app, host, port, limits, access_log=False))
    except BaseException:
        await exits.aclose()
        raise
    webhook_url = f"http://{host}:{served.port}/wechat"
    fake = fake_runner.app[FAKE]  # receipts and QR scans are pushed to the webhook, signed like WeChat's
    fake.callback_url, fake.callback_token, fake.callback_aes_key = (
        webhook_url, settings.wechat_token, settings.wechat_aes_key)
    return Stack(app, exits, webhook_url, fake_base, settings)


async def prepare_demo_database(settings: Settings, registry: PolicyRegistry,
                                today: dt.date | None = None) -> DemoSummary:
    """Migrate the database and load the demo county's fictional data (idempotent; the payments made by the
    demo's `today`), before the app starts; forget the messages planned for demo recipients by an earlier
    run, so this one sends its stage again."""
    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.demo import clear_demo_outbox, load_demo_data
    from bot.store.schema import ensure_schema

    engine = make_engine(settings)
    try:
        await ensure_schema(engine, registry=registry)
        sessions = make_sessionmaker(engine)
        summary = await load_demo_data(sessions, registry, DEMO_REGION, DEMO_SCALE, settings=settings, today=today)
        await clear_demo_outbox(sessions)
        await demo_accounts(sessions, registry)
        return summary
    finally:
        await engine.dispose()


def demo_clock_start(registry: PolicyRegistry, settings: Settings,
                     on: dt.date | dt.datetime) -> tuple[dt.datetime, JobSpec | None]:
    """Where the demo clock starts: at `on` when it has a time of day; on a date, DEMO_LEAD before that day's
    first resident reminder stage in the demo county (or at the wall clock's time of day when it has none)."""
    from scheduler.timetable import all_jobs, upcoming

    if isinstance(on, dt.datetime):
        return on, None
    day_start = dt.datetime.combine(on, dt.time(0), TZ)
    stage = next((s for s in upcoming(all_jobs(registry, settings, DEMO_REGION), day_start)
                  if s.for_residents and s.run_at.date() == on), None)
    if stage is None:
        return dt.datetime.combine(on, dt.datetime.now(TZ).time(), TZ), None
    return stage.run_at - DEMO_LEAD, stage


def _status(resident: DemoResident, registry: PolicyRegistry) -> str:
    policy = registry.for_region(DEMO_REGION)[-1]
    cats = "、".join(c.name for key in resident.categories if (c := policy.category(key)) is not None)
    paid = (t("demo.paid", date=cn_date(resident.paid_on),
              channel=resident.channel) if resident.paid_on else t("demo.unpaid"))
    return f"{cats}，{paid}" if cats else paid


def banner(stack: Stack, summary: DemoSummary, registry: PolicyRegistry, start: dt.datetime,
           stage: JobSpec | None) -> str:
    """What `yibao demo` prints once it listens (templates/cli/zh.toml [demo])."""
    from scheduler.describe import describe_job

    settings = stack.settings
    base = stack.webhook_url.removesuffix("/wechat")
    today = start.date()
    lines = [
        t("demo.title"),
        t("demo.clock", start=f"{cn_date(start)} {start:%H:%M:%S}",
          setting=config.TODAY_SETTING, value=today.isoformat()),
    ]
    if stage is not None:
        lines.append(t("demo.stage", seconds=int((stage.run_at - config.now()).total_seconds()),
                       at=f"{stage.run_at:%H:%M}", what=describe_job(stage), fake=f"{stack.fake_base}/_fake/messages"))
    else:
        lines.append(t("demo.no_stage", jobs=f"{config.TODAY_SETTING}={today.isoformat()} .venv/bin/yibao jobs "
                                              f"--region {DEMO_REGION}"))
    mode = t("chat.mode_safe") if settings.wechat_aes_key else t("chat.mode_plain")
    database = settings.database_url.split("///", 1)[-1] if settings.is_sqlite else "PostgreSQL"
    lines += [
        t("demo.webhook", url=stack.webhook_url, mode=mode),
        t("demo.health", url=f"{base}/healthz"),
        t("demo.fake", url=f"{stack.fake_base}/_fake/messages"),
    ]
    if any(r.canonical == "/console" for r in stack.app.router.resources()):
        lines.append(t("demo.console", url=f"{base}/console"))
        lines += [t("demo.console_login", username=name, password=password, role=t(f"user.role_{role}"),
                    township=f"（{township}）" if township else "") for name, role, township, password in DEMO_ACCOUNTS]
    lines += [
        t("demo.database", database=database),
        t("demo.data", region=summary.region, year=summary.year, scale=f"{DEMO_SCALE:g}",
          residents=summary.residents, paid=summary.paid, today=cn_date(summary.today),
          contacts=summary.contacts, followers=summary.followers),
    ]
    if summary.samples:
        lines.append(t("demo.residents"))
        for r in summary.samples:
            place = f"{r.township}{r.village}"
            lines.append(t("demo.resident", name=r.name, id_number=r.id_number, place=place,
                           status=_status(r, registry)))
        lines.append(t("demo.try", name=summary.samples[0].name))
    lines += [
        t("demo.chat", url=stack.webhook_url, fake=stack.fake_base, region=DEMO_REGION),
        t("demo.jobs", setting=config.TODAY_SETTING, today=today.isoformat(), region=DEMO_REGION),
        t("demo.outbox", setting=config.TODAY_SETTING, today=today.isoformat()),
    ]
    return "\n".join(lines)


async def _demo(settings: Settings, host: str, port: int, fake_port: int, on: dt.date | dt.datetime) -> None:
    from bot.commands.jobs import print_upcoming_jobs
    from bot.rules.loader import load_registry

    check_ports(host, [(port, t("errors.what_webhook")), (fake_port, t("errors.what_fake"))],
                t("errors.port_hint_demo"))
    claim_scheduler(settings)
    registry = load_registry(settings.policy_dirs)
    summary = await prepare_demo_database(settings, registry, on.date() if isinstance(on, dt.datetime) else on)
    start, stage = demo_clock_start(registry, settings, on)
    config.set_clock(start)
    if not os.environ.get("YIBAO_PUBLIC_URL"):  # the digests' township page links open this demo's server
        settings = replace(settings, public_url=f"http://{host}:{port}")
    stack = await start_stack(settings, host, port, fake_port, registry=registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print_upcoming_jobs(registry, stack.settings, after=config.now(), region=DEMO_REGION, limit=6)
    print(banner(stack, summary, registry, start, stage), flush=True)
    print(await outreach_demo(stack, registry, DEMO_REGION), flush=True)
    try:
        await stop.wait()
    finally:
        await stack.close()


def _today(raw: str) -> dt.date | dt.datetime:
    try:
        return config.parse_today(raw)
    except config.ConfigError:
        raise argparse.ArgumentTypeError(t("args.bad_today", text=raw)) from None


def run(args: argparse.Namespace) -> int:
    configure_logging()
    for noisy in ("alembic", "apscheduler"):  # their start-up lines would bury the banner
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings.from_env()
    on = args.today or settings.today or DEMO_TODAY
    asyncio.run(_demo(settings, args.host, args.port, args.fake_port, on))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help=t("demo.help"), description=t("demo.description"))
    p.add_argument("--host", default="127.0.0.1", help=t("demo.host"))
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=t("demo.port", default=DEFAULT_PORT))
    p.add_argument("--fake-port", type=int, default=DEFAULT_FAKE_PORT,
                   help=t("demo.fake_port", default=DEFAULT_FAKE_PORT))
    p.add_argument("--today", type=_today, help=t("demo.today", default=DEMO_TODAY.isoformat()))
    p.set_defaults(func=run)

