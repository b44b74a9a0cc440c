"""Which jobs a policy's calendar asks for, and when: pure functions of (policy, settings).

For every payment cutoff (`calculator.cutoffs`: each monthly 25th inside the period, the period end, an
extension end) there are resident reminders (default 5 and 1 days before, 10:00), a township digest (3 days
before, 09:00) and an escalation to the bureau (the day before, 09:00). Where the notice asks for them there
are also a weekly bulletin (罗山县: 一周一通报), officials' deadlines (12月30日前完成数据录入), incentive
deadlines (以奖代补: 11月30日 / 12月31日) and the start of each work phase. Every offset and time of day is a
setting; every datetime is Asia/Shanghai-aware.

A job's id is `policy id:date:stage` (e.g. `lingchuan-2025:2024-11-25:reminder-5d`): deterministic, so
re-adding a job replaces it and a restart never doubles it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import TZ, Settings
from bot.rules.calculator import cutoffs
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Policy
from scheduler.kinds import BULLETIN, DEADLINE, INCENTIVE, KINDS, PAYMENT_KINDS, PHASE, RESIDENT_KINDS, StageKind

__all__ = ["RESIDENT_KINDS", "JobSpec", "all_jobs", "find_job", "next_cutoff_jobs", "policy_jobs", "upcoming"]


@dataclass(frozen=True)
class JobSpec:
    """One scheduled planning run: at `run_at`, plan the outbox rows of `stage` for `cutoff`.

    `cutoff` is the date the messages are about: a payment cutoff for reminders, digests and escalations;
    the bulletin's own date; the deadline, incentive deadline or phase start. After `not_after` the job is
    pointless and its messages are dropped rather than sent late.
    """

    policy_id: str
    region: str
    insurance_year: int
    kind: str  # a StageKind's name (scheduler/kinds.py)
    stage: str  # reminder-5d, reminder-1d, digest, escalation, bulletin, deadline, incentive, phase
    cutoff: dt.date
    cutoff_kind: str  # monthly | period_end | extension_end (payment cutoffs), else the kind itself
    run_at: dt.datetime
    not_after: dt.datetime
    who: str | None = None  # an extension's beneficiaries (春节返乡的外出务工人员)

    @property
    def id(self) -> str:
        return f"{self.policy_id}:{self.cutoff.isoformat()}:{self.stage}"

    @property
    def stage_kind(self) -> StageKind:
        return KINDS[self.kind]

    @property
    def for_residents(self) -> bool:
        return self.stage_kind.for_residents

    @property
    def grace_s(self) -> int:
        """How late the job may still run (APScheduler misfire_grace_time): only while its cutoff is ahead."""
        return max(int((self.not_after - self.run_at).total_seconds()), 1)


def at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, TZ)


def end_of(day: dt.date) -> dt.datetime:
    """The first instant after `day` in Asia/Shanghai: payments are accepted all day on a cutoff."""
    return at(day + dt.timedelta(days=1), dt.time(0))


def policy_jobs(policy: Policy, settings: Settings) -> list[JobSpec]:
    """Every job of one policy's calendar, past and future, in run order."""
    base = {"policy_id": policy.id, "region": policy.region.name, "insurance_year": policy.insurance_year}
    out: list[JobSpec] = []

    def add(kind: StageKind, day: dt.date, not_after: dt.datetime, **extra: object) -> None:
        for stage, run_at in kind.runs(day, settings):
            out.append(JobSpec(kind=kind.name, stage=stage, cutoff=day, run_at=run_at, not_after=not_after,
                               **base, **extra))

    for cut in cutoffs(policy):
        for kind in PAYMENT_KINDS:
            add(kind, cut.date, end_of(cut.date), cutoff_kind=cut.kind, who=cut.who)
    officials = policy.officials
    bulletin = officials.bulletin
    if bulletin is not None:
        step = dt.timedelta(days=bulletin.frequency_days)
        day = policy.collection.start + step
        while day <= (bulletin.end or policy.collection.end):  # 集中参保期和延长缴费期内每周一通报
            # A bulletin is stale once the next one is due.
            add(BULLETIN, day, BULLETIN.runs(day, settings)[0][1] + step, cutoff_kind=BULLETIN.name)
            day += step
    # Several deadlines (or incentives, or phases) on one date make one job and one message.
    for day in sorted({d.date for d in officials.deadlines}):
        add(DEADLINE, day, end_of(day), cutoff_kind=DEADLINE.name)
    for day in sorted({i.deadline for i in officials.incentives}):
        add(INCENTIVE, day, end_of(day), cutoff_kind=INCENTIVE.name)
    phase_ends: dict[dt.date, dt.date] = {}
    for phase in officials.phases:
        if phase.start is not None:
            phase_ends[phase.start] = max(phase.end, phase_ends.get(phase.start, phase.end))
    for day, last in sorted(phase_ends.items()):
        add(PHASE, day, end_of(last), cutoff_kind=PHASE.name)
    return sorted(out, key=lambda j: (j.run_at, j.id))


def all_jobs(registry: PolicyRegistry, settings: Settings, region: str | None = None) -> list[JobSpec]:
    policies: Iterable[Policy] = registry.for_region(region) if region else registry.policies
    return sorted((j for p in policies for j in policy_jobs(p, settings)), key=lambda j: (j.run_at, j.id))


def find_job(registry: PolicyRegistry, settings: Settings, job_id: str) -> JobSpec | None:
    policy_id = job_id.split(":", 1)[0]
    for policy in registry.policies:
        if policy.id == policy_id:
            return next((j for j in policy_jobs(policy, settings) if j.id == job_id), None)
    return None


def upcoming(jobs: Iterable[JobSpec], after: dt.datetime) -> list[JobSpec]:
    """Jobs still to run after `after` (aware)."""
    if after.tzinfo is None:
        raise ValueError("naive datetime: pass an Asia/Shanghai-aware time")
    return [j for j in jobs if j.run_at > after]


def next_cutoff_jobs(jobs: Iterable[JobSpec], on: dt.date) -> list[JobSpec]:
    """The jobs from `on` up to the first payment cutoff whose stages are not all past: what
    `yibao remind plan --date` shows (on 2024-11-20 in 陵川县: the four stages before 11月25日)."""
    ahead = [j for j in jobs if j.run_at.date() >= on]
    payment = [j for j in ahead if j.cutoff_kind in {"monthly", "period_end", "extension_end"}]
    if not payment:
        return ahead
    first = min(j.cutoff for j in payment)
    return [j for j in ahead if j.run_at.date() <= first]
