"""`yibao serve [--host H] [--port P] [--workers N] [--no-scheduler]`: the webhook (and console) over HTTP.

With `--workers N`, N processes share the port (SO_REUSEPORT) after the parent has created or migrated the
database once; only the first worker runs the scheduler. Settings come from YIBAO_* variables only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.commands.args import positive
from bot.commands.common import check_ports, claim_scheduler
from bot.commands.text import t
from bot.config import Settings

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("yibao.serve")

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8080


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")


def warn_about_demo_settings(settings: Settings) -> None:
    if settings.id_hmac_key == Settings.id_hmac_key:
        log.warning("YIBAO_ID_HMAC_KEY is not set: using the demo key; set a secret key before real ID numbers")
    if settings.wechat_token == Settings.wechat_token:
        log.warning("YIBAO_WECHAT_TOKEN is not set: using the demo token")
    if settings.today is not None:
        log.warning("YIBAO_TODAY=%s: the clock runs from that day (for demos); unset it in production", settings.today)


async def run_until_stopped(app: web.Application, host: str, port: int, *, reuse_port: bool = False,
                            access_log: bool = True, ready: Callable[[], None] | None = None) -> None:
    """Serve `app` until SIGINT or SIGTERM, behind the edge's deadlines and connection cap."""
    from bot.keys import SETTINGS
    from bot.wechat import edge

    settings = app.get(SETTINGS) or Settings()  # the fake WeChat has none of its own
    limits = edge.Limits.from_settings(settings, edge.raise_descriptor_limit())
    async with edge.serving(app, host, port, limits, reuse_port=reuse_port, access_log=access_log):
        if ready:
            ready()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def _worker(settings: Settings, host: str, port: int, scheduler: bool, access_log: bool) -> None:
    from bot.app import create_app

    configure_logging()
    app = create_app(settings, scheduler=scheduler)
    asyncio.run(run_until_stopped(app, host, port, reuse_port=True, access_log=access_log))


def serve(settings: Settings, host: str, port: int, *, workers: int = 1, scheduler: bool = True,
          access_log: bool = True) -> int:
    from bot.app import create_app

    def ready() -> None:
        print(t("serve.serving", host=host, port=port), flush=True)

    if workers == 1:
        app = create_app(settings, scheduler=scheduler)
        asyncio.run(run_until_stopped(app, host, port, access_log=access_log, ready=ready))
        return 0

    async def migrate_once() -> None:  # before the workers start, so they do not race to create tables
        from bot.rules.loader import load_registry
        from bot.store.db import make_engine
        from bot.store.schema import ensure_schema

        engine = make_engine(settings)
        try:
            await ensure_schema(engine, registry=load_registry(settings.policy_dirs))
        finally:
            await engine.dispose()

    asyncio.run(migrate_once())
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_worker,
            args=(settings, host, port, scheduler and i == 0, access_log),
            name=f"yibao-worker-{i}",
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    ready()
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for proc in procs:
            if proc.is_alive() and proc.pid:
                proc.terminate()  # SIGTERM: each worker shuts down cleanly

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while any(p.is_alive() for p in procs):
        for proc in procs:
            proc.join(timeout=0.5)
            if not stopping and proc.exitcode not in (None, 0):
                log.error("%s exited with %s: stopping the others", proc.name, proc.exitcode)
                stop(signal.SIGTERM, None)
    return 0 if stopping else 1


def run(args: argparse.Namespace) -> int:
    configure_logging()
    settings = Settings.from_env()
    check_ports(args.host, [(args.port, t("errors.what_webhook"))], t("errors.port_hint_serve"))
    if not args.no_scheduler:
        claim_scheduler(settings)
    warn_about_demo_settings(settings)
    return serve(
        settings,
        args.host,
        args.port,
        workers=args.workers,
        scheduler=not args.no_scheduler,
        access_log=not args.no_access_log,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help=t("serve.help"), description=t("serve.description"))
    p.add_argument("--host", default=DEFAULT_HOST, help=t("serve.host", default=DEFAULT_HOST))
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=t("serve.port", default=DEFAULT_PORT))
    p.add_argument("--workers", type=positive, default=1, help=t("serve.workers"))
    p.add_argument("--no-scheduler", action="store_true", help=t("serve.no_scheduler"))
    p.add_argument("--no-access-log", action="store_true", help=t("serve.no_access_log"))
    p.set_defaults(func=run)
