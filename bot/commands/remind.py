"""`yibao remind plan`: what the stages before the next cutoff would send, as a dry run or into the outbox."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING, TextIO

from bot import config
from bot.commands.args import iso_date
from bot.commands.common import open_sessions, run_async, when
from bot.commands.jobs import known_region
from bot.commands.text import t
from bot.config import Settings

if TYPE_CHECKING:

    from scheduler.planner import StagePlan


def register(sub: argparse._SubParsersAction) -> None:
    remind = sub.add_parser("remind", help=t("remind.help"), description=t("remind.description"))
    remind_sub = remind.add_subparsers(dest="remind_command", metavar=t("yibao.action"), required=True)
    plan = remind_sub.add_parser("plan", help=t("remind.plan_help"), description=t("remind.plan_description"))
    plan.add_argument("--date", type=iso_date, required=True, help=t("remind.date"))
    plan.add_argument("--region", help=t("remind.region"))
    plan.add_argument("--stage", help=t("remind.stage"))
    plan.add_argument("--commit", action="store_true", help=t("remind.commit"))
    plan.add_argument("--samples", type=int, default=1, help=t("remind.samples"))
    plan.set_defaults(func=lambda a: run_async(remind_plan(
        Settings.from_env(), a.date, a.region, commit=a.commit, stage=a.stage, samples=a.samples)))


async def remind_plan(settings: Settings, on: dt.date, region: str | None, *, commit: bool, stage: str | None,
                      samples: int, out: TextIO | None = None) -> list[StagePlan]:
    from bot.render import cn_date
    from bot.rules.loader import load_registry
    from scheduler.describe import describe_job, preview
    from scheduler.planner import plan_job
    from scheduler.timetable import all_jobs, next_cutoff_jobs

    out = out or sys.stdout
    registry = load_registry(settings.policy_dirs)
    region = known_region(registry, region)
    specs = next_cutoff_jobs(all_jobs(registry, settings, region), on)
    if stage:
        specs = [s for s in specs if s.stage == stage or s.kind == stage]
    if not specs:
        print(t("remind.none", after=on.isoformat()), file=out)
        return []
    mode = t("remind.mode_commit") if commit else t("remind.mode_dry_run")
    print(t("remind.heading", date=cn_date(on), mode=mode), file=out)
    plans = []
    async with open_sessions(settings) as sessions:
        for spec in specs:
            async with sessions() as session:
                plan = await plan_job(session, registry, spec, commit=commit, planned_at=config.now(),
                                      samples=samples)
                if commit:
                    await session.commit()
                plans.append(plan)
                written = t("remind.written", n=plan.inserted) if plan.inserted is not None else ""
                print(f"\n{when(spec.run_at)}  {describe_job(spec)}  [{spec.stage}]", file=out)
                note = f"（{plan.note}）" if plan.note else ""
                print(t("remind.recipients", n=plan.total, written=written) + note, file=out)
                if plan.counts:
                    own = t("remind.own_level", region=spec.region)
                    by = "、".join(f"{name or own}{n}" for name, n in sorted(plan.counts.items(),
                                                                         key=lambda kv: (-kv[1], kv[0])))
                    print(t("remind.by_township", counts=by), file=out)
                for row in plan.samples:
                    text = await preview(session, registry, row, spec.run_at.date())
                    print(t("remind.sample", openid=row["openid"]), file=out)
                    for line in text.splitlines():
                        print(f"    {line}", file=out)
    if not any(p.total for p in plans) and not all(p.note for p in plans):  # a note says why already
        print("\n" + t("remind.no_recipients"), file=out)
    return plans
