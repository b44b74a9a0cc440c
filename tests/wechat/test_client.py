"""The async WeChat client against the fake WeChat: shared token cache, refresh, typed errors, retries."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.store.db import make_engine, make_sessionmaker
from bot.store.schema import ensure_schema
from bot.store.tokens import read_token, write_token
from bot.wechat.client import WeChatClient
from bot.wechat.errors import (
    BusyError,
    InDoubtError,
    InvalidTokenError,
    NotFollowingError,
    OutsideWindowError,
    RateLimitedError,
    ServerError,
    TokenExpiredError,
    UserRefusedError,
    WeChatAPIError,
    WindowCountExceededError,
)
from bot.wechat.fake import FakeWeChat, Injection
from tests.wechat.conftest import APPID, SECRET, fake_state


@dataclass
class Env:
    http: aiohttp.ClientSession
    sessions: async_sessionmaker
    fake: FakeWeChat
    base: str

    def client(self, **options) -> WeChatClient:
        """A client as one worker would have it (its own in-process cache, the shared database)."""
        options.setdefault("backoff_s", 0.01)
        return WeChatClient(
            self.http, appid=APPID, secret=SECRET, base=self.base, sessions=self.sessions, **options
        )

    def calls(self, endpoint: str) -> list[dict]:
        return [c for c in self.fake.calls if c["endpoint"] == endpoint]

    def inject(self, endpoint: str, **kw) -> None:
        self.fake.injections.append(Injection(endpoint, **kw))


@pytest.fixture
async def env(database_url: str, fake: TestServer) -> AsyncIterator[Env]:
    engine = make_engine(Settings(database_url=database_url))
    await ensure_schema(engine)
    async with aiohttp.ClientSession() as http:
        yield Env(http, make_sessionmaker(engine), fake_state(fake), str(fake.make_url("")).rstrip("/"))
    await engine.dispose()


async def test_token_is_fetched_once_and_shared_through_the_database(env):
    await env.client().send_text("o1", "你好")
    await env.client().send_text("o2", "你好")  # another worker: reads the cached token
    assert len(env.calls("stable_token")) == 1
    assert not env.calls("stable_token")[0]["body"].get("force_refresh")
    async with env.sessions() as session:
        cached = await read_token(session, APPID)
    assert cached.token == env.fake.stable
    assert 7000 < cached.valid_for(dt.datetime.now(dt.UTC)) <= 7200


async def test_concurrent_callers_fetch_one_token(env):
    client = env.client()
    tokens = await asyncio.gather(*(client.access_token() for _ in range(20)))
    assert len(set(tokens)) == 1
    assert len(env.calls("stable_token")) == 1


async def test_two_workers_on_a_cold_cache(env, database_url):
    a, b = env.client(), env.client()
    ta, tb = await asyncio.gather(a.access_token(), b.access_token())
    assert ta == tb  # the stable token stays the same while valid, even if both fetched
    if database_url.startswith("postgresql"):
        assert len(env.calls("stable_token")) == 1  # the row lock made the second worker wait and read


async def test_token_near_expiry_is_refreshed_ahead(env):
    async with env.sessions.begin() as session:
        await write_token(session, APPID, "old-token", dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60))
    token = await env.client().access_token()
    assert token != "old-token"
    assert len(env.calls("stable_token")) == 1


async def test_invalid_token_is_refreshed_and_the_call_retried_once(env):
    client = env.client()
    first = await client.access_token()
    env.inject("custom/send", errcode=40001)
    await client.send_text("o1", "你好")
    sends = env.calls("message/custom/send")
    assert [c["errcode"] for c in sends] == [40001, 0]
    # WeChat still handed out the refused token, so the client forced a new one
    assert [c["body"].get("force_refresh", False) for c in env.calls("stable_token")] == [False, False, True]
    async with env.sessions() as session:
        assert (await read_token(session, APPID)).token != first


async def test_expired_token_is_refreshed(env):
    client = env.client()
    first = await client.access_token()
    for token in env.fake.tokens:  # as POST /_fake/expire does
        env.fake.tokens[token] = 0.0
    await client.send_text("o1", "你好")
    assert [c["errcode"] for c in env.calls("message/custom/send")] == [42001, 0]
    assert await client.access_token() != first


async def test_token_refused_twice_raises(env):
    env.inject("custom/send", errcode=42001, times=2)
    with pytest.raises(TokenExpiredError):
        await env.client().send_text("o1", "你好")
    env.inject("template/send", errcode=40014, times=2)
    with pytest.raises(InvalidTokenError) as info:
        await env.client().send_template("o1", "tpl", {"thing1": "x"})
    assert info.value.errcode == 40014


@pytest.mark.parametrize(
    ("errcode", "error"),
    [
        (-1, BusyError),
        (43004, NotFollowingError),
        (43101, UserRefusedError),
        (45009, RateLimitedError),
        (45015, OutsideWindowError),
        (45047, WindowCountExceededError),
        (40003, WeChatAPIError),
    ],
)
async def test_errors_are_typed(env, errcode, error):
    env.inject("custom/send", errcode=errcode)
    with pytest.raises(error) as info:
        await env.client(retries=0).send_text("o1", "你好")
    assert type(info.value) is error
    assert info.value.errcode == errcode
    assert info.value.endpoint == "/cgi-bin/message/custom/send"


async def test_http_5xx_is_a_server_error(env):
    env.inject("custom/send", http_status=502)
    with pytest.raises(ServerError) as info:
        await env.client(retries=0).send_text("o1", "你好")
    assert info.value.errcode == 502


async def test_a_message_send_without_an_answer_is_in_doubt_and_not_retried(env):
    env.inject("custom/send", late_s=1.0)  # WeChat delivers it, then answers too late
    with pytest.raises(InDoubtError) as caught:
        await env.client(retries=2, timeout_s=0.2).send_text("o1", "你好")
    assert not caught.value.retryable and len(env.calls("message/custom/send")) == 1


async def test_a_slow_token_fetch_is_a_server_error(env):
    env.inject("stable_token", delay_s=1.0)
    with pytest.raises(ServerError):
        await env.client(retries=0, timeout_s=0.2).send_text("o1", "你好")
    assert env.calls("message/custom/send") == []


async def test_a_connection_that_cannot_be_made_is_a_retryable_server_error(env):
    client = env.client(retries=0)
    await client.send_text("o1", "你好")  # a token in hand
    client.base = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(ServerError) as caught:
        await client.send_text("o1", "你好")
    assert caught.value.retryable and not isinstance(caught.value, InDoubtError)


@pytest.mark.parametrize(
    "failure", [{"errcode": -1}, {"http_status": 500}, {"errcode": 45009}], ids=["busy", "http500", "rate"]
)
async def test_retryable_errors_are_retried_with_backoff(env, failure):
    env.inject("custom/send", times=2, **failure)
    await env.client(retries=2).send_text("o1", "你好")
    assert len(env.calls("message/custom/send")) == 3


async def test_retries_give_up(env):
    env.inject("custom/send", errcode=-1, times=5)
    with pytest.raises(BusyError):
        await env.client(retries=2).send_text("o1", "你好")
    assert len(env.calls("message/custom/send")) == 3


async def test_not_retryable_errors_are_not_retried(env):
    env.inject("custom/send", errcode=45015, times=5)
    with pytest.raises(OutsideWindowError):
        await env.client(retries=3).send_text("o1", "你好")
    assert len(env.calls("message/custom/send")) == 1


async def test_endpoints(env):
    client = env.client()
    due = {"value": "2024年11月25日 23:59"}  # a `time` keyword holds a time of day
    msgid = await client.send_template("o1", "tpl-payment-status", {"thing1": "陵川县", "time2": due})
    assert msgid > 0
    call = env.calls("message/template/send")[0]["body"]
    assert call["data"] == {"thing1": {"value": "陵川县"}, "time2": due}

    await client.create_menu({"button": [{"type": "click", "name": "交多少钱", "key": "FEE"}]})
    info = await client.user_info("o1")
    assert info["openid"] == "o1" and info["subscribe"] == 1
    assert env.calls("user/info")[0]["query"] == {"openid": "o1", "lang": "zh_CN"}

    sent = await client.mass_send_text(["o1", "o2"], "缴费通知", clientmsgid="policy-2025-1")
    assert sent["msg_id"]
    with pytest.raises(WeChatAPIError) as info:  # the same clientmsgid is not sent twice
        await client.mass_send_text(["o1", "o2"], "缴费通知", clientmsgid="policy-2025-1")
    assert info.value.errcode == 45065
    with pytest.raises(ValueError):
        await client.mass_send_text(["o1"], "缴费通知", clientmsgid="x")
    assert (await client.mass_preview_text("o1", "预览"))["errcode"] == 0
    assert all(c["errcode"] in (0, 45065) for c in env.fake.calls)


async def test_wrong_secret_is_an_error(env):
    client = WeChatClient(env.http, appid=APPID, secret="wrong", base=env.base, sessions=env.sessions)
    with pytest.raises(WeChatAPIError) as info:
        await client.send_text("o1", "你好")
    assert info.value.errcode == 40125


async def test_fake_records_and_injects_over_http(fake):
    async with aiohttp.ClientSession() as http:
        base = str(fake.make_url("")).rstrip("/")
        async with http.post(base + "/_fake/inject", json={"endpoint": "custom/send", "errcode": 45009}) as r:
            assert (await r.json())["times"] == 1
        async with http.post(base + "/cgi-bin/message/custom/send", params={"access_token": "nope"}, json={}) as r:
            assert (await r.json())["errcode"] == 45009  # the injection comes first
        async with http.post(base + "/cgi-bin/message/custom/send", params={"access_token": "nope"}, json={}) as r:
            assert (await r.json())["errcode"] == 40001  # then the token is checked
        async with http.get(base + "/_fake/messages", params={"endpoint": "custom/send"}) as r:
            assert [c["errcode"] for c in await r.json()] == [45009, 40001]
        async with http.delete(base + "/_fake/messages") as r:
            assert r.status == 200
        async with http.get(base + "/_fake/messages") as r:
            assert await r.json() == []
