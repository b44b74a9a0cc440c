"""An async client for the WeChat official-account API, on aiohttp (wechatpy's client is synchronous).

The access_token comes from the stable-token endpoint and is cached in the database (access_tokens), so all
workers share one; a worker refreshes it a few minutes before expiry (each at a slightly different moment),
one coroutine at a time, and re-reads the cache first in case another worker already did. A call answered
with 40001/40014/42001 refreshes the token and is retried once. Every WeChat error becomes a typed
exception (bot/wechat/errors.py); with `retries` > 0, -1 (busy), HTTP 5xx, 45009 and a connection that could
not be made are retried with exponential backoff. A message send that times out or loses its connection after
the request went out, or is answered 200 with what cannot be read, is in doubt (InDoubtError): WeChat may have
delivered it, so it is not retried here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.store.tokens import CachedToken, refresh_shared
from bot.wechat.errors import TOKEN_ERRORS, InDoubtError, ServerError, WeChatAPIError, error_for

log = logging.getLogger("yibao.wechat.client")

# WeChat hands out a new stable token in the last 5 minutes of the old one's life: refresh inside that span.
REFRESH_MARGIN_S = (180.0, 270.0)
RECENT_FETCH_S = 30.0  # a token fetched this recently is used even if WeChat gave it a short life
MASS_SEND_MAX = 10_000
TAG_BATCH_MAX = 50  # openids per batchtagging call
QR_SCENE_MAX = 64  # characters of a QR code's scene_str
QR_EXPIRE_MAX_S = 30 * 24 * 3600  # a temporary QR code lives at most 30 days


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_TOKEN_IN_URL = re.compile(r"(access_token=)[^&\s'\"]+")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class WeChatClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        appid: str,
        secret: str,
        base: str,
        sessions: async_sessionmaker | None = None,
        retries: int = 0,
        backoff_s: float = 0.5,
        timeout_s: float = 10.0,
    ):
        self.http = http
        self.appid = appid
        self.secret = secret
        self.base = base.rstrip("/")
        self.sessions = sessions  # None: the token is cached in this process only
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._margin_s = random.uniform(*REFRESH_MARGIN_S)  # spread workers' refreshes apart
        self._token: CachedToken | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    # -- access token ----------------------------------------------------------------------------

    def _fresh(self, cached: CachedToken | None, stale: str | None) -> bool:
        if cached is None or cached.token == stale:
            return False
        left = cached.valid_for(_utcnow())
        return left > self._margin_s or (left > 0 and time.monotonic() - self._fetched_at < RECENT_FETCH_S)

    async def access_token(self) -> str:
        if self._fresh(self._token, None):
            return self._token.token
        return await self._refresh(stale=None)

    async def _refresh(self, stale: str | None) -> str:
        """A token that is fresh and is not `stale` (the one WeChat just refused)."""
        async with self._lock:
            if self._fresh(self._token, stale):
                return self._token.token
            if self.sessions is None:
                self._token = await self._fetch_stable(stale)
            else:
                self._token = await refresh_shared(
                    self.sessions, self.appid, lambda t: self._fresh(t, stale), lambda: self._fetch_stable(stale)
                )
            return self._token.token

    async def _fetch_stable(self, stale: str | None) -> CachedToken:
        """POST /cgi-bin/stable_token; force a new token only when WeChat refused the one it still hands out."""
        token = await self._stable_token(force=False)
        if stale is not None and token.token == stale:
            log.warning("access_token refused but still current: forcing a refresh")
            token = await self._stable_token(force=True)
        self._fetched_at = time.monotonic()
        return token

    async def _stable_token(self, force: bool) -> CachedToken:
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        if force:
            body["force_refresh"] = True
        path = "/cgi-bin/stable_token"
        data = await self._request("POST", path, json=body)
        token, expires_in = data.get("access_token"), data.get("expires_in") or 7200
        if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in <= 0:
            raise ServerError(200, "answer without an access_token and its expires_in", endpoint=path)
        return CachedToken(token, _utcnow() + dt.timedelta(seconds=expires_in))

    # -- calls -----------------------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None,
        delivers: bool = False,
    ) -> dict[str, Any]:
        """One call; every way it can fail is a WeChatAPIError whose message names neither the access token
        (aiohttp puts the whole URL in some of its errors) nor the secret: the outbox stores that message."""
        token = (params or {}).get("access_token", "")

        def fail(cls: type[WeChatAPIError], code: int, message: str) -> WeChatAPIError:
            return cls(code, self._scrub(message, token), endpoint=path)

        try:
            # WeChat's API never redirects: a 307 would carry the message (openid, text) wherever it pointed
            async with self.http.request(
                method, self.base + path, params=params, json=json, timeout=self.timeout, allow_redirects=False
            ) as resp:
                if resp.status >= 500 or 300 <= resp.status < 400:
                    raise fail(ServerError, resp.status, resp.reason or "server error")
                # A 2xx that cannot be read came from WeChat (or what stands for it) after the request arrived: for a
                # message, delivered or not is unknown, as when no answer comes
                unread = InDoubtError if delivers and 200 <= resp.status < 300 else ServerError
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    raise fail(unread, resp.status, "answer is not JSON") from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:  # nothing was sent
            raise fail(ServerError, 0, _describe(exc)) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have reached WeChat: for a message that is not "failed" but unknown.
            raise fail(InDoubtError if delivers else ServerError, 0, _describe(exc)) from None
        if not isinstance(data, dict):
            raise fail(unread, resp.status, "answer is not a JSON object")
        errcode = data.get("errcode") or 0
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            raise fail(unread, resp.status, "errcode is not a number")
        if errcode:
            raise error_for(errcode, self._scrub(str(data.get("errmsg", "")), token), endpoint=path)
        return data

    def _scrub(self, text: str, token: str) -> str:
        """`text` without the access token or the secret, and without any access_token=... (a URL)."""
        for secret in (token, self.secret):
            if secret:
                text = text.replace(secret, "***")
        return _TOKEN_IN_URL.sub(r"\1***", text)

    async def call(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None,
        delivers: bool = False,
    ) -> dict[str, Any]:
        """An authenticated call: token refresh on 40001/40014/42001, backoff on retryable errors. A call that
        `delivers` a message and gets no answer raises InDoubtError, which is never retried here."""
        attempt = 0
        token_renewed = False
        while True:
            token = await self.access_token()
            try:
                return await self._request(method, path, params={**(params or {}), "access_token": token}, json=json,
                                           delivers=delivers)
            except TOKEN_ERRORS:
                if token_renewed:
                    raise
                token_renewed = True
                await self._refresh(stale=token)
            except WeChatAPIError as exc:
                if not exc.retryable or attempt >= self.retries:
                    raise
                attempt += 1
                delay = self.backoff_s * 2 ** (attempt - 1)
                log.info("%s: %s; retry %d/%d in %.1fs", path, exc, attempt, self.retries, delay)
                await asyncio.sleep(delay)

    # -- endpoints -------------------------------------------------------------------------------

    async def send_text(self, openid: str, content: str) -> dict[str, Any]:
        """客服消息: only inside the customer-service window (45015 / 45047 otherwise)."""
        return await self.call(
            "POST",
            "/cgi-bin/message/custom/send",
            json={"touser": openid, "msgtype": "text", "text": {"content": content}},
            delivers=True,
        )

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, str | Mapping[str, str]],
        *,
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> int:
        """模板消息; returns WeChat's msgid. Plain string values are wrapped as {"value": ...}."""
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: ({"value": v} if isinstance(v, str) else dict(v)) for k, v in data.items()},
        }
        if url:
            payload["url"] = url
        if client_msg_id:
            payload["client_msg_id"] = client_msg_id
        result = await self.call("POST", "/cgi-bin/message/template/send", json=payload, delivers=True)
        return int(result.get("msgid") or 0)

    async def create_menu(self, menu: Mapping[str, Any]) -> None:
        await self.call("POST", "/cgi-bin/menu/create", json=dict(menu))

    async def mass_send_text(self, openids: Sequence[str], content: str, clientmsgid: str) -> dict[str, Any]:
        """群发 to a list of openids (2 to 10,000 per call); `clientmsgid` makes a repeated call a no-op."""
        if not 2 <= len(openids) <= MASS_SEND_MAX:
            raise ValueError(f"mass/send takes 2 to {MASS_SEND_MAX} openids, got {len(openids)}")
        return await self.call(
            "POST",
            "/cgi-bin/message/mass/send",
            json={
                "touser": list(openids),
                "msgtype": "text",
                "text": {"content": content},
                "clientmsgid": clientmsgid,
            },
            delivers=True,
        )

    async def mass_preview_text(self, openid: str, content: str) -> dict[str, Any]:
        return await self.call(
            "POST",
            "/cgi-bin/message/mass/preview",
            json={"touser": openid, "msgtype": "text", "text": {"content": content}},
        )

    async def user_info(self, openid: str, lang: str = "zh_CN") -> dict[str, Any]:
        return await self.call("GET", "/cgi-bin/user/info", params={"openid": openid, "lang": lang})

    # -- outreach: mass sends by tag, tags, QR codes, subscription notices -----------------------------

    async def mass_send_text_to_tag(self, tag_id: int | None, content: str, clientmsgid: str) -> dict[str, Any]:
        """群发 to every follower carrying `tag_id` (mass/sendall with a tag filter, not the legacy group_id),
        or with None to every follower (is_to_all)."""
        flt: dict[str, Any] = {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
        return await self.call(
            "POST",
            "/cgi-bin/message/mass/sendall",
            json={
                "filter": flt,
                "msgtype": "text",
                "text": {"content": content},
                "clientmsgid": clientmsgid,
            },
        )

    async def create_tag(self, name: str) -> int:
        """A new tag (at most 100 per account, names up to 30 bytes); returns its id."""
        result = await self.call("POST", "/cgi-bin/tags/create", json={"tag": {"name": name}})
        return int(result["tag"]["id"])

    async def get_tags(self) -> dict[str, int]:
        """The account's tags, name -> id."""
        result = await self.call("GET", "/cgi-bin/tags/get")
        return {str(t["name"]): int(t["id"]) for t in result.get("tags", [])}

    async def tag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        """Put `tag_id` on up to 50 followers (a follower carries at most 20 tags)."""
        if not 1 <= len(openids) <= TAG_BATCH_MAX:
            raise ValueError(f"batchtagging takes 1 to {TAG_BATCH_MAX} openids, got {len(openids)}")
        await self.call("POST", "/cgi-bin/tags/members/batchtagging",
                        json={"openid_list": list(openids), "tagid": tag_id})

    async def untag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        if not 1 <= len(openids) <= TAG_BATCH_MAX:
            raise ValueError(f"batchuntagging takes 1 to {TAG_BATCH_MAX} openids, got {len(openids)}")
        await self.call("POST", "/cgi-bin/tags/members/batchuntagging",
                        json={"openid_list": list(openids), "tagid": tag_id})

    async def user_tags(self, openid: str) -> list[int]:
        result = await self.call("POST", "/cgi-bin/tags/getidlist", json={"openid": openid})
        return [int(t) for t in result.get("tagid_list", [])]

    async def create_qrcode(self, scene: str, *, expire_s: int | None) -> dict[str, Any]:
        """A parametric QR code for `scene` (1-64 characters): temporary for `expire_s` seconds (at most 30
        days), or permanent with None. Returns WeChat's answer: ticket, url and, if temporary, expire_seconds."""
        if not 1 <= len(scene) <= QR_SCENE_MAX:
            raise ValueError(f"scene_str is 1 to {QR_SCENE_MAX} characters, got {len(scene)}")
        body: dict[str, Any] = {"action_info": {"scene": {"scene_str": scene}}}
        if expire_s is None:
            body["action_name"] = "QR_LIMIT_STR_SCENE"
        else:
            body |= {"action_name": "QR_STR_SCENE", "expire_seconds": min(expire_s, QR_EXPIRE_MAX_S)}
        return await self.call("POST", "/cgi-bin/qrcode/create", json=body)

    async def send_subscribe_notice(
        self, openid: str, template_id: str, data: Mapping[str, str], *, url: str | None = None
    ) -> int:
        """订阅通知 (subscribe/bizsend): 43101 (UserRefusedError) when the user has not accepted it."""
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            payload["page"] = url
        result = await self.call("POST", "/cgi-bin/message/subscribe/bizsend", json=payload)
        return int(result.get("msgid") or 0)
