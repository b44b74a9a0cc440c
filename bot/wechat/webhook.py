"""The `/wechat` endpoint: GET verification (echostr) and POST messages in plain, compatible and safe mode.

Every request passes the timestamp window and a signature (403); in safe mode a plaintext POST is refused
(403) before its body is read; a declared or streamed body over the cap is refused before it is buffered
(413), and XML with a DTD, entities or bad syntax is refused (400). In safe mode every answer goes out
encrypted, in compatible mode in the mode of the request. Nothing from the query string (signature, nonce,
openid) is logged.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.config import Settings
from bot.wechat.inbox import Inbox
from bot.wechat.protocol import (
    SUCCESS,
    ProtocolError,
    TooLarge,
    check_mode,
    make_crypto,
    open_message,
    seal,
    text_reply,
    verify_signature,
    verify_timestamp,
)

log = logging.getLogger("yibao.wechat.webhook")

CHUNK = 64 * 1024


async def read_capped(request: web.Request, limit: int) -> bytes:
    """The body, read in chunks and refused as soon as it exceeds `limit` (whatever Content-Length said)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


MAX_REASON = 120  # characters of a refusal's reason, logged and answered: a reason may quote the body


def _refuse(request: web.Request, exc: ProtocolError) -> web.Response:
    reason = str(exc)[:MAX_REASON].encode("unicode_escape").decode("ascii")  # one line, however it was forged
    log.warning("refused %s %s from %s: %d %s", request.method, request.path, request.remote, exc.status, reason)
    response = web.Response(status=exc.status, text=reason)
    if isinstance(exc, TooLarge):
        response.force_close()  # do not read the rest of a huge body to keep the connection alive
    return response


class WeChatWebhook:
    def __init__(self, settings: Settings, inbox: Inbox):
        self.settings = settings
        self.inbox = inbox
        self.mode = settings.wechat_mode
        # plain mode reads no envelope, whatever key is configured
        key = settings.wechat_aes_key if self.mode != "plain" else None
        self.crypto = make_crypto(settings.wechat_token, key, settings.wechat_appid)

    def _check(self, request: web.Request) -> None:
        params = request.query
        verify_timestamp(params, self.settings.timestamp_window_s)
        # In safe mode the body is covered by msg_signature (checked on the body); `signature` is checked
        # whenever it is present, which WeChat always does.
        if params.get("encrypt_type", "raw").lower() != "aes" or "signature" in params:
            verify_signature(self.settings.wechat_token, params)

    async def verify(self, request: web.Request) -> web.Response:
        """GET: WeChat checks the server URL; answer `echostr` unchanged."""
        try:
            self._check(request)
        except ProtocolError as exc:
            return _refuse(request, exc)
        return web.Response(text=request.query.get("echostr", ""), content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        params = request.query
        try:
            declared = request.content_length
            if declared is not None and declared > self.settings.max_body_bytes:  # refused before any reading
                raise TooLarge(f"body of {declared} bytes")
            self._check(request)
            check_mode(params, self.mode)
            if declared is not None:  # within the cap: the parser reads exactly that many bytes
                body = await request.read()
            else:  # chunked: counted as it comes
                body = await read_capped(request, self.settings.max_body_bytes)
            inbound = open_message(body, params, self.settings.wechat_token, self.crypto, self.mode)
        except ProtocolError as exc:
            return _refuse(request, exc)
        try:
            text = await self.inbox.answer(inbound)
        except Exception:
            log.exception("answering %s failed", inbound.log_name)
            return web.Response(status=500, text="")
        if not text:
            return web.Response(text=SUCCESS, content_type="text/plain")
        xml = text_reply(inbound, text)
        if inbound.encrypted and self.crypto is not None:
            xml = seal(xml, self.crypto, params.get("nonce", ""))
        return web.Response(text=xml, content_type="application/xml")

