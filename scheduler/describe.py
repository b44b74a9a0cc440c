"""How a job and a planned message read to staff: the stage names, one line per job, and a planned row's
text exactly as its recipient will read it. Shared by `yibao jobs`, `yibao remind plan` and the console."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue import section, t
from bot.render import cn_date
from bot.rules.loader import PolicyRegistry
from bot.store.models import ResidentCategory
from scheduler.kinds import KINDS
from scheduler.messages import message_data, render_text
from scheduler.timetable import JobSpec

STAGE_NAMES = {kind.name: kind.label for kind in KINDS.values()}


def stage_label(kind: str, stage: str) -> str:
    """An outbox row's kind and stage as staff read them: 居民缴费状态通知（截止前5天）, 乡镇征缴进度, 绑定提醒."""
    name = STAGE_NAMES.get(kind) or section("outbox.kinds").get(kind, kind)
    if kind in KINDS and KINDS[kind].for_residents and stage.startswith(f"{kind}-"):
        name += t("jobs.days_before", days=stage.removeprefix(f"{kind}-").removesuffix("d"))
    return name


def describe_job(spec: JobSpec) -> str:
    what = spec.stage_kind.label
    if spec.stage_kind.for_residents:
        what += t("jobs.days_before", days=spec.stage.removeprefix("reminder-").removesuffix("d"))
    # A late period for everyone who has not paid (补缴期 with no `who`) has no group to name.
    kind = f"{spec.cutoff_kind}_all" if spec.cutoff_kind == "extension_end" and not spec.who else spec.cutoff_kind
    about = t(f"jobs.cutoffs.{kind}", who=spec.who) if kind in section("jobs.cutoffs") else ""
    return f"{what} · {spec.region} {cn_date(spec.cutoff, False)}{about}"


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
