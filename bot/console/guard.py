"""Every console request passes here: session, expiry, account, role, township, CSRF and Origin.

Deny by default: a route must say which roles may use it (`allow`), a township leader's request naming
another township (in the path or the query) is refused with 403, and every state-changing request needs
the session's CSRF token (form field `csrf_token` or header X-CSRF-Token) and, when the browser sends
one, an Origin (or Referer) of this site.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session, get_session, new_session

from bot.catalogue import t
from bot.console.context import ACCOUNT, CSRF, PUBLIC, Handler, console
from bot.store.users import Account, session_account

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ABSOLUTE_LIFETIME = dt.timedelta(hours=12)  # a session ends after this however active


def _now() -> float:
    return dt.datetime.now(dt.UTC).timestamp()


def csrf_token(session: Session) -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def refuse(request: web.Request, status: int, message: str) -> web.Response:
    return aiohttp_jinja2.render_template("error.html", request, {"status": status, "message": message},
                                          status=status)


def _origin_ok(request: web.Request) -> bool:
    """An Origin (or, without one, a Referer) must be this site; neither is accepted (non-browser clients:
    the CSRF token still has to match)."""
    claimed = request.headers.get("Origin") or request.headers.get("Referer")
    if not claimed:
        return True
    if claimed == "null":
        return False
    parts = urlsplit(claimed)
    scheme = request.scheme
    if console(request).settings.console_https:
        scheme = request.headers.get("X-Forwarded-Proto", "https").split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host") if console(request).settings.console_https else None
    return parts.scheme == scheme and parts.netloc == (host or request.host)


async def _csrf_ok(request: web.Request, session: Session) -> bool:
    expected = session.get("csrf")
    if not expected:
        return False
    given = request.headers.get("X-CSRF-Token")
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()  # read once, kept by aiohttp for the handler
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _township_ok(request: web.Request) -> bool:
    """A township leader may only name its own county and township, in the path or the query."""
    acc = request[ACCOUNT]
    if acc.role != "township":
        return True
    for source in (request.match_info, request.query):
        county = source.get("county") or source.get("region")
        township = source.get("township")
        if county is not None and county != acc.county:
            return False
        if township is not None and township != acc.township:
            return False
    return True


async def start_session(request: web.Request, user_id: int) -> None:
    """A fresh session for a user who just signed in (a new id and token: no fixation)."""
    session = await new_session(request)
    now = _now()
    session.update({"uid": user_id, "issued": now, "seen": now, "csrf": secrets.token_urlsafe(32)})


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    roles = getattr(request.match_info.handler, "roles", None)
    session = await get_session(request)
    request[CSRF] = csrf_token(session)
    router = request.app.router
    page = request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = {
        "me": None, "csrf_token": request[CSRF], "route": router, "named": router.named_resources()}
    unrouted = request.match_info.http_exception
    if unrouted is not None:  # no such page (or method): said in Chinese, with the way back (and the menu)
        acc = await _signed_in(request, session)
        if acc is not None:
            request[ACCOUNT] = page["me"] = acc
        return refuse(request, unrouted.status,
                      t("console.not_found") if unrouted.status == 404 else t("console.bad_method"))
    if roles is None or PUBLIC not in roles:
        # Who is asking comes first: an upload's body is not read for anyone not signed in.
        acc = await _signed_in(request, session)
        if acc is None:
            request[CSRF] = page["csrf_token"] = csrf_token(session)
            if request.method in SAFE_METHODS:
                raise web.HTTPFound(router["login"].url_for().with_query(next=request.path_qs))
            return refuse(request, 401, t("console.sign_in"))
        request[ACCOUNT] = page["me"] = acc
        if not roles or acc.role not in roles:
            return refuse(request, 403, t("console.role_refused", role=acc.role_name))
        if not _township_ok(request):
            return refuse(request, 403, t("console.township_only", county=acc.county, township=acc.township))
    if request.method not in SAFE_METHODS:
        if not _origin_ok(request):
            return refuse(request, 403, t("console.foreign_origin"))
        if not await _csrf_ok(request, session):
            return refuse(request, 403, t("console.csrf"))
    try:
        return await handler(request)
    except web.HTTPClientError as exc:  # a page's own refusal (没有这个乡镇): on the console's page, not bare text
        if exc.content_type != "text/plain":
            raise
        return refuse(request, exc.status, _message(exc))


def _message(exc: web.HTTPClientError) -> str:
    """A refusal's own Chinese text, or for aiohttp's English default ("404: Not Found", a body too large)
    the console's word for that status."""
    text = exc.text or ""
    if text and not text.startswith(f"{exc.status}: ") and exc.status != 413:
        return text
    return t({404: "console.not_found", 413: "console.too_large"}.get(exc.status, "console.bad_request"))


async def _signed_in(request: web.Request, session: Session) -> Account | None:
    """The session's account while the session is fresh and the account enabled; else the session ends."""
    if "uid" not in session:
        return None
    c = console(request)
    now = _now()
    idle = now - session.get("seen", 0) > c.settings.console_session_idle_s
    old = now - session.get("issued", 0) > ABSOLUTE_LIFETIME.total_seconds()
    acc = None
    if not (idle or old):
        issued = dt.datetime.fromtimestamp(session["issued"], dt.UTC)
        async with c.sessions() as db:
            acc = await session_account(db, session["uid"], issued)
    if acc is None:
        session.clear()
    else:
        session["seen"] = now
    return acc
