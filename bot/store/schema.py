"""Bring the database schema up to date with the Alembic migrations in bot/store/migrations/."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.rules.loader import PolicyRegistry
from bot.store.models import Base
from bot.store.regions import ensure_targets

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaError(RuntimeError):
    pass


def alembic_config(sync_url: str | None = None) -> Config:
    """An Alembic configuration without an ini file; `sync_url` for tooling that connects by itself."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if sync_url:
        cfg.set_main_option("sqlalchemy.url", sync_url.replace("%", "%%"))
    return cfg


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Run the migrations on an open (synchronous) connection, inside its transaction."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and tables & set(Base.metadata.tables):
        raise SchemaError(
            "the database has yibao tables but no migration history (it was created before the migrations "
            "existed): delete it, or move it away, and start again"
        )
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


# Alembic's migration context is process-global: calls in one process take turns (other processes, on
# PostgreSQL, wait for the advisory lock in env.py).
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def ensure_schema(engine: AsyncEngine, registry: PolicyRegistry | None = None) -> None:
    """Create or migrate the database to the newest revision (`yibao serve` calls this at start); with
    `registry`, also load the regions and targets of every region that has none in the database yet."""
    turn = _turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with turn, engine.begin() as conn:
        await conn.run_sync(upgrade_connection)
    if registry is not None:
        async with AsyncSession(engine) as session, session.begin():
            for region in registry.regions():
                await ensure_targets(session, registry, region)
