"""Fixtures for the webhook tests: the app on SQLite and PostgreSQL, a fake WeChat, and WeChat-like posting.

Store-touching tests run on SQLite and PostgreSQL (the database fixtures are tests/conftest.py's).

Tests of the webhook (`bot`, `make_bot`) run in each message mode, plain, compatible and safe, posting as
WeChat does in that mode (`Bot.post`, `Bot.post_body`); the modes do not touch the database, so on
PostgreSQL they run in safe mode only. A test about one mode says so with `@pytest.mark.parametrize("mode",
[...])`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from wechatpy.crypto import WeChatCrypto

from bot.app import create_app
from bot.config import TZ, Settings
from bot.keys import SESSIONS
from bot.rules.loader import PolicyRegistry
from bot.store.models import InboundMessage, MessageLog
from bot.wechat.fake import FAKE, FakeWeChat, create_fake_app
from bot.wechat.protocol import parse_xml, signature
from bot.wechat.simulate import Signer

TOKEN = "test-token"
APPID = "wx1234567890abcdef"
SECRET = "test-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
TODAY = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)  # inside 陵川县 2025年度's collection period


def fixed_clock() -> dt.datetime:
    return TODAY


@pytest.fixture
async def fake(aiohttp_server) -> TestServer:
    """The fake WeChat API, in-process; `fake.app[FAKE]` is its state."""
    return await aiohttp_server(create_fake_app(APPID, SECRET))


def fake_state(server: TestServer) -> FakeWeChat:
    return server.app[FAKE]


@pytest.fixture(params=["plain", "compatible", "safe"])
def mode(request: pytest.FixtureRequest, database_url: str) -> str:
    if request.param != "safe" and not database_url.startswith("sqlite"):
        pytest.skip("the message modes do not touch the database: on PostgreSQL the webhook runs in safe mode")
    return request.param


@pytest.fixture
def settings(database_url: str, fake: TestServer, mode: str) -> Settings:
    return Settings(
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_aes_key=None if mode == "plain" else AES_KEY,
        wechat_mode=mode,
        wechat_api_base=str(fake.make_url("")).rstrip("/"),
        database_url=database_url,
        reply_budget_s=2.0,
    )


@dataclass
class Bot:
    """The webhook app under test, and a way to post to it as WeChat does."""

    client: TestClient
    settings: Settings

    @property
    def app(self) -> web.Application:
        return self.client.server.app

    @property
    def mode(self) -> str:
        return self.settings.wechat_mode

    def signer(self, aes: bool | None = None, compatible: bool | None = None) -> Signer:
        """Signs as WeChat does in this mode, unless told: `aes` an envelope, `compatible` with the
        plaintext copy."""
        aes = self.mode != "plain" if aes is None else aes
        compatible = self.mode == "compatible" if compatible is None else compatible
        return Signer(self.settings.wechat_token, self.settings.wechat_appid, AES_KEY if aes else None, compatible)

    async def post(self, xml: str, *, aes: bool | None = None, compatible: bool | None = None,
                   **overrides: str) -> ClientResponse:
        """POST `xml` signed like WeChat; `overrides` replace query parameters (e.g. a bad signature)."""
        params, body = self.signer(aes, compatible).sign(xml)
        return await self.client.post("/wechat", params={**params, **overrides}, data=body)

    async def post_body(self, body: str) -> ClientResponse:
        """POST any body (malformed, hostile) as WeChat would carry it in this mode: as it is in plain mode,
        else encrypted in an envelope."""
        signer = self.signer()
        ts, nonce = now_ts(), secrets.token_hex(5)
        params = {"signature": signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
        if self.mode != "plain":
            encrypt = signer.encrypt(body)
            body = f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            params |= {"encrypt_type": "aes", "msg_signature": signature(TOKEN, ts, nonce, encrypt)}
        return await self.client.post("/wechat", params=params, data=body.encode())

    async def ask(self, xml: str, *, aes: bool | None = None, compatible: bool | None = None) -> str | None:
        """The reply's text (decrypted from an envelope), or None for "success"."""
        resp = await self.post(xml, aes=aes, compatible=compatible)
        assert resp.status == 200, await resp.text()
        return self.signer(aes, compatible).open_reply(await resp.text())

    async def reply_fields(self, resp: ClientResponse) -> dict[str, Any]:
        """The fields of a passive reply to a request posted in this mode, checking it is encrypted when
        the request was."""
        fields = parse_xml(await resp.read())
        if self.mode == "plain":
            assert "Encrypt" not in fields
            return fields
        assert set(fields) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
        crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
        return parse_xml(crypto.decrypt_message(fields, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]))

    async def scalar(self, stmt) -> Any:
        async with self.app[SESSIONS]() as session:
            return (await session.execute(stmt)).scalar()

    async def rows(self, stmt) -> list[Any]:
        async with self.app[SESSIONS]() as session:
            return list((await session.execute(stmt)).all())

    async def count(self, model) -> int:
        return await self.scalar(select(func.count()).select_from(model))

    async def conversation(self, openid: str) -> list[tuple[str, str, str | None]]:
        """The follower's logged messages in order: (direction, content, the passive reply or None), as the
        console would read them (message_log joined with inbound_messages on the reply's key)."""
        return [tuple(row) for row in await self.rows(
            select(MessageLog.direction, MessageLog.content, InboundMessage.reply)
            .outerjoin(InboundMessage, InboundMessage.key == MessageLog.reply_key)
            .where(MessageLog.openid == openid).order_by(MessageLog.id)
        )]


MakeBot = Callable[..., Awaitable[Bot]]


@pytest.fixture
def make_bot(aiohttp_client, settings: Settings, registry: PolicyRegistry) -> MakeBot:
    """`await make_bot(responder=..., **settings_overrides)`: the app with the real pipeline by default."""

    async def make(*, responder=None, clock=fixed_clock, **overrides: Any) -> Bot:
        s = replace(settings, **overrides)
        app = create_app(s, registry=registry, responder=responder, clock=clock, scheduler=False)
        return Bot(await aiohttp_client(app), s)

    return make


@pytest.fixture
async def bot(make_bot: MakeBot) -> Bot:
    return await make_bot()


def now_ts() -> str:
    return str(int(time.time()))
