"""A private PostgreSQL database for one test session: created, migrated, dropped (shared by conftests)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bot.config import Settings, async_url
from bot.store.db import make_engine
from bot.store.schema import ensure_schema

PG_URL = os.environ.get("YIBAO_TEST_PG_URL")
PG_REQUIRED = os.environ.get("YIBAO_TEST_PG_REQUIRED") == "1"


def _unusable(reason: str) -> None:
    if PG_REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


def private_database(prefix: str) -> Iterator[str]:
    """Yield the plain postgresql:// URL of a fresh, migrated database named `prefix_<pid>_<random>`;
    skip without YIBAO_TEST_PG_URL, fail instead when YIBAO_TEST_PG_REQUIRED=1."""
    if not PG_URL:
        _unusable("PostgreSQL tests need YIBAO_TEST_PG_URL (YIBAO_TEST_PG_REQUIRED=1 makes them mandatory)")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        _unusable(f"PostgreSQL at YIBAO_TEST_PG_URL is not usable: {exc}")
    url = f"{PG_URL.rpartition('/')[0]}/{name}"

    async def migrate() -> None:
        engine = make_engine(Settings(database_url=async_url(url)))
        await ensure_schema(engine)
        await engine.dispose()

    asyncio.run(migrate())
    yield url
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
