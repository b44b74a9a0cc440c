"""Builders for the outreach tests: followers in the database, the fake wired to the webhook, a client."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import insert

from bot.app import REGISTRY, SESSIONS
from bot.config import Settings
from bot.store.models import Follower
from bot.wechat.client import WeChatClient
from bot.wechat.fake import FAKE, FakeWeChat
from scheduler.planner import plan_job
from scheduler.sender import Sender
from scheduler.timetable import find_job
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


async def run_job(bot, job_id: str) -> None:
    """Plan a job and send its messages at the time it runs."""
    sessions, registry = bot.app[SESSIONS], bot.app[REGISTRY]
    spec = find_job(registry, Settings(), job_id)
    async with sessions.begin() as session:
        await plan_job(session, registry, spec, planned_at=spec.run_at)
    settings = replace(bot.settings, send_rate_per_s=0)
    async with aiohttp.ClientSession() as http:
        client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                              base=settings.wechat_api_base, sessions=sessions)
        await Sender(sessions, client, registry, settings, clock=lambda: spec.run_at).drain()
