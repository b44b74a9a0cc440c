"""`yibao import residents|payments|contacts FILE`: a roster into the database, all or nothing."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.common import console, run_async, with_db
from bot.commands.text import t
from bot.config import Settings

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.rules.loader import PolicyRegistry


# What the terminal would act on rather than show: escape sequences, bells, line breaks from a cell
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _plain(text: object) -> str:
    """Text from the file (a cell, its name) as the terminal shows it: control characters as \ufffd."""
    return _CONTROL.sub("\ufffd", str(text))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help=t("import.help"), description=t("import.description"))
    p.add_argument("kind", choices=("residents", "payments", "contacts"), help=t("import.kind"))
    p.add_argument("file", type=Path, metavar="FILE", help=t("import.file"))
    p.add_argument("--region", help=t("import.region"))
    p.add_argument("--year", type=int, help=t("import.year"))
    p.set_defaults(func=lambda a: run_async(import_roster(a)))


class _Bar:
    """rich progress for an import: one bar per phase (check, write), a spinner-like line for merging."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if phase not in self.tasks:
            for task in self.tasks.values():
                self.progress.update(task, completed=self.progress.tasks[task].total or 1)
            self.tasks[phase] = self.progress.add_task(phase, total=total)
        self.progress.update(self.tasks[phase], completed=done, total=total)


async def import_roster(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.store.imports import ImportRefused, import_file

    out = console()

    def say(text: str, style: str | None = None) -> None:
        """A line of the report: cells and file names are printed as they are, never read as rich markup
        (`[/]` in a cell raised MarkupError, `[link=…]` made a link)."""
        out.print(text, style=style, markup=False, highlight=False)

    async def work(settings: Settings, registry: PolicyRegistry, engine: AsyncEngine) -> int:
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                   TimeElapsedColumn())
        try:
            with Progress(*columns, console=out, transient=True, disable=not out.is_terminal) as progress:
                result = await import_file(engine, registry, settings, args.kind, args.file, region=args.region,
                                           year=args.year, progress=_Bar(progress))
        except ImportRefused as exc:
            say(t("import.report.refused", reason=_plain(exc)), "red")
            return 1
        for warning in result.warnings:
            say(t("import.report.warning", warning=_plain(warning)), "yellow")
        if not result.ok:
            say(t("import.report.failed", file=_plain(args.file.name), errors=result.errors), "red")
            for e in result.error_sample:
                where = t("import.report.at_row", row=e.row) + (f"「{_plain(e.column)}」" if e.column else "")
                shown = f"（{_plain(e.value)}）" if e.value else ""
                say(f"  {where}{shown}：{_plain(e.reason)}")
            if result.errors > len(result.error_sample):
                say(t("import.report.more", n=result.errors - len(result.error_sample)))
            say(t("import.report.errors_file", path=_plain(result.errors_path)))
            return 1
        year = t("import.report.scope_year", year=result.year) if result.kind == "residents" else None
        scope = "、".join(x for x in (result.region, year) if x)
        categories = (t("import.report.categories", added=result.categories_added,
                        removed=result.categories_removed) if result.kind == "residents" else "")
        say(t("import.report.done", file=_plain(args.file.name), scope=f"（{scope}）" if scope else "",
              rows=result.rows, inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
              categories=categories))
        return 0

    return await with_db(work)
