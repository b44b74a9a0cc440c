"""/console/login and /console/logout."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.catalogue import t
from bot.console.context import EVERYONE, PUBLIC, account, allow, console
from bot.console.guard import start_session
from bot.store.users import FAILURE_WINDOW, audit, authenticate, end_sessions, throttled

routes = web.RouteTableDef()


def _next(request: web.Request, raw: str | None) -> str:
    """Where to go after login: a path of the console only (no open redirect)."""
    home = str(request.app.router["home"].url_for())
    if raw and raw.startswith(home) and not raw.startswith("//") and "\\" not in raw:
        return raw
    return home


def client_ip(request: web.Request) -> str:
    if console(request).settings.console_https and "X-Forwarded-For" in request.headers:
        return request.headers["X-Forwarded-For"].split(",")[-1].strip()  # the address our proxy saw
    return request.remote or "?"


@routes.get("/login", name="login")
@allow(PUBLIC)
async def login_form(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("login.html", request, {"next": request.query.get("next", ""),
                                                                  "error": None, "username": ""})


@routes.post("/login")
@allow(PUBLIC)
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))
    target = str(form.get("next", ""))
    ip = client_ip(request)
    c = console(request)
    error = None
    async with c.sessions() as db, db.begin():
        if await throttled(db, username, ip):
            minutes = int(FAILURE_WINDOW.total_seconds() // 60)
            error = t("console.login_throttled", minutes=minutes)
            await audit(db, username, "login.throttled", {"ip": ip})
            acc = None
        else:
            acc = await authenticate(db, username, password, ip)
            if acc is None:
                error = t("console.login_failed")
    if acc is None:
        return aiohttp_jinja2.render_template("login.html", request,
                                              {"next": target, "error": error, "username": username}, status=401)
    await start_session(request, acc.id)
    raise web.HTTPSeeOther(_next(request, target))


@routes.post("/logout", name="logout")
@allow(*EVERYONE)
async def logout(request: web.Request) -> web.StreamResponse:
    async with console(request).sessions() as db, db.begin():
        await end_sessions(db, account(request).id)  # also a copy of the cookie
        await audit(db, account(request).username, "logout", {})
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther(request.app.router["login"].url_for())
