"""Staff commands on the database: `yibao db upgrade|load-targets|revision`, `yibao import`, `yibao status`,
`yibao demo-data`. Output is for bureau staff (Chinese); ID numbers never appear, phones are masked."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.commands.args import iso_date
from bot.config import Settings, today
from bot.rules.calculator import resolve_policy
from bot.rules.loader import PolicyRegistry, load_registry
from bot.store.db import make_engine, make_sessionmaker
from bot.store.schema import ensure_schema

# Wide enough for the status table when the output is a file or a pipe (rich would assume 80 columns).
console = Console(highlight=False, width=None if Console().is_terminal else 160)



def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="database schema and reference data")
    dbs = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = dbs.add_parser("upgrade", help="migrate the configured database to the newest schema, then load targets")
    p.add_argument("--no-targets", action="store_true", help="do not load regions and targets from the policies")
    p.set_defaults(func=lambda a: _run(_upgrade(a)))
    p = dbs.add_parser("load-targets", help="load regions and targets from the policies' target tables")
    p.set_defaults(func=lambda a: _run(_load_targets(a)))
    p = dbs.add_parser("revision", help="(developers) write a new migration from the changes to models.py")
    p.add_argument("-m", "--message", required=True)
    p.set_defaults(func=_revision)

    p = sub.add_parser("import", help="import a roster: residents, payments or contacts (.csv or .xlsx)")
    p.add_argument("kind", choices=("residents", "payments", "contacts"))
    p.add_argument("file", type=Path)
    p.add_argument("--region", help="county or town (陵川县, 周集镇); default YIBAO_DEFAULT_REGION")
    p.add_argument("--year", type=int, help="insurance year: of the categories (residents), or when the "
                                            "payments file has no 年度 column (default: the year being collected)")
    p.set_defaults(func=lambda a: _run(_import(a)))

    p = sub.add_parser("status", help="collection progress per township: paid vs target, needy groups")
    p.add_argument("--region", required=True)
    p.add_argument("--year", type=int, help="insurance year (default: the year being collected)")
    p.add_argument("--date", type=iso_date, help="as of the end of this day (default: today)")
    p.set_defaults(func=lambda a: _run(_status(a)))

    p = sub.add_parser("demo-data", help="fictional residents, payments, contacts and followers for a region")
    p.add_argument("--region", required=True)
    p.add_argument("--scale", type=float, default=0.01, help="share of each township's target (default 0.01)")
    p.add_argument("--year", type=int)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=lambda a: _run(_demo_data(a)))


def _run(coro: Awaitable[int]) -> int:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def _with_db(work: Callable[[Settings, PolicyRegistry, Any], Awaitable[int]]) -> int:
    """Open the configured database (migrating it first, as `yibao serve` does), run `work`, close."""
    settings = Settings.from_env()
    registry = load_registry(settings.policy_dirs)
    engine = make_engine(settings)
    try:
        await ensure_schema(engine)
        return await work(settings, registry, engine)
    finally:
        await engine.dispose()


async def _upgrade(args: argparse.Namespace) -> int:
    from alembic import command

    from bot.store.schema import alembic_config

    settings = Settings.from_env()
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(command.upgrade, alembic_config(settings.sync_database_url), "head")
    console.print("数据库已升级到最新结构。")
    return 0 if args.no_targets else await _load_targets(args)


async def _load_targets(_args: argparse.Namespace) -> int:
    from bot.store.regions import load_targets

    async def work(_settings: Settings, registry: PolicyRegistry, engine: Any) -> int:
        async with make_sessionmaker(engine)() as session, session.begin():
            count = await load_targets(session, registry)
        console.print(f"已从通知的任务分解表载入 {count} 条任务数（{'、'.join(registry.regions())}）。")
        return 0

    return await _with_db(work)


def _revision(args: argparse.Namespace) -> int:
    from alembic import command

    from bot.store.schema import alembic_config

    command.revision(alembic_config(Settings.from_env().sync_database_url), message=args.message, autogenerate=True)
    return 0


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


async def _import(args: argparse.Namespace) -> int:
    from bot.store.imports import ImportRefused, import_file

    async def work(settings: Settings, registry: PolicyRegistry, engine: Any) -> int:
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                   TimeElapsedColumn())
        try:
            with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
                result = await import_file(engine, registry, settings, args.kind, args.file, region=args.region,
                                           year=args.year, progress=_Bar(progress))
        except ImportRefused as exc:
            console.print(f"[red]未导入：{exc}[/red]")
            return 1
        for warning in result.warnings:
            console.print(f"[yellow]注意：{warning}[/yellow]")
        if not result.ok:
            console.print(f"[red]未导入任何数据：{args.file.name} 有 {result.errors} 处问题（表头为第1行）。[/red]")
            for e in result.error_sample:
                where = f"第{e.row}行" + (f"「{e.column}」" if e.column else "")
                shown = f"（{e.value}）" if e.value else ""
                console.print(f"  {where}{shown}：{e.reason}")
            if result.errors > len(result.error_sample):
                console.print(f"  …… 其余 {result.errors - len(result.error_sample)} 处见错误清单")
            console.print(f"错误清单：{result.errors_path}")
            return 1
        scope = "、".join(x for x in (result.region, f"{result.year}年度身份类别" if result.kind == "residents"
                                      else None) if x)
        console.print(
            f"已导入 {args.file.name}{f'（{scope}）' if scope else ''}：共 {result.rows} 行，新增 {result.inserted}，"
            f"更新 {result.updated}，未变 {result.unchanged}"
            + (f"；身份类别新增 {result.categories_added}、删除 {result.categories_removed}"
               if result.kind == "residents" else "")
            + "。"
        )
        return 0

    return await _with_db(work)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


async def _status(args: argparse.Namespace) -> int:
    from bot.store.progress import township_progress
    from bot.store.regions import ensure_targets

    async def work(_settings: Settings, registry: PolicyRegistry, engine: Any) -> int:
        region = registry.region_name(args.region)
        if region is None:
            console.print(f"[red]不认识的地区“{args.region}”：可用 {'、'.join(registry.regions())}[/red]")
            return 2
        on = args.date or today()
        year = args.year or resolve_policy(registry, region, on).year or on.year
        async with make_sessionmaker(engine)() as session:
            async with session.begin():
                await ensure_targets(session, registry, region)
            rows = await township_progress(session, region, year, on, registry)
        if not rows:
            console.print(f"{region} {year}年度：数据库中没有任务数，也没有参保人员"
                          "（先运行 yibao db load-targets 并导入名册）。")
            return 1
        by_village = any(r.village for r in rows)
        table = Table(title=f"{region} {year}年度城乡居民医保缴费进度（截至{on.year}年{on.month}月{on.day}日）")
        table.add_column("排名", justify="right")
        table.add_column("村(社区)" if by_village else "乡镇")
        table.add_column("任务数", justify="right")
        table.add_column("已缴", justify="right")
        table.add_column("完成率", justify="right")
        table.add_column("差额", justify="right")
        groups = [g.name for g in rows[0].groups]
        for name in groups:
            table.add_column(name, justify="right")
        notes = []
        if groups:
            notes.append(f"{'、'.join(groups)}：已缴/名册人数（括号内为通知所列人数）")
        if rows[0].demo_scale:
            notes.append(f"演示数据：任务数为通知的 {rows[0].demo_scale:g} 倍")
        table.caption = "；".join(notes) or None
        for r in rows:
            pct = r.percent
            style = "red" if pct is not None and pct < 60 else None
            cells = [str(r.rank), r.name, "—" if r.target is None else str(r.target), str(r.paid), _pct(pct),
                     "—" if r.remaining is None else str(r.remaining)]
            for g in r.groups:
                notice = f"（通知{g.notice_listed}）" if g.notice_listed is not None else ""
                cells.append(f"{g.paid}/{g.listed}{notice}")
            table.add_row(*cells, style=style)
        target = sum(r.target or 0 for r in rows)
        paid = sum(r.paid for r in rows)
        total = ["", "合计", str(target), str(paid), _pct(round(100 * paid / target, 1) if target else None),
                 str(max(target - paid, 0))]
        for i, _name in enumerate(groups):
            listed = sum(r.groups[i].listed for r in rows)
            total.append(f"{sum(r.groups[i].paid for r in rows)}/{listed}")
        table.add_section()
        table.add_row(*total, style="bold")
        console.print(table)
        return 0

    return await _with_db(work)


async def _demo_data(args: argparse.Namespace) -> int:
    from bot.store.demo import load_demo_data

    async def work(settings: Settings, registry: PolicyRegistry, engine: Any) -> int:
        if registry.region_name(args.region) is None:
            console.print(f"[red]不认识的地区“{args.region}”：可用 {'、'.join(registry.regions())}[/red]")
            return 2
        try:
            summary = await load_demo_data(make_sessionmaker(engine), registry, args.region, args.scale, args.seed,
                                           year=args.year, settings=settings)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            return 1
        console.print(
            f"演示数据（虚构）：{summary.region} {summary.year}年度，参保人 {summary.residents}，已缴 {summary.paid}，"
            f"联系人 {summary.contacts}，绑定的关注者 {summary.followers}（同一 seed 重复运行不会重复写入）。"
        )
        return 0

    return await _with_db(work)
