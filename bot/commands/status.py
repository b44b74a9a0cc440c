"""`yibao status --region R`: collection progress per township, paid against target, with the needy groups."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.commands.args import iso_date
from bot.commands.common import console, run_async, with_db
from bot.commands.text import CommandError, t
from bot.config import Settings, today

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.rules.loader import PolicyRegistry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help=t("status.help"), description=t("status.description"))
    p.add_argument("--region", required=True, help=t("status.region"))
    p.add_argument("--year", type=int, help=t("status.year"))
    p.add_argument("--date", type=iso_date, help=t("status.date"))
    p.set_defaults(func=lambda a: run_async(status(a)))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


async def status(args: argparse.Namespace) -> int:
    from rich.table import Table

    from bot.rules.calculator import resolve_policy
    from bot.store.db import make_sessionmaker
    from bot.store.progress import township_progress
    from bot.store.regions import ensure_targets

    out = console()

    async def work(_settings: Settings, registry: PolicyRegistry, engine: AsyncEngine) -> int:
        region = registry.region_name(args.region)
        if region is None:
            raise CommandError(t("errors.unknown_region", region=args.region, known="、".join(registry.regions())))
        on = args.date or today()
        year = args.year or resolve_policy(registry, region, on).year or on.year
        async with make_sessionmaker(engine)() as session:
            async with session.begin():
                await ensure_targets(session, registry, region)
            rows = await township_progress(session, region, year, on, registry)
        if not rows:
            out.print(t("status.empty", region=region, year=year))
            return 1
        by_village = any(r.village for r in rows)
        table = Table(title=t("status.title", region=region, year=year, date=t("status.as_of", year=on.year,
                                                                                 month=on.month, day=on.day)))
        table.add_column(t("status.rank"), justify="right")
        table.add_column(t("status.village") if by_village else t("status.township"))
        table.add_column(t("status.target"), justify="right")
        table.add_column(t("status.paid"), justify="right")
        table.add_column(t("status.percent"), justify="right")
        table.add_column(t("status.remaining"), justify="right")
        groups = [g.name for g in rows[0].groups]
        for name in groups:
            table.add_column(name, justify="right")
        notes = []
        if groups:
            notes.append(t("status.groups_note", groups="、".join(groups)))
        if rows[0].demo_scale:
            notes.append(t("status.demo_note", scale=rows[0].demo_scale))
        table.caption = "；".join(notes) or None
        for r in rows:
            pct = r.percent
            style = "red" if pct is not None and pct < 60 else None
            cells = [str(r.rank), r.name, "—" if r.target is None else str(r.target), str(r.paid), _pct(pct),
                     "—" if r.remaining is None else str(r.remaining)]
            for g in r.groups:
                notice = t("status.notice_listed", n=g.notice_listed) if g.notice_listed is not None else ""
                cells.append(f"{g.paid}/{g.listed}{notice}")
            table.add_row(*cells, style=style)
        target = sum(r.target or 0 for r in rows)
        paid = sum(r.paid for r in rows)
        total = ["", t("status.total"), str(target), str(paid), _pct(round(100 * paid / target, 1) if target else None),
                 str(max(target - paid, 0))]
        for i, _name in enumerate(groups):
            listed = sum(r.groups[i].listed for r in rows)
            total.append(f"{sum(r.groups[i].paid for r in rows)}/{listed}")
        table.add_section()
        table.add_row(*total, style="bold")
        out.print(table)
        return 0

    return await with_db(work)
