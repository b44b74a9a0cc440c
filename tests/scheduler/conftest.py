"""Fixtures for the scheduler tests (the database on each backend is tests/conftest.py's): a fake WeChat, a
controlled clock, and a small county of residents, followers, payments and officials."""

from __future__ import annotations

import datetime as dt

import pytest
from aiohttp.test_utils import TestServer

from bot.config import TZ, Settings
from bot.rules.loader import PolicyRegistry, load_registry
from bot.rules.schema import TableRow, TargetTable
from bot.wechat.fake import FAKE, FakeWeChat, create_fake_app
from tests.scheduler.helpers import Clock

APPID = "wx-sched-test"
SECRET = "sched-secret"


@pytest.fixture
async def fake(aiohttp_server) -> TestServer:
    """The fake WeChat API, in-process; `fake.app[FAKE]` is its state."""
    return await aiohttp_server(create_fake_app(APPID, SECRET))


def fake_state(server: TestServer) -> FakeWeChat:
    return server.app[FAKE]


@pytest.fixture
def settings(database_url: str, fake: TestServer) -> Settings:
    return Settings(
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_api_base=str(fake.make_url("")).rstrip("/"),
        database_url=database_url,
        send_rate_per_s=0,
    )


@pytest.fixture(scope="session")
def builtin() -> PolicyRegistry:
    return load_registry()


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ))


# A small 陵川县 for digests: three townships with targets of 10, so progress figures are easy to read.
SMALL_TARGETS = {"崇文镇": 10, "礼义镇": 10, "附城镇": 10}


@pytest.fixture(scope="session")
def registry(builtin: PolicyRegistry) -> PolicyRegistry:
    """The built-in policies, with 陵川县 2025's target table cut down to SMALL_TARGETS."""
    policies = []
    for p in builtin.policies:
        if p.id == "lingchuan-2025":
            table = p.targets[0]
            small = TargetTable(
                key=table.key, title=table.title, level="township", target_column=table.target_column,
                columns=table.columns, source=table.source,
                rows=[TableRow(name=n, values={table.target_column: t}) for n, t in SMALL_TARGETS.items()],
            )
            p = p.model_copy(update={"targets": [small]})
        policies.append(p)
    return PolicyRegistry(policies=policies, paths=dict(builtin.paths))
