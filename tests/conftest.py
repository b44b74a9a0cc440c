"""Fixtures every suite shares: the policies, and an empty database on each backend.

A test that takes `database_url` (or `settings`, `engine`, `sessions`) runs on SQLite (a file of its own) and
on PostgreSQL. PostgreSQL runs when YIBAO_TEST_PG_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/test);
it is skipped otherwise, and fails instead when YIBAO_TEST_PG_REQUIRED=1 (CI). The suite never touches the
database named in the URL beyond creating (and finally dropping) a database of its own for the session, so
other people's runs sharing that server are unaffected; each test starts from an empty schema. A suite
overrides `settings` with what it needs besides the database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import Settings, async_url
from bot.rules.loader import PolicyRegistry, load_registry
from bot.store.db import make_engine, make_sessionmaker
from bot.store.schema import ensure_schema

PG_URL = os.environ.get("YIBAO_TEST_PG_URL")
PG_REQUIRED = os.environ.get("YIBAO_TEST_PG_REQUIRED") == "1"
BACKENDS = ["sqlite", "postgresql"]
HMAC_KEY = "test-hmac-key"


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _unusable(reason: str) -> None:
    if PG_REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def registry() -> PolicyRegistry:
    return load_registry()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, for the whole session (plain postgresql:// URL)."""
    if not PG_URL:
        _unusable("PostgreSQL tests need YIBAO_TEST_PG_URL (YIBAO_TEST_PG_REQUIRED=1 makes them mandatory)")
    name = f"yibao_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with _connect(PG_URL) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        _unusable(f"PostgreSQL at YIBAO_TEST_PG_URL is not usable: {exc}")
    yield f"{PG_URL.rpartition('/')[0]}/{name}"
    with _connect(PG_URL) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database on `backend` (async URL)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'yibao.sqlite3'}"
    url = request.getfixturevalue("pg_database")
    with _connect(url) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return async_url(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, id_hmac_key=HMAC_KEY)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The database of `settings`, migrated."""
    engine = make_engine(settings)
    await ensure_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return make_sessionmaker(engine)


@dataclass
class Store:
    """What a store test needs, on one backend."""

    backend: str
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    registry: PolicyRegistry


@pytest.fixture
def store(backend: str, settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker,
          registry: PolicyRegistry) -> Store:
    return Store(backend, settings, engine, sessions, registry)
