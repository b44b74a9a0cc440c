"""The bureau console at /console: a sub-application with its own session and guard middlewares, so the
webhook's requests never pass through them. One module per page group; `setup_console(app)` composes them.

Layering: the console sits below the app and above the scheduler and the WeChat client; nothing below
imports it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from bot import config
from bot.config import Settings
from bot.console import admin, auth, broadcasts, campaigns, dashboard, imports, policies, unanswered
from bot.console.context import CONSOLE, Console
from bot.console.guard import guard
from bot.console.views import FILTERS

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "console"
SECRET_FILE = Path("var") / "console-secret"
PAGES = [auth, dashboard, imports, policies, campaigns, broadcasts, unanswered, admin]
# The only script a console page runs: its filters' selects submit their form on change. Allowed by hash,
# so markup that slipped into a page still could not run a script of its own.
INLINE_HANDLERS = ("this.form.submit()",)


def _script_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'", "img-src 'self' data:", "style-src 'unsafe-inline'",
    "script-src 'unsafe-hashes' " + " ".join(_script_hash(h) for h in INLINE_HANDLERS),
    "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
])
LOCKED_DOWN = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # browsers without frame-ancestors
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # names, progress, masked IDs: not kept by a browser's or a proxy's cache
}


async def locked_down(request: web.Request, response: web.StreamResponse) -> None:
    """Every console answer, pages, refusals and files alike: not framed by another site (clickjacking), no
    script but the console's own, no form posting elsewhere, no Referer beyond the site, nothing cached."""
    for name, value in LOCKED_DOWN.items():
        response.headers.setdefault(name, value)


def session_key(settings: Settings, path: Path = SECRET_FILE) -> bytes:
    """The Fernet key of the session cookies: YIBAO_CONSOLE_SECRET, else one generated once and kept in
    var/ (every worker on this machine reads the same file; set the variable when several machines serve)."""
    if settings.console_secret:
        return settings.console_secret.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        Fernet(key)  # refuses a damaged file
        return key
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def setup_console(app: web.Application, *, clock: Callable | None = None) -> None:
    """Mount the console at /console on `app` (after its database and policy steps)."""
    from bot.keys import ENGINE, POLICIES, SESSIONS, SETTINGS

    settings = app[SETTINGS]
    storage = EncryptedCookieStorage(
        Fernet(session_key(settings)), cookie_name="yibao_console", httponly=True,
        samesite="Lax", secure=settings.console_https, path="/console",
    )
    sub = web.Application(client_max_size=256 * 1024 * 1024)  # uploaded rosters
    setup_sessions(sub, storage)
    sub.on_response_prepare.append(locked_down)
    sub.middlewares.append(guard)  # it also gives the templates their globals (who, CSRF token, routes)
    env = aiohttp_jinja2.setup(sub, loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                               undefined=jinja2.StrictUndefined)
    env.filters.update(FILTERS)
    for page in PAGES:
        sub.add_routes(page.routes)

    async def deps(_sub: web.Application) -> AsyncIterator[None]:
        sub[CONSOLE] = Console(settings, app[ENGINE], app[SESSIONS], app[POLICIES], clock or config.now)
        yield

    sub.cleanup_ctx.append(deps)

    async def bare(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console/")

    # Before the sub-app: its prefix resource also matches "/console" itself and would answer 404.
    app.router.add_get("/console", bare)
    app.add_subapp("/console", sub)
