"""`yibao remind plan`, `yibao jobs`, `yibao outbox`, `yibao scheduler`: the reminders from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import config
from bot.commands.args import iso_date
from bot.config import TZ, Settings
from bot.render import cn_date
from bot.rules.loader import PolicyRegistry, load_registry
from bot.store.models import OutboxMessage, ResidentCategory
from scheduler.messages import message_data, render_text
from scheduler.planner import StagePlan, plan_job
from scheduler.timetable import JobSpec, all_jobs, next_cutoff_jobs, upcoming

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dropped", "skipped")
STAGE_NAMES = {
    "reminder": "居民缴费状态通知",
    "digest": "乡镇征缴进度",
    "escalation": "督办提醒（县局）",
    "bulletin": "一周一通报",
    "deadline": "工作节点提醒",
    "incentive": "以奖代补提醒",
    "phase": "工作阶段提醒",
}


def _region(registry: PolicyRegistry, name: str | None) -> str | None:
    if name is None:
        return None
    region = registry.region_name(name)
    if region is None:
        raise SystemExit(f"yibao: unknown region {name!r}; known: {'、'.join(registry.regions())}")
    return region


def _when(value: dt.datetime) -> str:
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def _describe(spec: JobSpec) -> str:
    what = STAGE_NAMES.get(spec.kind, spec.kind)
    if spec.kind == "reminder":
        what += f"（截止前{spec.stage.removeprefix('reminder-').removesuffix('d')}天）"
    about = {"monthly": "月度截止", "period_end": "缴费期结束", "extension_end": f"延长期结束（{spec.who}）"}
    return f"{what} · {spec.region} {cn_date(spec.cutoff, False)}{about.get(spec.cutoff_kind, '')}"


def print_upcoming_jobs(registry: PolicyRegistry, settings: Settings, *, after: dt.datetime,
                        region: str | None = None, limit: int = 12, out: TextIO | None = None) -> int:
    """The next scheduled jobs after `after` (what `yibao demo` shows); returns how many there are in all."""
    out = out or sys.stdout
    jobs = upcoming(all_jobs(registry, settings, region), after)
    print(f"即将运行的提醒任务（{_when(after)} 之后，共{len(jobs)}个）：", file=out)
    for spec in jobs[:limit]:
        print(f"  {_when(spec.run_at)}  {_describe(spec)}", file=out)
    if len(jobs) > limit:
        print(f"  ……另有{len(jobs) - limit}个（yibao jobs 查看全部）", file=out)
    return len(jobs)


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[async_sessionmaker]:
    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.schema import ensure_schema

    engine = make_engine(settings)
    try:
        await ensure_schema(engine)
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def preview(session: AsyncSession, registry: PolicyRegistry, row: dict[str, Any], today: dt.date) -> str:
    """The customer-service text of a planned row, as the resident or official would read it."""
    categories: list[str] = []
    if row.get("resident_id") is not None:
        categories = list((await session.execute(
            select(ResidentCategory.category).where(ResidentCategory.resident_id == row["resident_id"],
                                                    ResidentCategory.insurance_year == row["insurance_year"])
        )).scalars())
    template, data = message_data(registry, row, categories, today)
    return render_text(template, data)


# -- yibao remind plan ---------------------------------------------------------------------------------


async def remind_plan(settings: Settings, on: dt.date, region: str | None, *, commit: bool, stage: str | None,
                      samples: int, out: TextIO | None = None) -> list[StagePlan]:
    out = out or sys.stdout
    registry = load_registry(settings.policy_dirs)
    region = _region(registry, region)
    specs = next_cutoff_jobs(all_jobs(registry, settings, region), on)
    if stage:
        specs = [s for s in specs if s.stage == stage or s.kind == stage]
    if not specs:
        print(f"{on.isoformat()} 之后没有提醒任务。", file=out)
        return []
    mode = "写入发件箱" if commit else "预演，不写入发件箱；加 --commit 写入"
    print(f"{cn_date(on)}起的提醒计划（{mode}）", file=out)
    plans = []
    async with _database(settings) as sessions:
        for spec in specs:
            async with sessions() as session:
                plan = await plan_job(session, registry, spec, commit=commit, planned_at=config.now(),
                                      samples=samples)
                if commit:
                    await session.commit()
                plans.append(plan)
                written = f"，新写入{plan.inserted}条" if plan.inserted is not None else ""
                print(f"\n{_when(spec.run_at)}  {_describe(spec)}  [{spec.stage}]", file=out)
                print(f"  收件人{plan.total}个{written}" + (f"（{plan.note}）" if plan.note else ""), file=out)
                if plan.counts:
                    by = "、".join(f"{name or spec.region + '本级'}{n}" for name, n in sorted(plan.counts.items(),
                                                                               key=lambda kv: (-kv[1], kv[0])))
                    print(f"  按乡镇：{by}", file=out)
                for row in plan.samples:
                    text = await preview(session, registry, row, spec.run_at.date())
                    print(f"  示例 → {row['openid']}：", file=out)
                    for line in text.splitlines():
                        print(f"    {line}", file=out)
    if not any(p.total for p in plans):
        print("\n（没有收件人：数据库里还没有关注公众号的居民或登记了openid的联系人；"
              "演示数据：yibao demo-data --region 陵川县）", file=out)
    return plans


# -- yibao jobs ----------------------------------------------------------------------------------------


def jobs_command(settings: Settings, region: str | None, after: dt.datetime, show_all: bool, store: bool,
                 out: TextIO | None = None) -> None:
    out = out or sys.stdout
    registry = load_registry(settings.policy_dirs)
    region = _region(registry, region)
    if store:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        from scheduler.jobs import JOBS_TABLE

        stored = SQLAlchemyJobStore(url=settings.sync_database_url, tablename=JOBS_TABLE)
        stored.start(None, "default")  # creates the table if the scheduler never ran
        try:
            jobs = [j for j in stored.get_all_jobs() if not region or j.name.startswith(region)]
        finally:
            stored.shutdown()
        print(f"任务库中的任务（{len(jobs)}个）：", file=out)
        for job in jobs:
            print(f"  {_when(job.next_run_time) if job.next_run_time else '（暂停）'}  {job.id}", file=out)
        return
    print_upcoming_jobs(registry, settings, after=after, region=region,
                        limit=sys.maxsize if show_all else 20, out=out)


# -- yibao outbox --------------------------------------------------------------------------------------


async def outbox_command(settings: Settings, status: str | None, limit: int, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    o = OutboxMessage.__table__
    async with _database(settings) as sessions, sessions() as session:
        counts = (await session.execute(
            select(o.c.status, o.c.kind, o.c.stage, func.count()).group_by(o.c.status, o.c.kind, o.c.stage)
            .order_by(o.c.status, o.c.kind, o.c.stage)
        )).all()
        if not counts:
            print("发件箱为空。", file=out)
            return
        print("发件箱（状态 / 类别 / 阶段：条数）：", file=out)
        for st, kind, stage, n in counts:
            if status is None or st == status:
                print(f"  {st:8} {kind:10} {stage:14} {n}", file=out)
        wanted = [status] if status else ["failed"]
        rows = (await session.execute(
            select(o.c.key, o.c.status, o.c.attempts, o.c.last_error, o.c.not_before, o.c.sent_at)
            .where(o.c.status.in_(wanted)).order_by(o.c.id.desc()).limit(limit)
        )).all()
        if rows:
            print(f"\n最近的{'、'.join(wanted)}（最多{limit}条）：", file=out)
        for key, st, attempts, error, not_before, sent_at in rows:
            when = f"发送于{_when(sent_at)}" if sent_at else f"不早于{_when(not_before)}"
            print(f"  {key}  {st}  尝试{attempts}次  {when}" + (f"  原因：{error}" if error else ""), file=out)


# -- yibao scheduler -----------------------------------------------------------------------------------


async def scheduler_command(settings: Settings, *, once: bool, jobs: bool, sender: bool) -> None:
    from bot.commands.serve import configure_logging
    from scheduler.wiring import standalone

    configure_logging()

    async with standalone(settings, run_jobs=jobs and not once, run_sender=sender and not once) as scheduling:
        if once:
            stats = await scheduling.sender.drain()
            print(f"发件箱已处理：{dict(stats) or '没有到期的消息'}")
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("调度器已启动（Ctrl+C 停止）", file=sys.stderr)
        await stop.wait()


# -- registration ---

def _remind_plan(a: argparse.Namespace) -> int:
    asyncio.run(remind_plan(Settings.from_env(), a.date, a.region, commit=a.commit, stage=a.stage,
                            samples=a.samples))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    remind = sub.add_parser("remind", help="reminders before each payment cutoff")
    remind_sub = remind.add_subparsers(dest="remind_command", metavar="ACTION", required=True)
    plan = remind_sub.add_parser("plan", help="what the stages before the next cutoff would send (dry run)")
    plan.add_argument("--date", type=iso_date, required=True, help="plan the stages from this date (YYYY-MM-DD)")
    plan.add_argument("--region", help="county or town (陵川县, 周集镇, 陵川)")
    plan.add_argument("--stage", help="only this stage or kind (reminder-5d, digest, escalation, ...)")
    plan.add_argument("--commit", action="store_true", help="write the rows to the outbox (default: dry run)")
    plan.add_argument("--samples", type=int, default=1, help="sample messages shown per stage (default 1)")
    plan.set_defaults(func=_remind_plan)

    jobs = sub.add_parser("jobs", help="the next scheduled reminder jobs, from the policies or the job store")
    jobs.add_argument("--region")
    jobs.add_argument("--after", type=iso_date, help="jobs after this date (default: now)")
    jobs.add_argument("--all", action="store_true", help="every job, not the next 20")
    jobs.add_argument("--store", action="store_true", help="read the job store of the running scheduler")
    jobs.set_defaults(func=lambda a: jobs_command(
        Settings.from_env(), a.region,
        dt.datetime.combine(a.after, dt.time(0), TZ) if a.after else config.now(), a.all, a.store))

    outbox = sub.add_parser("outbox", help="planned messages by status, with the reasons of failures")
    outbox.add_argument("--status", choices=OUTBOX_STATUSES)
    outbox.add_argument("--limit", type=int, default=20)
    outbox.set_defaults(func=lambda a: asyncio.run(outbox_command(Settings.from_env(), a.status, a.limit)))

    sched = sub.add_parser("scheduler", help="run the reminder scheduler and the outbox sender alone")
    sched.add_argument("--once", action="store_true", help="send what is due now, then exit")
    sched.add_argument("--no-jobs", action="store_true", help="only send (another process runs the jobs)")
    sched.add_argument("--no-sender", action="store_true", help="only run the jobs")
    sched.set_defaults(func=lambda a: asyncio.run(scheduler_command(
        Settings.from_env(), once=a.once, jobs=not a.no_jobs, sender=not a.no_sender)))
