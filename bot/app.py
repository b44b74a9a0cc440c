"""The aiohttp application: webhook, health check, the console and the scheduler.

`create_app(settings)` is a list of small `setup_*` steps; what lives as long as the app (engine, HTTP
session, the inbox's writer, background deliveries) is opened and closed in `cleanup_ctx`, and
reached through typed `web.AppKey`s.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from sqlalchemy import text

from bot import config
from bot.answers import ANSWERS
from bot.config import Settings
from bot.console import setup_console, township
from bot.keys import ENGINE, HTTP, POLICIES, REGISTRY, SESSIONS, SETTINGS, WECHAT
from bot.pipeline import respond
from bot.rules.loader import PolicyRegistry, load_registry
from bot.store.db import make_engine, make_sessionmaker
from bot.store.inbox import InboxStore
from bot.store.published import CurrentRegistry
from bot.store.schema import ensure_schema
from bot.wechat.client import WeChatClient
from bot.wechat.inbox import Clock, Deps, Inbox, Responder
from bot.wechat.webhook import WeChatWebhook
from scheduler.wiring import setup_scheduler

log = logging.getLogger("yibao.app")

WEBHOOK = web.AppKey("webhook", WeChatWebhook)

# gc.set_threshold once the app runs: a young-generation collection every 10,000 net allocations, not 700
# (most of a request's objects are freed by reference counting long before); older ones as usual.
GC_THRESHOLDS = (10_000, 10, 10)


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


def setup_webhook(app: web.Application, responder: Responder | None, clock: Clock | None) -> None:
    """POST /wechat: claim, answer, store (bot/wechat/inbox.py), its writes in shared transactions."""

    async def webhook_ctx(app: web.Application) -> AsyncIterator[None]:
        store = InboxStore(app[ENGINE])
        store.start()
        deps = Deps(
            settings=app[SETTINGS],
            policies=app[POLICIES],
            sessions=app[SESSIONS],
            store=store,
            responder=responder or respond,
            clock=clock or config.now,
            client=app[WECHAT],
        )
        inbox = Inbox(deps)
        app[WEBHOOK] = WeChatWebhook(app[SETTINGS], inbox)
        yield
        await inbox.drain()
        await store.close()
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


# Database drivers that log each statement with its parameters at DEBUG: openids, names, masked IDs. They
# never log below WARNING, whatever the root logger's level (Security in README: logs carry no openid).
STATEMENT_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg")


async def _nosniff(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


def setup_nosniff(app: web.Application) -> None:
    """Every answer is taken for the type it declares, never sniffed: the webhook's GET answer echoes
    `echostr`, which its signature does not cover, so a signed URL can reflect any text; as text/plain with
    nosniff a browser shows markup in it as text. The same holds for refusals quoting a request, and for the
    console's pages and files."""
    app.on_response_prepare.append(_nosniff)


def setup_private_logs() -> None:
    for name in STATEMENT_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))


def setup_township_page(app: web.Application, clock: Clock | None) -> None:
    """The signed township page a digest links to (bot/console/township.py)."""
    township.setup(app, app[SETTINGS], lambda: app[SESSIONS], lambda: app[REGISTRY], clock or config.now)


def create_app(
    settings: Settings,
    *,
    registry: PolicyRegistry | None = None,
    responder: Responder | None = None,
    clock: Clock | None = None,
    scheduler: bool = True,
) -> web.Application:
    """The application. Tests inject `registry`, `responder` (default: bot.pipeline.respond) and `clock`
    (default: now in Asia/Shanghai); `scheduler=False` is `yibao serve --no-scheduler`."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    setup_private_logs()
    setup_nosniff(app)
    setup_registry(app, registry)
    setup_db(app)
    setup_wechat_client(app)
    setup_webhook(app, responder, clock)
    setup_health(app)
    setup_console(app, clock=clock)
    setup_township_page(app, clock)
    setup_gc(app)
    if scheduler:  # `yibao serve --no-scheduler` leaves it out
        setup_scheduler(app)
    return app
