"""A fake WeChat API server for the demo and the tests (`yibao fake-wechat`, or `create_fake_app()` in-process).

It serves the endpoints the bot calls, hands out and validates access tokens like WeChat (a stable token
stays the same while valid; force_refresh replaces it), and records every call:

    GET    /_fake/messages            every call so far, as a JSON list (?endpoint=custom/send filters)
    DELETE /_fake/messages            forget them
    POST   /_fake/inject              {"endpoint": "custom/send", "errcode": 45009, "http_status": 500,
                                       "body": "<html>", "delay_s": 6, "late_s": 6, "times": 1}: the next
                                       `times` calls fail (`body`: answered with this text as it is, not
                                       JSON, with http_status or 200, and not acted on; or wait before
                                       acting: delay_s; or act, then wait before answering: late_s, a call
                                       the caller may give up on though it was delivered)
    DELETE /_fake/inject              drop pending injections
    POST   /_fake/expire              expire every token (the next call gets 42001)
    POST   /_fake/callback            {"url": ..., "token": ..., "aes_key": ...}: where events are pushed
    POST   /_fake/scan                {"openid": ..., "ticket": ..., "new": true}: someone scans a QR code
    POST   /_fake/popup               {"openid": ..., "template_id": ..., "accept": true}: a subscribe popup
    POST   /_fake/followers           {"openids": [...]}: who follows the account (for is_to_all)

Outbound rules it enforces as WeChat does (docs: /work/shared/WECHAT.md): mass/send takes 2-10,000 openids and
a `clientmsgid` once within 24 h (45065 after); a service account's follower receives at most 4 mass
messages a calendar month (the rest are filtered, FilterCount), a subscription account sends once a day
(45028); tags: 100 per account, 20 per follower, 50 openids per batch call; parametric QR codes: scene_str
1-64 characters, temporary ones at most 30 days; subscribe/bizsend: 43101 unless the user accepted.
After a template or mass send it pushes the receipt (TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH) to the
callback URL, signed with the callback token like WeChat's own pushes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.wechat import fields
from bot.wechat.simulate import Signer, event_xml, message_xml

log = logging.getLogger("yibao.wechat.fake")

Result = dict[str, Any]
_READABLE = functools.partial(json.dumps, ensure_ascii=False)
Endpoint = Callable[["FakeWeChat", dict[str, Any], dict[str, str]], Result]

INVALID_TOKEN, EXPIRED_TOKEN, BAD_DATA, INVALID_ARGUMENT = 40001, 42001, 47001, 47003
MASS_DEDUPE_S = 24 * 3600  # a mass send's clientmsgid is remembered for 24 hours
MASS_MONTHLY = 4  # service account: mass messages a follower receives per calendar month
MAX_TAGS, MAX_TAGS_PER_USER, TAG_BATCH = 100, 20, 50
QR_MAX_EXPIRE_S = 30 * 24 * 3600
MASS_ASSISTANT = "mphelper"  # who MASSSENDJOBFINISH comes from (公众号群发助手)


@dataclass
class Injection:
    endpoint: str  # "custom/send", "message/custom/send", "stable_token", or "*" for every endpoint
    errcode: int | None = None
    http_status: int | None = None
    body: str | None = None  # answered as it is (malformed JSON, a proxy's HTML page), the call not acted on
    delay_s: float = 0.0
    late_s: float = 0.0
    times: int = 1

    def matches(self, endpoint: str) -> bool:
        ep = self.endpoint.strip("/").removeprefix("cgi-bin/")
        return ep == "*" or endpoint == ep or endpoint.endswith("/" + ep)


class FakeWeChat:
    """The fake's state: tokens, recorded calls, pending injections."""

    def __init__(self, appid: str, secret: str, token_ttl_s: int = 7200, *, account_type: str = "service",
                 callback_url: str | None = None, callback_token: str | None = None):
        self.appid = appid
        self.secret = secret
        self.token_ttl_s = token_ttl_s
        self.account_type = account_type  # service | subscription
        self.calls: list[dict[str, Any]] = []
        self.injections: list[Injection] = []
        self.tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.stable: str | None = None
        self._ids = itertools.count(1_000_001)
        self._mass: dict[str, tuple[int, float]] = {}  # clientmsgid -> (msg_id, first seen)
        self.mass_received: Counter[tuple[str, str]] = Counter()  # (openid, "YYYY-MM") -> mass messages
        self.mass_days: set[str] = set()  # days a subscription account has sent its one mass message
        self.followers: set[str] = set()  # for is_to_all; tagged and scanning users are added
        self.tags: dict[int, str] = {}
        self.user_tags: dict[str, set[int]] = {}
        self._tag_ids = itertools.count(100)
        self.qrcodes: dict[str, dict[str, Any]] = {}  # ticket -> scene, expiry
        self.accepted: set[tuple[str, str]] = set()  # (openid, template_id) a user accepted for bizsend
        self.blocked: set[str] = set()  # users who blocked the account: receipts say "failed:user block"
        self.system_failed: set[str] = set()  # receipts say "failed: system failed"
        self.callback_url = callback_url
        self.callback_token = callback_token
        self.callback_aes_key: str | None = None  # set when the webhook runs in safe mode
        self.pushed: list[dict[str, Any]] = []  # every event pushed: its HTTP status and the reply
        self._outgoing: list[tuple[str, str]] = []  # (openid, xml) waiting to be pushed
        self._tasks: set[asyncio.Task] = set()
        self._create_times: dict[str, int] = {}
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

    def month(self) -> str:
        return dt.date.today().strftime("%Y-%m")

    def push(self, openid: str, xml: str) -> None:
        """Queue an event for the callback URL (sent once the API call has answered); without a callback it
        is only recorded."""
        if not self.callback_url or not self.callback_token:
            self.pushed.append({"openid": openid, "xml": xml, "status": None, "reply": None})
            return
        self._outgoing.append((openid, xml))

    def create_time(self, sender: str) -> int:
        """Strictly increasing per sender: two events of one sender never share a CreateTime (WeChat's
        dedupe key for events is FromUserName + CreateTime)."""
        t = max(int(time.time()), self._create_times.get(sender, 0) + 1)
        self._create_times[sender] = t
        return t

    def flush(self) -> None:
        """Start pushing what is queued, in order, in the background."""
        if not self._outgoing:
            return
        batch, self._outgoing = self._outgoing, []
        task = asyncio.create_task(self._post_all(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until every queued event has been pushed (tests and the demo)."""
        self.flush()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _post_all(self, batch: list[tuple[str, str]]) -> None:
        signer = Signer(self.callback_token, self.appid, self.callback_aes_key)
        async with aiohttp.ClientSession() as http:
            for openid, xml in batch:
                params, body = signer.sign(xml)
                try:
                    async with http.post(self.callback_url, params=params, data=body,
                                         timeout=aiohttp.ClientTimeout(total=5)) as resp:
                        status, reply = resp.status, await resp.text()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.warning("fake WeChat: pushing an event to %s failed: %s", self.callback_url, exc)
                    status, reply = 0, ""
                self.pushed.append({"openid": openid, "xml": xml, "status": status, "reply": reply,
                                    "text": _reply_text(signer, reply)})

    def check_credentials(self, appid: str, secret: str) -> Result | None:
        if appid != self.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if secret != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        return None


def _reply_text(signer: Signer, reply: str) -> str | None:
    """What the follower reads of a pushed event's passive reply (decrypted in safe mode), for people
    watching the demo; None for "success", nothing, or a reply that is not WeChat XML."""
    try:
        return signer.open_reply(reply) if reply else None
    except Exception:  # a bad reply is the webhook's failure to show, not the fake's
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
    for key, item in (body.get("data") or {}).items():  # a value not of its keyword's kind is refused
        if fields.refused(key, str(item.get("value", "") if isinstance(item, dict) else item)):
            return {"errcode": INVALID_ARGUMENT, "errmsg": f"argument invalid! data.{key}.value invalid"}
    client_id = body.get("client_msg_id")
    now = time.time()
    if client_id:
        seen = fake._template_ids.get((body["touser"], client_id))
        if seen and now - seen[1] < TEMPLATE_DEDUPE_S:
            return {"errcode": 0, "errmsg": "ok", "msgid": seen[0], "_delivered": False}
    msgid = next(fake._ids)
    if client_id:
        fake._template_ids[(body["touser"], client_id)] = (msgid, now)
    touser = body["touser"]
    status = ("failed:user block" if touser in fake.blocked
              else "failed: system failed" if touser in fake.system_failed else "success")
    fake.push(touser, message_xml(touser, "event", {"Event": "TEMPLATESENDJOBFINISH", "MsgID": str(msgid),
                                                    "Status": status}, create_time=fake.create_time(touser)))
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


def menu_create(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    return _needs(body, "button") or {"errcode": 0, "errmsg": "ok"}


def _mass_deliver(fake: FakeWeChat, targets: list[str], body: dict[str, Any]) -> Result:
    """Deliver a mass message to `targets` within the account's limits; queue its MASSSENDJOBFINISH."""
    client_id = body.get("clientmsgid")
    now = time.time()
    if client_id:
        seen = fake._mass.get(client_id)
        if seen and now - seen[1] < MASS_DEDUPE_S:
            return {"errcode": 45065, "errmsg": "clientmsgid exist", "msg_id": seen[0], "_delivered": False}
    if fake.account_type == "subscription":
        today = dt.date.today().isoformat()
        if today in fake.mass_days:
            return {"errcode": 45028, "errmsg": "has no masssend quota"}
        fake.mass_days.add(today)
    msg_id = next(fake._ids)
    if client_id:
        fake._mass[client_id] = (msg_id, now)
    month = fake.month()
    delivered, filtered = [], 0
    for openid in dict.fromkeys(targets):  # WeChat sends once to an openid listed twice
        if fake.account_type == "service" and fake.mass_received[(openid, month)] >= MASS_MONTHLY:
            filtered += 1
            continue
        fake.mass_received[(openid, month)] += 1
        delivered.append(openid)
    errors = sum(1 for o in delivered if o in fake.blocked or o in fake.system_failed)
    fields = {"Event": "MASSSENDJOBFINISH", "MsgID": str(msg_id), "Status": "send success",
              "TotalCount": str(len(targets)), "FilterCount": str(len(delivered)),
              "SentCount": str(len(delivered) - errors), "ErrorCount": str(errors)}
    # FilterCount is, in WeChat's words, the number "after filtering" (过滤后准备发送的粉丝数)
    fake.push(MASS_ASSISTANT, message_xml(MASS_ASSISTANT, "event", fields,
                                          create_time=fake.create_time(MASS_ASSISTANT)))
    return {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id, "msg_data_id": msg_id,
            "_recipients": delivered, "_filtered": filtered}


def mass_send(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    bad = _needs(body, "touser", "msgtype")
    if bad:
        return bad
    if not isinstance(body["touser"], list) or not 2 <= len(body["touser"]) <= 10_000:
        return {"errcode": 40130, "errmsg": "invalid openid list size, at least two openid"}
    return _mass_deliver(fake, [str(o) for o in body["touser"]], body)


def mass_sendall(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    """By tag (`filter.tag_id`) or to every follower (`filter.is_to_all`)."""
    bad = _needs(body, "filter", "msgtype")
    if bad:
        return bad
    flt = body["filter"]
    if flt.get("is_to_all"):
        return _mass_deliver(fake, sorted(fake.followers | set(fake.user_tags)), body)
    tag_id = flt.get("tag_id")
    if tag_id not in fake.tags:
        return {"errcode": 40050, "errmsg": "invalid tag id"}
    return _mass_deliver(fake, sorted(o for o, tags in fake.user_tags.items() if tag_id in tags), body)


def mass_preview(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    return _needs(body, "touser", "msgtype") or {"errcode": 0, "errmsg": "preview success", "msg_id": next(fake._ids)}


# -- tags --------------------------------------------------------------------------------------------


def tags_create(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    name = str((body.get("tag") or {}).get("name") or "")
    if not name or len(name.encode()) > 30:
        return {"errcode": 45158, "errmsg": "tag name too long"}
    if name in fake.tags.values():
        return {"errcode": 45157, "errmsg": "tag name exists"}
    if len(fake.tags) >= MAX_TAGS:
        return {"errcode": 45056, "errmsg": "too many tags"}
    tag_id = next(fake._tag_ids)
    fake.tags[tag_id] = name
    return {"tag": {"id": tag_id, "name": name}}


def tags_get(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    counts = Counter(t for tags in fake.user_tags.values() for t in tags)
    return {"tags": [{"id": i, "name": n, "count": counts[i]} for i, n in sorted(fake.tags.items())]}


def _batch(fake: FakeWeChat, body: dict[str, Any]) -> tuple[list[str], int] | Result:
    openids, tag_id = body.get("openid_list"), body.get("tagid")
    if not isinstance(openids, list) or not openids:
        return {"errcode": 40003, "errmsg": "invalid openid"}
    if len(openids) > TAG_BATCH:
        return {"errcode": 40032, "errmsg": "invalid openid list size, at most 50"}
    if tag_id not in fake.tags:
        return {"errcode": 45159, "errmsg": "invalid tag id"}
    return [str(o) for o in openids], tag_id


def tags_batchtagging(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    batch = _batch(fake, body)
    if isinstance(batch, dict):
        return batch
    openids, tag_id = batch
    if any(len(fake.user_tags.get(o, set()) | {tag_id}) > MAX_TAGS_PER_USER for o in openids):
        return {"errcode": 45059, "errmsg": "a follower has too many tags"}
    for o in openids:
        fake.user_tags.setdefault(o, set()).add(tag_id)
    return {"errcode": 0, "errmsg": "ok"}


def tags_batchuntagging(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    batch = _batch(fake, body)
    if isinstance(batch, dict):
        return batch
    openids, tag_id = batch
    for o in openids:
        fake.user_tags.get(o, set()).discard(tag_id)
    return {"errcode": 0, "errmsg": "ok"}


def tags_getidlist(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    return _needs(body, "openid") or {"tagid_list": sorted(fake.user_tags.get(body["openid"], set()))}


# -- QR codes and subscription notices ---------------------------------------------------------------


def qrcode_create(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    action = body.get("action_name")
    scene = ((body.get("action_info") or {}).get("scene") or {})
    scene_str = scene.get("scene_str")
    if action not in {"QR_STR_SCENE", "QR_LIMIT_STR_SCENE"} or not isinstance(scene_str, str):
        return {"errcode": 40097, "errmsg": "invalid args: only string scenes are served by the fake"}
    if not 1 <= len(scene_str) <= 64:
        return {"errcode": 40097, "errmsg": "invalid args: scene_str is 1 to 64 characters"}
    permanent = action == "QR_LIMIT_STR_SCENE"
    expire = 0 if permanent else min(int(body.get("expire_seconds") or 60), QR_MAX_EXPIRE_S)
    ticket = "gQ" + secrets.token_urlsafe(24)
    fake.qrcodes[ticket] = {"scene": scene_str, "expires_at": None if permanent else time.time() + expire}
    result: Result = {"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket[2:18]}"}
    if not permanent:
        result["expire_seconds"] = expire
    return result


def subscribe_bizsend(fake: FakeWeChat, body: dict[str, Any], query: dict[str, str]) -> Result:
    bad = _needs(body, "touser", "template_id", "data")
    if bad:
        return bad
    if (body["touser"], body["template_id"]) not in fake.accepted:
        return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
    return {"errcode": 0, "errmsg": "ok", "msgid": next(fake._ids)}


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
    ("/cgi-bin/message/mass/sendall", "POST", mass_sendall, True),
    ("/cgi-bin/message/mass/preview", "POST", mass_preview, True),
    ("/cgi-bin/tags/create", "POST", tags_create, True),
    ("/cgi-bin/tags/get", "GET", tags_get, True),
    ("/cgi-bin/tags/members/batchtagging", "POST", tags_batchtagging, True),
    ("/cgi-bin/tags/members/batchuntagging", "POST", tags_batchuntagging, True),
    ("/cgi-bin/tags/getidlist", "POST", tags_getidlist, True),
    ("/cgi-bin/qrcode/create", "POST", qrcode_create, True),
    ("/cgi-bin/message/subscribe/bizsend", "POST", subscribe_bizsend, True),
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
            if inj.http_status or inj.body is not None:
                status = inj.http_status or 200
                call.update(http_status=status, at=time.time(), delivered=False)
                fake.calls.append(call)
                if inj.body is None:
                    return web.Response(status=status, text="injected failure")
                return web.Response(status=status, text=inj.body, content_type="application/json")
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
        for extra in ("recipients", "filtered"):
            if "_" + extra in result:
                call[extra] = result.pop("_" + extra)
        call.update(errcode=result.get("errcode", 0), http_status=200, at=time.time(), delivered=delivered)
        fake.calls.append(call)
        fake.flush()
        if inj is not None and inj.late_s:
            await asyncio.sleep(inj.late_s)
        return _json_response(result)

    return view


async def _messages(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    if request.method == "DELETE":
        fake.calls.clear()
        return _json_response({"cleared": True})
    wanted = request.query.get("endpoint")
    calls = [c for c in fake.calls if not wanted or Injection(wanted).matches(c["endpoint"])]
    return _json_response(calls)


async def _inject(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    if request.method == "DELETE":
        fake.injections.clear()
        return _json_response({"cleared": True})
    try:
        raw = await request.json()
        inj = Injection(
            endpoint=str(raw["endpoint"]),
            errcode=None if raw.get("errcode") is None else int(raw["errcode"]),
            http_status=None if raw.get("http_status") is None else int(raw["http_status"]),
            body=None if raw.get("body") is None else str(raw["body"]),
            delay_s=float(raw.get("delay_s") or 0),
            late_s=float(raw.get("late_s") or 0),
            times=int(raw.get("times") or 1),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return _json_response({"error": f"bad injection: {exc!r}"}, status=400)
    fake.injections.append(inj)
    return _json_response(asdict(inj))


async def _expire(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    for tok in fake.tokens:
        fake.tokens[tok] = 0.0
    return _json_response({"expired": len(fake.tokens)})


def _json_response(data: Any, status: int = 200) -> web.Response:
    """JSON as WeChat sends it and a person reads it: Chinese as itself (no \\u escapes), UTF-8."""
    return web.json_response(data, status=status, dumps=_READABLE)


async def _json(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        raw = await request.json()
    except ValueError:
        raw = None
    return raw if isinstance(raw, dict) else _json_response({"error": "expected a JSON object"}, status=400)


async def _callback(request: web.Request) -> web.Response:
    fake, raw = request.app[FAKE], await _json(request)
    if isinstance(raw, web.Response):
        return raw
    fake.callback_url, fake.callback_token = raw.get("url") or None, raw.get("token") or None
    fake.callback_aes_key = raw.get("aes_key") or None
    return _json_response({"url": fake.callback_url})


async def _scan(request: web.Request) -> web.Response:
    """Someone scans a parametric QR code: `subscribe` with EventKey qrscene_<scene> when `new`, else SCAN."""
    fake, raw = request.app[FAKE], await _json(request)
    if isinstance(raw, web.Response):
        return raw
    openid, ticket = str(raw.get("openid") or ""), str(raw.get("ticket") or "")
    code = fake.qrcodes.get(ticket)
    if not openid or code is None:
        return _json_response({"error": "unknown openid or ticket"}, status=400)
    if code["expires_at"] is not None and code["expires_at"] < time.time():
        return _json_response({"error": "the QR code has expired"}, status=410)
    new = bool(raw.get("new"))
    event, key = ("subscribe", "qrscene_" + code["scene"]) if new else ("SCAN", code["scene"])
    fake.followers.add(openid)
    xml = event_xml(openid, event, key, create_time=fake.create_time(openid))
    fake.push(openid, xml.replace("</xml>", f"<Ticket><![CDATA[{ticket}]]></Ticket></xml>"))
    await fake.settle()
    return _json_response({"pushed": fake.pushed[-1]})


async def _popup(request: web.Request) -> web.Response:
    """A user answers the subscribe-notice popup: accepted templates may then be sent by bizsend."""
    fake, raw = request.app[FAKE], await _json(request)
    if isinstance(raw, web.Response):
        return raw
    openid, template_id = str(raw.get("openid") or ""), str(raw.get("template_id") or "")
    if not openid or not template_id:
        return _json_response({"error": "openid and template_id are required"}, status=400)
    accept = bool(raw.get("accept"))
    (fake.accepted.add if accept else fake.accepted.discard)((openid, template_id))
    item = (f"<List><TemplateId><![CDATA[{template_id}]]></TemplateId><SubscribeStatusString><![CDATA["
            f"{'accept' if accept else 'reject'}]]></SubscribeStatusString><PopupScene>2</PopupScene></List>")
    xml = message_xml(openid, "event", {"Event": "subscribe_msg_popup_event"}, create_time=fake.create_time(openid))
    fake.push(openid, xml.replace("</xml>", f"<SubscribeMsgPopupEvent>{item}</SubscribeMsgPopupEvent></xml>"))
    await fake.settle()
    return _json_response({"pushed": fake.pushed[-1]})


async def _followers(request: web.Request) -> web.Response:
    fake, raw = request.app[FAKE], await _json(request)
    if isinstance(raw, web.Response):
        return raw
    fake.followers.update(str(o) for o in raw.get("openids") or [])
    return _json_response({"followers": len(fake.followers)})


def create_fake_app(appid: str, secret: str, token_ttl_s: int = 7200, *, account_type: str = "service",
                    callback_url: str | None = None, callback_token: str | None = None) -> web.Application:
    app = web.Application()
    app[FAKE] = FakeWeChat(appid, secret, token_ttl_s, account_type=account_type, callback_url=callback_url,
                           callback_token=callback_token)

    async def settle_on_cleanup(app: web.Application) -> None:
        for task in list(app[FAKE]._tasks):
            task.cancel()

    app.on_cleanup.append(settle_on_cleanup)
    for path, method, handler, auth in ENDPOINTS:
        app.router.add_route(method, path, _api(path, handler, auth))
    app.router.add_route("GET", "/_fake/messages", _messages)
    app.router.add_route("DELETE", "/_fake/messages", _messages)
    app.router.add_route("POST", "/_fake/inject", _inject)
    app.router.add_route("DELETE", "/_fake/inject", _inject)
    app.router.add_post("/_fake/expire", _expire)
    app.router.add_post("/_fake/callback", _callback)
    app.router.add_post("/_fake/scan", _scan)
    app.router.add_post("/_fake/popup", _popup)
    app.router.add_post("/_fake/followers", _followers)
    return app
