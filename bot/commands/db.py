"""`yibao db upgrade|load-targets|revision`: the database schema and the reference data (regions, targets)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.common import console, run_async, with_db
from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.rules.loader import PolicyRegistry


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="database schema and reference data")
    dbs = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = dbs.add_parser("upgrade", help="migrate the configured database to the newest schema, then load targets")
    p.add_argument("--no-targets", action="store_true", help="do not load regions and targets from the policies")
    p.set_defaults(func=lambda a: run_async(upgrade(a)))
    p = dbs.add_parser("load-targets", help="load regions and targets from the policies' target tables")
    p.set_defaults(func=lambda a: run_async(load_targets(a)))
    p = dbs.add_parser("revision", help="(developers) write a new migration from the changes to models.py")
    p.add_argument("-m", "--message", required=True)
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
    console().print("数据库已升级到最新结构。")
    return 0 if args.no_targets else await load_targets(args)


async def load_targets(_args: argparse.Namespace) -> int:
    from bot.store.db import make_sessionmaker
    from bot.store.regions import load_targets

    async def work(_settings: Settings, registry: PolicyRegistry, engine: AsyncEngine) -> int:
        async with make_sessionmaker(engine)() as session, session.begin():
            count = await load_targets(session, registry)
        console().print(f"已从通知的任务分解表载入 {count} 条任务数（{'、'.join(registry.regions())}）。")
        return 0

    return await with_db(work)


def revision(args: argparse.Namespace) -> int:
    from alembic import command

    from bot.store.schema import alembic_config

    command.revision(alembic_config(Settings.from_env().sync_database_url), message=args.message, autogenerate=True)
    return 0
