"""`yibao import residents|payments|contacts FILE`: a roster into the database, all or nothing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.common import console, run_async, with_db
from bot.commands.text import t
from bot.config import Settings

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.rules.loader import PolicyRegistry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help=t("import.help"), description=t("import.description"))
    p.add_argument("kind", choices=("residents", "payments", "contacts"), help=t("import.kind"))
    p.add_argument("file", type=Path, metavar="FILE", help=t("import.file"))
    p.add_argument("--region", help=t("import.region"))
    p.add_argument("--year", type=int, help=t("import.year"))
    p.set_defaults(func=lambda a: run_async(import_roster(a)))


class _Bar:
    """rich progress for an import: one bar per phase (检查, 写入), a spinner-like line for 合并."""

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

    async def work(settings: Settings, registry: PolicyRegistry, engine: AsyncEngine) -> int:
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                   TimeElapsedColumn())
        try:
            with Progress(*columns, console=out, transient=True, disable=not out.is_terminal) as progress:
                result = await import_file(engine, registry, settings, args.kind, args.file, region=args.region,
                                           year=args.year, progress=_Bar(progress))
        except ImportRefused as exc:
            out.print(f"[red]未导入：{exc}[/red]")
            return 1
        for warning in result.warnings:
            out.print(f"[yellow]注意：{warning}[/yellow]")
        if not result.ok:
            out.print(f"[red]未导入任何数据：{args.file.name} 有 {result.errors} 处问题（表头为第1行）。[/red]")
            for e in result.error_sample:
                where = f"第{e.row}行" + (f"「{e.column}」" if e.column else "")
                shown = f"（{e.value}）" if e.value else ""
                out.print(f"  {where}{shown}：{e.reason}")
            if result.errors > len(result.error_sample):
                out.print(f"  …… 其余 {result.errors - len(result.error_sample)} 处见错误清单")
            out.print(f"错误清单：{result.errors_path}")
            return 1
        scope = "、".join(x for x in (result.region, f"{result.year}年度身份类别" if result.kind == "residents"
                                      else None) if x)
        out.print(
            f"已导入 {args.file.name}{f'（{scope}）' if scope else ''}：共 {result.rows} 行，新增 {result.inserted}，"
            f"更新 {result.updated}，未变 {result.unchanged}"
            + (f"；身份类别新增 {result.categories_added}、删除 {result.categories_removed}"
               if result.kind == "residents" else "")
            + "。"
        )
        return 0

    return await with_db(work)
