"""Builders for the outreach tests: followers in the database, the fake wired to the webhook, a client."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import insert

from bot.app import SESSIONS
from bot.store.models import Follower
from bot.wechat.client import WeChatClient
from bot.wechat.fake import FAKE, FakeWeChat
from tests.wechat.conftest import Bot


def wire(bot: Bot, fake: TestServer) -> FakeWeChat:
    """Point the fake's pushes (receipts, scans) at the bot's webhook, signed and encrypted like WeChat."""
    state = fake.app[FAKE]
    state.callback_url = str(bot.client.make_url("/wechat"))
    state.callback_token = bot.settings.wechat_token
    state.callback_aes_key = bot.settings.wechat_aes_key
    return state


async def add_followers(bot: Bot, rows: list[tuple[str, str | None, str | None]], **extra) -> None:
    """Followers (openid, county, township) as the webhook would have stored them."""
    now = dt.datetime.now(dt.UTC)
    async with bot.app[SESSIONS].begin() as session:
        await session.execute(insert(Follower.__table__), [
            {"openid": o, "county": c, "township": t, "subscribed": True, "subscribed_at": now,
             "unreachable": False, "window_sends": 0, "state": {}, "bind_failures": 0, **extra}
            for o, c, t in rows
        ])


@asynccontextmanager
async def wechat(bot: Bot, **options) -> AsyncIterator[WeChatClient]:
    async with aiohttp.ClientSession() as http:
        s = bot.settings
        yield WeChatClient(http, appid=s.wechat_appid, secret=s.wechat_secret, base=s.wechat_api_base,
                           sessions=bot.app[SESSIONS], backoff_s=0.01, **options)
