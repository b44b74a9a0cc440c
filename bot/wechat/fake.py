"""A fake WeChat API server for the demo and the tests (`yibao fake-wechat`, or `create_fake_app()` in-process).

It serves the endpoints the bot calls, hands out and validates access tokens like WeChat (a stable token
stays the same while valid; force_refresh replaces it), and records every call:

    GET    /_fake/messages            every call so far, as a JSON list (?endpoint=custom/send filters)
    DELETE /_fake/messages            forget them
    POST   /_fake/inject              {"endpoint": "custom/send", "errcode": 45009, "http_status": 500,
                                       "delay_s": 6, "late_s": 6, "times": 1}: the next `times` calls fail
                                       (or wait before acting: delay_s; or act, then wait before answering:
                                       late_s, a call the caller may give up on though it was delivered)
    DELETE /_fake/inject              drop pending injections
    POST   /_fake/expire              expire every token (the next call gets 42001)
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

Result = dict[str, Any]
Endpoint = Callable[["FakeWeChat", dict[str, Any], dict[str, str]], Result]

INVALID_TOKEN, EXPIRED_TOKEN, BAD_DATA = 40001, 42001, 47001


@dataclass
class Injection:
    endpoint: str  # "custom/send", "message/custom/send", "stable_token", or "*" for every endpoint
    errcode: int | None = None
    http_status: int | None = None
    delay_s: float = 0.0
    late_s: float = 0.0
    times: int = 1

    def matches(self, endpoint: str) -> bool:
        ep = self.endpoint.strip("/").removeprefix("cgi-bin/")
        return ep == "*" or endpoint == ep or endpoint.endswith("/" + ep)


class FakeWeChat:
    """The fake's state: tokens, recorded calls, pending injections."""

    def __init__(self, appid: str, secret: str, token_ttl_s: int = 7200):
        self.appid = appid
        self.secret = secret
        self.token_ttl_s = token_ttl_s
        self.calls: list[dict[str, Any]] = []
        self.injections: list[Injection] = []
        self.tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.stable: str | None = None
        self._ids = itertools.count(1_000_001)
        self._mass: dict[str, int] = {}  # clientmsgid -> msg_id
        # template/send 防重入: (touser, client_msg_id) -> (msgid, first seen); one delivery within the window
        self._template_ids: dict[tuple[str, str], tuple[int, float]] = {}

    def mint(self, ttl_s: int | None = None) -> str:
        token = "fake-" + secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + (ttl_s or self.token_ttl_s)
        return token

    def take_injection(self, endpoint: str) -> Injection | None:
        for inj in self.injections:
            if inj.matches(endpoint):
                inj.times -= 1
                if inj.times <= 0:
                    self.injections.remove(inj)
                return inj
        return None

    def check_token(self, token: str) -> int:
        expiry = self.tokens.get(token)
        if expiry is None:
            return INVALID_TOKEN
        return EXPIRED_TOKEN if expiry <= time.time() else 0

    def check_credentials(self, appid: str, secret: str) -> Result | None:
        if appid != self.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if secret != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        return None


# -- endpoints ---------------------------------------------------------------------------------------


