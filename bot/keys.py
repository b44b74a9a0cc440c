"""The application's typed keys (`web.AppKey`), for every part that reads what the app factory set up (the
webhook, the console, the scheduler). A leaf, as aio-libs' demos keep theirs in a typedefs module."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import Settings
from bot.rules.loader import PolicyRegistry
from bot.store.published import CurrentRegistry
from bot.wechat.client import WeChatClient

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", PolicyRegistry)  # the policy files
POLICIES = web.AppKey("policies", CurrentRegistry)  # the files plus what the console published: answer with this
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker)
HTTP = web.AppKey("http", aiohttp.ClientSession)
WECHAT = web.AppKey("wechat", WeChatClient)
