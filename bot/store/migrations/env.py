"""Alembic environment: migrate the connection we are handed, or the configured database's sync URL.

`bot.store.schema.ensure_schema` hands in a connection of the application's async engine (run_sync);
`yibao db upgrade` and the `alembic` tooling pass a synchronous URL (sqlite://, postgresql+psycopg://).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from bot.config import Settings
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata
# Several workers may start at once on one PostgreSQL database: one migrates, the others wait, then find
# nothing left to do. (The lock is released when the migration's transaction ends.)
MIGRATION_LOCK = 0x7969_6261_6F00_0001


def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    """APScheduler creates and owns its job table; autogenerate must not try to drop it."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def _configure(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        include_name=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().sync_database_url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        _configure(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
