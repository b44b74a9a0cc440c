"""Bring the database schema up to date (placeholder: create_all until the Alembic migrations land)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.models import Base


async def ensure_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
