"""`yibao db upgrade|load-targets|revision`: the database schema and the reference data (regions, targets)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.common import console, run_async, with_db
from bot.commands.text import t
from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.rules.loader import PolicyRegistry


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help=t("db.help"), description=t("db.description"))
    dbs = db.add_subparsers(dest="db_command", metavar=t("yibao.action"), required=True)
    p = dbs.add_parser("upgrade", help=t("db.upgrade_help"), description=t("db.upgrade_description"))
    p.add_argument("--no-targets", action="store_true", help=t("db.no_targets"))
    p.set_defaults(func=lambda a: run_async(upgrade(a)))
    p = dbs.add_parser("load-targets", help=t("db.load_targets_help"), description=t("db.load_targets_description"))
    p.add_argument("--replace", action="store_true", help=t("db.replace"))
    p.set_defaults(func=lambda a: run_async(load_targets(a)))
    # For developers only: without help= argparse leaves it out of the staff's listing (`yibao db -h`).
    p = dbs.add_parser("revision", description=t("db.revision_help"))
    p.add_argument("-m", "--message", required=True, help=t("db.message"))
    p.set_defaults(func=revision)


async def upgrade(args: argparse.Namespace) -> int:
    from alembic import command

    from bot.store.schema import alembic_config

    settings = Settings.from_env()
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(command.upgrade, alembic_config(settings.sync_database_url), "head")
    console().print(t("db.upgraded"))
    return 0 if args.no_targets else await load_targets(args)


async def load_targets(args: argparse.Namespace) -> int:
    from bot.store.db import make_sessionmaker
    from bot.store.regions import load_targets

    async def work(_settings: Settings, registry: PolicyRegistry, engine: AsyncEngine) -> int:
        async with make_sessionmaker(engine)() as session, session.begin():
            loaded = await load_targets(session, registry, replace=getattr(args, "replace", False))
        regions = "、".join(registry.regions())
        if loaded.kept:
            console().print(t("db.targets_kept", count=loaded.total - loaded.kept, kept=loaded.kept, regions=regions))
        else:
            console().print(t("db.targets_loaded", count=loaded.total, regions=regions))
        return 0

    return await with_db(work)


def revision(args: argparse.Namespace) -> int:
    from alembic import command

    from bot.store.schema import alembic_config

    command.revision(alembic_config(Settings.from_env().sync_database_url), message=args.message, autogenerate=True)
    return 0
