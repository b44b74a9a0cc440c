"""Fixtures for the scheduler tests: a database on SQLite and PostgreSQL, a fake WeChat, a controlled clock,
and a small county of residents, followers, payments and officials.

PostgreSQL runs when YIBAO_TEST_PG_URL is set (a database of our own, `yibao_sched_*`, for the session, emptied
before each test); it is skipped when unset, unless YIBAO_TEST_PG_REQUIRED=1.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import TZ, Settings, async_url
from bot.rules.loader import PolicyRegistry, load_registry
from bot.rules.schema import TableRow, TargetTable
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Base
from bot.store.schema import ensure_schema
from bot.wechat.fake import FAKE, FakeWeChat, create_fake_app
from scheduler.jobs import JOBS_TABLE
from tests.pg import private_database
from tests.scheduler.helpers import Clock

PG_URL = os.environ.get("YIBAO_TEST_PG_URL")
PG_REQUIRED = os.environ.get("YIBAO_TEST_PG_REQUIRED") == "1"
APPID = "wx-sched-test"
SECRET = "sched-secret"


def _pg(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    yield from private_database("yibao_sched")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'yibao.sqlite3'}"
    url = request.getfixturevalue("pg_url")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with _pg(url) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        conn.execute(f'DROP TABLE IF EXISTS "{JOBS_TABLE}"')
    return async_url(url)


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


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings)
    await ensure_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return make_sessionmaker(engine)


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
