"""The aiohttp application: webhook, health check, and the feature steps (console, scheduler).

`create_app(settings)` is a list of small `setup_*` steps; what lives as long as the app (engine, HTTP
session, the webhook's batching store, background deliveries) is opened and closed in `cleanup_ctx`, and
reached through typed `web.AppKey`s.
"""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot import config
from bot.config import Settings
from bot.console import setup_console, township
from bot.pipeline import ANSWERS
from bot.rules.loader import PolicyRegistry, load_registry
from bot.store.db import make_engine, make_sessionmaker
from bot.store.published import CurrentRegistry
from bot.store.schema import ensure_schema
from bot.wechat.client import WeChatClient
from bot.wechat.inbox import Clock, Deps, Inbox, Offline, Responder
from bot.wechat.store import WebhookStore
from bot.wechat.webhook import WeChatWebhook

log = logging.getLogger("yibao.app")

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", PolicyRegistry)  # the policy files
POLICIES = web.AppKey("policies", CurrentRegistry)  # the files plus what the console published: answer with this
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker)
HTTP = web.AppKey("http", aiohttp.ClientSession)
WECHAT = web.AppKey("wechat", WeChatClient)
WEBHOOK_STORE = web.AppKey("webhook_store", WebhookStore)
WORKERS_LOCK = web.AppKey("workers_lock", object)  # shared by the workers of `yibao serve --workers N`
WEBHOOK = web.AppKey("webhook", WeChatWebhook)

# gc.set_threshold once the app runs: a young-generation collection every 10,000 net allocations, not 700
# (most of a request's objects are freed by reference counting long before); older ones as usual.
GC_THRESHOLDS = (10_000, 10, 10)

# Further features, each a "module:function" taking the app (composed like COMMAND_MODULES in bot/cli.py).
FEATURE_STEPS: list[str] = []  # e.g. the bureau console
# the in-process scheduler; `yibao serve --no-scheduler` leaves these out
SCHEDULER_STEPS: list[str] = ["scheduler.wiring:setup_scheduler"]


def setup_registry(app: web.Application, registry: PolicyRegistry | None) -> None:
    """Policies are loaded once, here, not per message."""
    app[REGISTRY] = registry if registry is not None else load_registry(app[SETTINGS].policy_dirs)
    app[POLICIES] = CurrentRegistry(app[REGISTRY])


def setup_db(app: web.Application) -> None:
    async def db_ctx(app: web.Application) -> AsyncIterator[None]:
        engine = make_engine(app[SETTINGS])
        await ensure_schema(engine, registry=app[REGISTRY])
        app[ENGINE] = engine
        app[SESSIONS] = make_sessionmaker(engine)
        await app[POLICIES].refresh(app[SESSIONS])  # published policies, before anything answers
        app[POLICIES].start(app[SESSIONS])  # then every second: a publication reaches every worker
        yield
        await app[POLICIES].stop()
        await engine.dispose()

    app.cleanup_ctx.append(db_ctx)


def setup_wechat_client(app: web.Application) -> None:
    async def client_ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        async with aiohttp.ClientSession() as http:
            app[HTTP] = http
            app[WECHAT] = WeChatClient(
                http,
                appid=settings.wechat_appid,
                secret=settings.wechat_secret,
                base=settings.wechat_api_base,
                sessions=app[SESSIONS],
                retries=2,
            )
            yield

    app.cleanup_ctx.append(client_ctx)


def setup_webhook_store(app: web.Application) -> None:
    """The webhook's database work, batched into shared transactions; flushed at shutdown."""

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        store = WebhookStore(app[SETTINGS], app[ENGINE], app.get(WORKERS_LOCK))
        store.start()
        app[WEBHOOK_STORE] = store
        yield
        await store.close()

    app.cleanup_ctx.append(store_ctx)