def stable_token(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    refused = fake.check_credentials(body.get("appid", ""), body.get("secret", ""))
    if refused or body.get("grant_type") != "client_credential":
        return refused or {"errcode": 40002, "errmsg": "invalid grant_type"}
    now = time.time()
    left = fake.tokens.get(fake.stable, 0) - now if fake.stable else 0
    if body.get("force_refresh"):
        fake.tokens.pop(fake.stable or "", None)  # force refresh invalidates the previous token at once
        fake.stable = fake.mint()
    elif left <= 300:  # WeChat renews a stable token in its last five minutes
        fake.stable = fake.mint()
    return {"access_token": fake.stable, "expires_in": int(fake.tokens[fake.stable] - now)}


def token(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    refused = fake.check_credentials(query.get("appid", ""), query.get("secret", ""))
    if refused:
        return refused
    return {"access_token": fake.mint(), "expires_in": fake.token_ttl_s}


def _needs(body: dict[str, Any], *names: str) -> Result | None:
    missing = [n for n in names if not body.get(n)]
    return {"errcode": BAD_DATA, "errmsg": f"data format error: missing {', '.join(missing)}"} if missing else None


def custom_send(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    return _needs(body, "touser", "msgtype") or {"errcode": 0, "errmsg": "ok"}


TEMPLATE_DEDUPE_S = 600  # WeChat keeps a template send's client_msg_id for about 10 minutes


def template_send(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    """A repeated (touser, client_msg_id) within the window answers ok with the first msgid and is not
    delivered again (`delivered` is False in the recorded call)."""
    bad = _needs(body, "touser", "template_id")
    if bad:
        return bad
    client_id = body.get("client_msg_id")
    now = time.time()
    if client_id:
        seen = fake._template_ids.get((body["touser"], client_id))
        if seen and now - seen[1] < TEMPLATE_DEDUPE_S:
            return {"errcode": 0, "errmsg": "ok", "msgid": seen[0], "_delivered": False}
    msgid = next(fake._ids)
    if client_id:
        fake._template_ids[(body["touser"], client_id)] = (msgid, now)
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


def menu_create(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    return _needs(body, "button") or {"errcode": 0, "errmsg": "ok"}


def mass_send(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    bad = _needs(body, "touser", "msgtype")
    if bad:
        return bad
    if not isinstance(body["touser"], list) or not 2 <= len(body["touser"]) <= 10_000:
        return {"errcode": 40130, "errmsg": "invalid openid list size, at least two openid"}
    client_id = body.get("clientmsgid")
    if client_id and client_id in fake._mass:
        return {"errcode": 45065, "errmsg": "clientmsgid exist", "msg_id": fake._mass[client_id]}
    msg_id = next(fake._ids)
    if client_id:
        fake._mass[client_id] = msg_id
    return {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id, "msg_data_id": msg_id}


def mass_preview(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    return _needs(body, "touser", "msgtype") or {"errcode": 0, "errmsg": "preview success", "msg_id": next(fake._ids)}


def user_info(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    openid = query.get("openid")
    if not openid:
        return {"errcode": 40003, "errmsg": "invalid openid"}
    return {"subscribe": 1, "openid": openid, "language": query.get("lang", "zh_CN"), "subscribe_time": 1700000000}


# path, method, handler, needs an access_token
ENDPOINTS: list[tuple[str, str, Endpoint, bool]] = [
    ("/cgi-bin/stable_token", "POST", stable_token, False),
    ("/cgi-bin/token", "GET", token, False),
    ("/cgi-bin/message/custom/send", "POST", custom_send, True),
    ("/cgi-bin/message/template/send", "POST", template_send, True),
    ("/cgi-bin/menu/create", "POST", menu_create, True),
    ("/cgi-bin/message/mass/send", "POST", mass_send, True),
    ("/cgi-bin/message/mass/preview", "POST", mass_preview, True),
    ("/cgi-bin/user/info", "GET", user_info, True),
]

FAKE = web.AppKey("fake_wechat", FakeWeChat)


def _api(path: str, handler: Endpoint, auth: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    name = path.removeprefix("/cgi-bin/")

    async def view(request: web.Request) -> web.Response:
        fake = request.app[FAKE]
        query = {k: v for k, v in request.query.items() if k != "access_token"}
        body: dict[str, Any] = {}
        if request.method == "POST":
            try:
                body = await request.json()
            except ValueError:
                body = {"_invalid": True}
        call: dict[str, Any] = {"endpoint": name, "method": request.method, "query": query, "body": body}
        result: Result | None = None
        inj = fake.take_injection(name)
        if inj is not None:
            call["injected"] = asdict(inj)
            if inj.delay_s:
                await asyncio.sleep(inj.delay_s)
            if inj.http_status:
                call.update(http_status=inj.http_status, at=time.time())
                fake.calls.append(call)
                return web.Response(status=inj.http_status, text="injected failure")
            if inj.errcode is not None:
                result = {"errcode": inj.errcode, "errmsg": "injected error"}
        if result is None and auth:
            code = fake.check_token(request.query.get("access_token", ""))
            if code:
                result = {"errcode": code, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if result is None:
            if not isinstance(body, dict) or body.get("_invalid"):
                result = {"errcode": BAD_DATA, "errmsg": "data format error"}
            else:
                result = handler(fake, body, query)
        delivered = result.pop("_delivered", result.get("errcode", 0) == 0)
        call.update(errcode=result.get("errcode", 0), http_status=200, at=time.time(), delivered=delivered)
        fake.calls.append(call)
        if inj is not None and inj.late_s:
            await asyncio.sleep(inj.late_s)
        return web.json_response(result)

    return view


async def _messages(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    if request.method == "DELETE":
        fake.calls.clear()
        return web.json_response({"cleared": True})
    wanted = request.query.get("endpoint")
    calls = [c for c in fake.calls if not wanted or Injection(wanted).matches(c["endpoint"])]
    return web.json_response(calls)


async def _inject(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    if request.method == "DELETE":
        fake.injections.clear()
        return web.json_response({"cleared": True})
    try:
        raw = await request.json()
        inj = Injection(
            endpoint=str(raw["endpoint"]),
            errcode=None if raw.get("errcode") is None else int(raw["errcode"]),
            http_status=None if raw.get("http_status") is None else int(raw["http_status"]),
            delay_s=float(raw.get("delay_s") or 0),
            late_s=float(raw.get("late_s") or 0),
            times=int(raw.get("times") or 1),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return web.json_response({"error": f"bad injection: {exc!r}"}, status=400)
    fake.injections.append(inj)
    return web.json_response(asdict(inj))


async def _expire(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    for tok in fake.tokens:
        fake.tokens[tok] = 0.0
    return web.json_response({"expired": len(fake.tokens)})


def create_fake_app(appid: str, secret: str, token_ttl_s: int = 7200) -> web.Application:
    app = web.Application()
    app[FAKE] = FakeWeChat(appid, secret, token_ttl_s)
    for path, method, handler, auth in ENDPOINTS:
        app.router.add_route(method, path, _api(path, handler, auth))
    app.router.add_route("GET", "/_fake/messages", _messages)
    app.router.add_route("DELETE", "/_fake/messages", _messages)
    app.router.add_route("POST", "/_fake/inject", _inject)
    app.router.add_route("DELETE", "/_fake/inject", _inject)
    app.router.add_post("/_fake/expire", _expire)
    return app
