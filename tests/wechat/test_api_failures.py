"""The WeChat API failing as a real network and a real server fail: answers that are not WeChat's JSON, a
redirect, a connection that stalls or is reset. Each is a typed, retryable (or in-doubt) WeChatAPIError, never
a KeyError or ValueError that would fail an outbox row for good, and the access token appears in no error
message and no log line (the outbox stores the message of an error in its `error` column)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.wechat.client import WeChatClient
from bot.wechat.errors import InDoubtError, ServerError, WeChatAPIError

TOKEN = "ACCESS-TOKEN-abcdef0123456789-SECRET"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def token_ok(_: web.Request) -> web.Response:
    return web.json_response({"access_token": TOKEN, "expires_in": 7200})


async def elsewhere(_: web.Request) -> web.Response:
    return web.json_response({"errcode": 0})


async def serve(aiohttp_server, send: Handler, token: Handler = token_ok) -> tuple[Any, list[str]]:
    """A WeChat of our making: `token` answers stable_token, `send` custom/send and menu/create; returns the
    server and the paths called."""
    called: list[str] = []

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        called.append(request.path)
        return await handler(request)

    app = web.Application(middlewares=[record])
    app.router.add_post("/cgi-bin/stable_token", token)
    app.router.add_post("/cgi-bin/message/custom/send", send)
    app.router.add_post("/cgi-bin/menu/create", send)  # a call that delivers nothing
    app.router.add_route("*", "/elsewhere", elsewhere)
    return await aiohttp_server(app), called


def client(http: aiohttp.ClientSession, server: Any, **options: Any) -> WeChatClient:
    return WeChatClient(http, appid="wx1", secret="s", base=str(server.make_url("")).rstrip("/"),
                        backoff_s=0.01, **options)


def assert_no_token(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert TOKEN not in str(exc) and TOKEN not in getattr(exc, "errmsg", "")
    ours = [f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
            if not r.name.startswith(("aiohttp.access", "aiohttp.server"))]  # those are the test server's
    assert not [line for line in ours if TOKEN in line]


@pytest.mark.parametrize(
    "answer",
    [
        lambda: web.Response(text="<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
        lambda: web.Response(text="", content_type="application/json"),
        lambda: web.json_response([1, 2]),
        lambda: web.json_response({"errcode": "busy", "errmsg": "?"}),
        lambda: web.json_response({"errcode": {"code": 1}}),
    ],
    ids=["html-200", "empty", "json-list", "errcode-text", "errcode-object"],
)
async def test_an_answer_that_is_not_wechat_json_is_a_retryable_server_error(aiohttp_server, caplog, answer):
    async def send(_: web.Request) -> web.Response:
        return answer()  # a response is sent once: a new one for the retry

    server, called = await serve(aiohttp_server, send)
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.DEBUG), pytest.raises(ServerError) as caught:
            await client(http, server, retries=1).create_menu({"button": []})
    assert caught.value.retryable and called.count("/cgi-bin/menu/create") == 2
    assert_no_token(caught.value, caplog)


@pytest.mark.parametrize(
    "answer",
    [
        lambda: web.Response(text="<html><body>ok</body></html>", content_type="text/html"),
        lambda: web.Response(text='{"errcode":0,"errmsg":"ok","msgid":', content_type="application/json"),
        lambda: web.json_response({"errcode": "0", "errmsg": "ok"}),
    ],
    ids=["html-200", "json-cut-short", "errcode-text"],
)
async def test_a_message_answered_200_with_what_cannot_be_read_is_in_doubt_not_sent_twice(
        aiohttp_server, caplog, answer):
    # The request reached the server, which answered 200: WeChat may have sent the text, and a customer-service
    # text has no key WeChat drops a repeat by; so not retried (the outbox keeps it in doubt), as a timeout.
    async def send(_: web.Request) -> web.Response:
        return answer()

    server, called = await serve(aiohttp_server, send)
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.DEBUG), pytest.raises(InDoubtError) as caught:
            await client(http, server, retries=2).send_text("o1", "你好")
    assert called.count("/cgi-bin/message/custom/send") == 1
    assert_no_token(caught.value, caplog)


@pytest.mark.parametrize(
    "answer",
    [{"errcode": 0}, {"access_token": 12345, "expires_in": 7200}, {"access_token": TOKEN, "expires_in": "soon"},
     {"access_token": "", "expires_in": 7200}],
    ids=["no-token", "token-a-number", "expiry-text", "token-empty"],
)
async def test_a_token_answer_without_a_token_is_a_server_error(aiohttp_server, caplog, answer):
    async def token(_: web.Request) -> web.Response:
        return web.json_response(answer)

    async def send(_: web.Request) -> web.Response:
        return web.json_response({"errcode": 0})

    server, called = await serve(aiohttp_server, send, token)
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.DEBUG), pytest.raises(ServerError) as caught:
            await client(http, server).send_text("o1", "你好")
    assert caught.value.retryable and "/cgi-bin/message/custom/send" not in called
    assert_no_token(caught.value, caplog)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_not_followed(aiohttp_server, caplog, status):
    """WeChat's API never redirects: following one would carry a message (307/308 resend the body, openid
    and text) to wherever the Location says."""

    async def send(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": f"/elsewhere?{request.query_string}"})

    server, called = await serve(aiohttp_server, send)
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.DEBUG), pytest.raises(ServerError) as caught:
            await client(http, server).send_text("o1", "你好")
    assert "/elsewhere" not in called
    assert_no_token(caught.value, caplog)


async def test_a_redirect_loop_does_not_put_the_token_in_the_error(aiohttp_server, caplog):
    async def send(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": str(request.rel_url)})

    server, _ = await serve(aiohttp_server, send)
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.DEBUG), pytest.raises(WeChatAPIError) as caught:
            await client(http, server).send_text("o1", "你好")
    assert_no_token(caught.value, caplog)


class StalledConnector(aiohttp.TCPConnector):
    """A connection that never completes (a SYN to a black hole), as aiohttp sees it: asyncio.TimeoutError."""

    def __init__(self, stall_path: str):
        super().__init__()
        self.stall_path = stall_path

    async def connect(self, req, traces, timeout):  # type: ignore[override]
        if req.url.path == self.stall_path:
            raise TimeoutError
        return await super().connect(req, traces, timeout)


async def test_a_stalled_connection_is_retryable_and_does_not_carry_the_token(aiohttp_server, caplog):
    """aiohttp names the whole URL (access_token and all) in its ConnectionTimeoutError."""

    async def send(_: web.Request) -> web.Response:
        return web.json_response({"errcode": 0})

    server, _ = await serve(aiohttp_server, send)
    async with aiohttp.ClientSession(connector=StalledConnector("/cgi-bin/message/custom/send")) as http:
        with caplog.at_level(logging.DEBUG), pytest.raises(ServerError) as caught:
            await client(http, server, retries=1).send_text("o1", "你好")
    assert caught.value.retryable and not isinstance(caught.value, InDoubtError)  # nothing was sent
    assert_no_token(caught.value, caplog)


async def test_a_connection_reset_after_the_request_is_in_doubt(aiohttp_server, caplog):
    """The request went out, the answer never came: WeChat may have delivered it (the outbox decides)."""

    async def send(request: web.Request) -> web.Response:
        await request.read()
        assert request.transport is not None
        request.transport.abort()
        await asyncio.sleep(1)
        return web.json_response({"errcode": 0})

    server, called = await serve(aiohttp_server, send)
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.DEBUG), pytest.raises(InDoubtError) as caught:
            await client(http, server, retries=2).send_text("o1", "你好")
    assert called.count("/cgi-bin/message/custom/send") == 1  # not sent again
    assert_no_token(caught.value, caplog)


async def test_errmsg_naming_the_token_is_scrubbed(aiohttp_server, caplog):
    """WeChat's own errmsg is stored with the outbox row: whatever it says, not the token we sent."""

    async def send(request: web.Request) -> web.Response:
        return web.json_response({"errcode": 40001, "errmsg": f"invalid credential, access_token is "
                                  f"invalid or not latest: {request.query['access_token']}"})

    server, _ = await serve(aiohttp_server, send)
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.DEBUG), pytest.raises(WeChatAPIError) as caught:
            await client(http, server).send_text("o1", "你好")
    assert caught.value.errcode == 40001
    assert_no_token(caught.value, caplog)