def setup_webhook(
    app: web.Application, responder: Responder | None, clock: Clock | None, offline: Offline | None
) -> None:
    if responder is None:
        from bot.pipeline import respond as responder
        from bot.pipeline import respond_offline as offline
    clock = clock or config.now

    async def webhook_ctx(app: web.Application) -> AsyncIterator[None]:
        deps = Deps(
            settings=app[SETTINGS],
            policies=app[POLICIES],
            sessions=app[SESSIONS],
            store=app[WEBHOOK_STORE],
            responder=responder,
            clock=clock,
            client=app[WECHAT],
            offline=offline,
        )
        inbox = Inbox(deps)
        app[WEBHOOK] = WeChatWebhook(app[SETTINGS], inbox)
        yield
        await inbox.drain()
        cache = ANSWERS
        log.info("answer cache: %d hits, %d misses (%.0f%%), %d bypassed (conversation state), %d entries",
                 cache.hits, cache.misses, 100 * cache.hit_ratio, cache.bypassed, len(cache))

    async def verify(request: web.Request) -> web.StreamResponse:
        return await request.app[WEBHOOK].verify(request)

    async def receive(request: web.Request) -> web.StreamResponse:
        return await request.app[WEBHOOK].receive(request)

    app.cleanup_ctx.append(webhook_ctx)
    app.router.add_get("/wechat", verify)
    app.router.add_post("/wechat", receive)


def setup_gc(app: web.Application) -> None:
    """Once the app has started: compile what is compiled on first use (the NLU's patterns, the message
    templates), then move everything alive into the collector's permanent generation (gc.freeze), and
    collect the youngest generation less often. The registry, SQLAlchemy's metadata and the compiled
    patterns and templates are some 140,000 objects that live as long as the process: each full collection
    walked them all (about 100 ms, every few seconds under load, the whole event loop standing still), now
    it walks only what was made since."""

    async def freeze(app: web.Application) -> None:
        global _gc_tuned
        if _gc_tuned:  # once per process (tests start many apps)
            return
        _gc_tuned = True
        from bot.nlu import extractor_for
        from bot.render import environment

        extractor_for(app[REGISTRY])
        env = environment()
        for name in env.list_templates(extensions=["j2"]):
            env.get_template(name)
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    app.on_startup.append(freeze)


_gc_tuned = False


def setup_health(app: web.Application) -> None:
    async def healthz(request: web.Request) -> web.Response:
        try:
            async with request.app[SESSIONS]() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            return web.json_response({"status": "error", "database": str(exc)}, status=503)
        return web.json_response({"status": "ok", "policies": len(request.app[POLICIES].registry.policies)})

    app.router.add_get("/healthz", healthz)


def setup_township_page(app: web.Application, clock: Clock | None) -> None:
    """The signed township page a digest links to (bot/console/township.py)."""
    township.setup(app, app[SETTINGS], lambda: app[SESSIONS], lambda: app[REGISTRY], clock or config.now)


def _run_steps(app: web.Application, steps: list[str]) -> None:
    for step in steps:
        module, _, func = step.partition(":")
        getattr(importlib.import_module(module), func)(app)


def create_app(
    settings: Settings,
    *,
    registry: PolicyRegistry | None = None,
    responder: Responder | None = None,
    clock: Clock | None = None,
    scheduler: bool = True,
    offline: Offline | None = None,
    workers_lock: Any = None,
) -> web.Application:
    """The application. Tests inject `registry`, `responder` (default: bot.pipeline.respond) and `clock`
    (default: now in Asia/Shanghai); `scheduler=False` is `yibao serve --no-scheduler`. `offline` is the
    responder's answer when giving it needs no database, else None (default: bot.pipeline.respond_offline
    with the default responder; none with another, whose messages are then always claimed first).
    `workers_lock` is the lock `yibao serve --workers N` shares between its workers (bot/wechat/store.py)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    if workers_lock is not None:
        app[WORKERS_LOCK] = workers_lock
    setup_registry(app, registry)
    setup_db(app)
    setup_wechat_client(app)
    setup_webhook_store(app)
    setup_webhook(app, responder, clock, offline)
    setup_health(app)
    setup_console(app, clock=clock)
    setup_township_page(app, clock)
    setup_gc(app)
    _run_steps(app, FEATURE_STEPS)
    if scheduler:
        _run_steps(app, SCHEDULER_STEPS)
    return app
