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


def _against(percent: float | None, expected: float) -> str:
    """A unit's completion against the expected share, in percentage points: 落后1.3, 超过22.1, 持平."""
    if percent is None:
        return "—"
    gap = round(percent - expected, 1)
    if gap < 0:
        return t("status.behind_by", points=f"{-gap:.1f}")
    return t("status.ahead_by", points=f"{gap:.1f}") if gap > 0 else t("status.on_par")


async def status(args: argparse.Namespace) -> int:
    from rich.table import Table

    from bot.rules.calculator import resolve_policy
    from bot.store.db import make_sessionmaker
    from bot.store.progress import township_progress
    from bot.store.regions import ensure_targets
    from scheduler.digests import expected_percent, is_behind, next_cutoff, unit_noun

    out = console()

    async def work(_settings: Settings, registry: PolicyRegistry, engine: AsyncEngine) -> int:
        region = registry.region_name(args.region)
        if region is None:
            county = next((r for r in registry.regions() if args.region in registry.townships(r)), None)
            if county is not None:  # a township: its county's table has its row
                raise CommandError(t("status.township_given", township=args.region, region=county))
            raise CommandError(t("errors.unknown_region", region=args.region, known="、".join(registry.regions())))
        on = args.date or today()
        year = args.year or resolve_policy(registry, region, on).year or on.year
        policy = registry.get(region, year)
        if policy is None:
            years = "、".join(str(p.insurance_year) for p in registry.for_region(region))
            raise CommandError(t("status.no_policy", region=region, year=year, years=years))
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
        # the share the calendar expects by the end of `on` (from the period's start), as the digests count it
        expected = expected_percent(policy, min(on, policy.collection.end)) if on >= policy.collection.start else None
        if expected is not None:
            table.add_column(t("status.against_expected"), justify="right")
        groups = [g.name for g in rows[0].groups]
        for name in groups:
            table.add_column(name, justify="right")
        notes = []
        if expected is not None:
            behind = sum(1 for r in rows if is_behind(r, expected))
            date = t("status.as_of", year=on.year, month=on.month, day=on.day)
            notes.append(t("status.expected_note", date=date, expected=f"{expected:.1f}")
                         + (t("status.behind_note", behind=behind, noun=unit_noun(policy)) if behind
                            else t("status.none_behind")))
            cutoff, days = next_cutoff(policy, on)
            if cutoff is not None and cutoff != on:
                then = expected_percent(policy, cutoff)  # what that cutoff's digests and escalation compare with
                lagging = sum(1 for r in rows if is_behind(r, then))
                notes.append(t("status.cutoff_note", month=cutoff.month, day=cutoff.day, days=days,
                               expected=f"{then:.1f}")
                             + (t("status.cutoff_behind", behind=lagging, noun=unit_noun(policy)) if lagging else ""))
        if groups:
            listed = any(g.notice_listed is not None for r in rows for g in r.groups)
            notes.append(t("status.groups_note", groups="、".join(groups))
                         + (t("status.groups_note_listed") if listed else ""))
        if rows[0].demo_scale:
            notes.append(t("status.demo_note", scale=rows[0].demo_scale))
        table.caption = "；".join(notes) or None
        for r in rows:
            pct = r.percent
            style = "red" if expected is not None and is_behind(r, expected) else None
            cells = [str(r.rank), r.name, "—" if r.target is None else str(r.target), str(r.paid), _pct(pct),
                     "—" if r.remaining is None else str(r.remaining)]
            if expected is not None:
                cells.append(_against(pct, expected))
            for g in r.groups:
                notice = t("status.notice_listed", n=g.notice_listed) if g.notice_listed is not None else ""
                cells.append(f"{g.paid}/{g.listed}{notice}")
            table.add_row(*cells, style=style)
        target = sum(r.target or 0 for r in rows)
        paid = sum(r.paid for r in rows)
        county = round(100 * paid / target, 1) if target else None
        total = ["", t("status.total"), str(target), str(paid), _pct(county), str(max(target - paid, 0))]
        if expected is not None:
            total.append(_against(county, expected))
        for i, _name in enumerate(groups):
            listed = sum(r.groups[i].listed for r in rows)
            total.append(f"{sum(r.groups[i].paid for r in rows)}/{listed}")
        table.add_section()
        table.add_row(*total, style="bold")
        out.print(table)
        return 0

    return await with_db(work)
