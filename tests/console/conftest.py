"""Fixtures of the console tests: the app (webhook + console, no scheduler) on SQLite and PostgreSQL with
the demo county's fictional data, an admin, a staff member and a township leader of 礼义镇, and a client
that logs in through the form as a browser does."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient
from cryptography.fernet import Fernet
from playwright.async_api import Browser, async_playwright

from bot.app import create_app
from bot.config import TZ, Settings
from bot.keys import SESSIONS
from bot.rules.loader import PolicyRegistry
from bot.store.demo import load_demo_data
from bot.store.users import add_user
from bot.wechat.simulate import Signer, text_xml
from tests.conftest import HMAC_KEY

from .browser import ARGS, CHROMIUM

TODAY = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)  # inside 陵川县 2025年度's collection period
PASSWORDS = {"admin": "admin-pass-1", "staff": "staff-pass-1", "liyi": "liyi-pass-1"}
DEMO_SCALE = 0.003  # some 600 fictional residents
SECRET = Fernet.generate_key().decode()


def fixed_clock() -> dt.datetime:
    return TODAY


@pytest.fixture
def settings(database_url: str) -> Settings:
    """tests/conftest.py's database (SQLite and PostgreSQL), with a console secret."""
    return Settings(database_url=database_url, console_secret=SECRET, id_hmac_key=HMAC_KEY)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match[1]


@dataclass
class Console:
    client: TestClient
    registry: PolicyRegistry
    settings: Settings

    @property
    def app(self):
        return self.client.server.app

    async def login(self, username: str, password: str | None = None) -> int:
        page = await self.client.get("/console/login")
        token = csrf_of(await page.text())
        resp = await self.client.post("/console/login", data={
            "username": username, "password": password or PASSWORDS[username], "csrf_token": token,
        }, allow_redirects=False)
        return resp.status

    async def token(self, path: str = "/console/") -> str:
        return csrf_of(await (await self.client.get(path)).text())

    async def ask_webhook(self, text: str, openid: str = "o-console-test") -> str | None:
        """The webhook's passive reply to `text`, signed as WeChat signs it (plain mode)."""
        return await webhook_answer(self.client, self.settings, text, openid)


async def webhook_answer(client: TestClient, settings: Settings, text: str, openid: str) -> str | None:
    signer = Signer(settings.wechat_token, settings.wechat_appid)
    params, body = signer.sign(text_xml(openid, text))
    resp = await client.post("/wechat", params=params, data=body)
    assert resp.status == 200, await resp.text()
    return signer.open_reply(await resp.text())


@pytest.fixture
async def console(aiohttp_client, settings: Settings, registry: PolicyRegistry) -> Console:
    app = create_app(settings, registry=registry, clock=fixed_clock, scheduler=False)
    client = await aiohttp_client(app)
    sessions = app[SESSIONS]
    await load_demo_data(sessions, registry, "陵川县", DEMO_SCALE, settings=settings, year=2025)
    async with sessions() as session, session.begin():
        await add_user(session, registry, "admin", "admin", PASSWORDS["admin"])
        await add_user(session, registry, "staff", "staff", PASSWORDS["staff"])
        await add_user(session, registry, "liyi", "township", PASSWORDS["liyi"], township="礼义镇")
    return Console(client, registry, settings)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        await browser.close()
