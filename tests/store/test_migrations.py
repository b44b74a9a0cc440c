"""Alembic migrations: an empty database reaches the newest revision on every backend, matching models.py."""

from __future__ import annotations

import asyncio
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.store.db import make_engine
from bot.store.models import Base
from bot.store.schema import SchemaError, alembic_config, ensure_schema


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_upgrade_from_empty_creates_every_table(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        current = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    assert set(Base.metadata.tables) <= tables
    assert current == _head()


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diffs = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
        )
    assert diffs == []


async def test_ensure_schema_twice_is_harmless(engine: AsyncEngine) -> None:
    await ensure_schema(engine)
    async with engine.connect() as conn:
        current = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    assert current == _head()


_MIGRATE = """
import asyncio, sys
from bot.config import Settings
from bot.store.db import make_engine
from bot.store.schema import ensure_schema

async def main():
    engine = make_engine(Settings(database_url=sys.argv[1]))
    await ensure_schema(engine)
    await engine.dispose()

asyncio.run(main())
"""


async def test_workers_starting_together_migrate_once(settings: Settings, backend: str) -> None:
    """Processes on PostgreSQL take turns through the advisory lock; calls within a process take turns."""
    if backend == "postgresql":
        procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", _MIGRATE, settings.database_url)
                 for _ in range(3)]
        assert [await p.wait() for p in procs] == [0, 0, 0]
    engines = [make_engine(settings) for _ in range(3)]
    try:
        await asyncio.gather(*(ensure_schema(e) for e in engines))
        async with engines[0].connect() as conn:
            current = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
        assert current == _head()
    finally:
        for e in engines:
            await e.dispose()


async def test_tables_without_history_are_refused(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        with pytest.raises(SchemaError, match="no migration history"):
            await ensure_schema(engine)
    finally:
        await engine.dispose()


async def test_with_a_registry_targets_are_loaded_once(engine: AsyncEngine, registry) -> None:
    await ensure_schema(engine, registry)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE targets SET target = 1"))  # e.g. demo targets: kept from now on
    await ensure_schema(engine, registry)
    async with engine.connect() as conn:
        targets = (await conn.execute(text("SELECT count(*), max(target) FROM targets"))).one()
    assert targets == (sum(len(t.rows) for p in registry.policies for t in p.targets), 1)
