"""`yibao demo-data --region R`: fictional residents, payments, contacts and followers for a region."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.commands.common import console, run_async, with_db
from bot.commands.text import CommandError, t
from bot.config import Settings
from bot.render import cn_date

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.rules.loader import PolicyRegistry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo-data", help=t("demo-data.help"), description=t("demo-data.description"))
    p.add_argument("--region", required=True, help=t("demo-data.region"))
    p.add_argument("--scale", type=float, default=0.01, help=t("demo-data.scale"))
    p.add_argument("--year", type=int, help=t("demo-data.year"))
    p.add_argument("--seed", type=int, default=1, help=t("demo-data.seed"))
    p.set_defaults(func=lambda a: run_async(demo_data(a)))


async def demo_data(args: argparse.Namespace) -> int:
    from bot.store.db import make_sessionmaker
    from bot.store.demo import load_demo_data

    out = console()

    async def work(settings: Settings, registry: PolicyRegistry, engine: AsyncEngine) -> int:
        if registry.region_name(args.region) is None:
            raise CommandError(t("errors.unknown_region", region=args.region, known="、".join(registry.regions())))
        try:
            summary = await load_demo_data(make_sessionmaker(engine), registry, args.region, args.scale, args.seed,
                                           year=args.year, settings=settings)
        except ValueError as exc:
            out.print(f"[red]{exc}[/red]")
            return 1
        out.print(t("demo-data.loaded", region=summary.region, year=summary.year, residents=summary.residents,
                    paid=summary.paid, today=cn_date(summary.today), contacts=summary.contacts,
                    followers=summary.followers))
        return 0

    return await with_db(work)
