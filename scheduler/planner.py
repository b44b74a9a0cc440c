"""Planning: a job's messages become outbox rows, and nothing is sent here.

Planning is a pure function of (policy, job, database): which unpaid residents follow the account, which
officials have an openid, what the progress figures are. Each row has the unique key
`recipient:insurance year:cutoff:stage` (plus the township for per-township messages), and rows are written
with INSERT ... ON CONFLICT (key) DO NOTHING, so planning the same job again, after a crash or by a second
scheduler, adds nothing twice.

Resident reminders are one set-based INSERT ... SELECT (a county of 600,000 plans in seconds). Their payload
names only the policy and the cutoff: the sender computes the amount and checks the payment at send time.

Extension-end reminders (周集镇: 春节返乡的外出务工人员 until 2025-02-28) go to every unpaid follower of the
region: the roster does not record who is a returning migrant worker, so the reminder itself says whom the
extension is for (docs/reminders.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue import t
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Policy
from bot.store.db import insert
from bot.store.models import Contact, Follower, OutboxMessage, Payment, ReminderConsent, Resident, UtcDateTime
from bot.store.progress import TownshipProgress, township_progress
from scheduler import digests
from scheduler.kinds import BULLETIN, DEADLINE, DIGEST, ESCALATION, INCENTIVE, PHASE, REMINDER
from scheduler.timetable import JobSpec

OUTBOX = OutboxMessage.__table__
BUREAU_ROLES = ("负责人", "协调员", "包片领导")  # county-level contacts an escalation goes to


def outbox_key(recipient: str, spec: JobSpec, unit: str = "") -> str:
    parts = [recipient, str(spec.insurance_year), spec.cutoff.isoformat(), spec.stage]
    return ":".join([*parts, unit] if unit else parts)


@dataclass
class StagePlan:
    """The outcome of planning one job: recipients per township, rows written, sample messages."""

    spec: JobSpec
    counts: dict[str, int] = field(default_factory=dict)  # township ("" = county level) -> recipients
    inserted: int | None = None  # None on a dry run
    samples: list[dict[str, Any]] = field(default_factory=list)  # outbox-like rows for previews
    note: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# -- residents -----------------------------------------------------------------------------------------


def _unpaid_followers(spec: JobSpec):
    """FROM/WHERE of the residents of the region who follow the account, agreed to reminders (是否接收缴费提醒:
    yes, bot/store/consent.py) and have not paid for the year."""
    r, f, p, c = Resident.__table__, Follower.__table__, Payment.__table__, ReminderConsent.__table__
    unpaid = ~exists().where(p.c.resident_id == r.c.id, p.c.insurance_year == spec.insurance_year)
    agreed = exists().where(c.c.openid == f.c.openid, c.c.consent.is_(True))
    return (
        r.join(f, f.c.resident_id == r.c.id),
        [r.c.county == spec.region, f.c.subscribed.is_(True), f.c.unreachable.is_(False), agreed, unpaid],
    )


def reminder_payload(spec: JobSpec) -> dict[str, Any]:
    return {"template": REMINDER.template, "policy": spec.policy_id, "cutoff_kind": spec.cutoff_kind, "who": spec.who}


async def _plan_reminders(session: AsyncSession, spec: JobSpec, plan: StagePlan, *, commit: bool,
                          planned_at: dt.datetime, samples: int) -> None:
    source, where = _unpaid_followers(spec)
    r, f = Resident.__table__, Follower.__table__
    counts = await session.execute(
        select(r.c.township, func.count()).select_from(source).where(*where).group_by(r.c.township)
    )
    plan.counts = {township: n for township, n in counts}
    if samples:
        rows = await session.execute(
            select(f.c.openid, r.c.id).select_from(source).where(*where).order_by(r.c.id).limit(samples)
        )
        plan.samples = [
            {"kind": spec.kind, "openid": openid, "resident_id": rid, "insurance_year": spec.insurance_year,
             "cutoff": spec.cutoff, "stage": spec.stage, "payload": reminder_payload(spec)}
            for openid, rid in rows
        ]
    if not commit:
        return
    suffix = outbox_key("", spec)  # ":2025:2024-11-25:reminder-5d", after the openid
    columns = ["key", "kind", "openid", "resident_id", "insurance_year", "cutoff", "stage", "payload", "status",
               "attempts", "not_before", "not_after", "planned_at"]
    select_rows = select(
        f.c.openid + literal(suffix, String),
        literal(spec.kind, String),
        f.c.openid,
        r.c.id,
        literal(spec.insurance_year, Integer),
        literal(spec.cutoff, Date),
        literal(spec.stage, String),
        literal(reminder_payload(spec), JSON),
        literal("pending", String),
        literal(0, Integer),
        literal(spec.run_at, UtcDateTime()),
        literal(spec.not_after, UtcDateTime()),
        literal(planned_at, UtcDateTime()),
    ).select_from(source).where(*where)
    result = await session.execute(
        insert(session.bind.dialect.name, OUTBOX).from_select(columns, select_rows)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    plan.inserted = result.rowcount


# -- officials -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Official:
    openid: str
    township: str  # "" = county level (the bureau)
    role: str
    name: str


async def _officials(session: AsyncSession, region: str) -> list[Official]:
    rows = await session.execute(
        select(Contact.openid, Contact.township, Contact.role, Contact.name)
        .where(Contact.county == region, Contact.openid.is_not(None), Contact.openid != "")
        .order_by(Contact.township, Contact.role, Contact.name)
    )
    return [Official(*row) for row in rows]


def _officials_rows(policy: Policy, spec: JobSpec, officials: list[Official],
                    units: list[TownshipProgress], villages: dict[str, list[digests.VillageProgress]],
                    earlier: list[list[TownshipProgress]]) -> list[tuple[Official, str, dict[str, Any]]]:
    """(recipient, unit the message is about, payload) for an officials' job."""
    by_name = {u.name: u for u in units}
    out: list[tuple[Official, str, dict[str, Any]]] = []
    kind = spec.stage_kind
    if kind is DIGEST:
        for o in officials:
            unit = by_name.get(o.township)
            if unit is not None:
                laggards = [] if unit.village else villages.get(unit.township, [])  # a village has no villages
                out.append((o, unit.name, digests.digest(policy, spec, unit, len(units), laggards)))
    elif kind is ESCALATION:
        payload = digests.escalation(policy, spec, units)
        if payload is not None:
            out.extend((o, "", payload) for o in officials if not o.township and o.role in BUREAU_ROLES)
    elif kind is BULLETIN:
        for o in officials:
            out.append((o, o.township, digests.bulletin(policy, spec, units, by_name.get(o.township), earlier)))
    elif kind is INCENTIVE:
        for o in officials:
            unit = by_name.get(o.township)
            if unit is not None and unit.target is not None:
                out.append((o, unit.name, digests.incentive(policy, spec, unit)))
    elif kind is DEADLINE:
        payload = digests.deadline(policy, spec)
        out.extend((o, "", payload) for o in _one_per_person(officials))
    elif kind is PHASE:
        payload = digests.phase_start(policy, spec)
        out.extend((o, "", payload) for o in _one_per_person(officials))
    return out


def _samples(rows: list[dict[str, Any]], units: list[str], n: int) -> list[dict[str, Any]]:
    """`n` sample rows, one per unit first (each township's digest differs, its officials' copies do not)."""
    seen: set[str] = set()
    first = [r for r, u in zip(rows, units, strict=True) if not (u in seen or seen.add(u))]
    return (first + [r for r in rows if r not in first])[:n]


def _one_per_person(officials: list[Official]) -> list[Official]:
    return list({o.openid: o for o in officials}.values())


async def _plan_officials(session: AsyncSession, policy: Policy, spec: JobSpec, plan: StagePlan, *,
                          commit: bool, planned_at: dt.datetime, samples: int) -> None:
    officials = await _officials(session, spec.region)
    if not officials:
        plan.note = t("remind.notes.no_contacts")
        return
    on = spec.run_at.date()  # progress counts payments dated up to the day the job runs
    units: list[TownshipProgress] = []
    villages: dict[str, list[digests.VillageProgress]] = {}
    if spec.stage_kind.progress:
        units = await township_progress(session, spec.region, spec.insurance_year, on)
    if spec.stage_kind.villages:
        villages = await digests.village_progress(session, spec.region, spec.insurance_year, on)
    earlier = []  # the rankings of earlier bulletins, for an interview rule (连续两期排名后三位)
    if spec.stage_kind is BULLETIN:
        for day in digests.earlier_bulletins(policy, spec.cutoff):
            earlier.append(await township_progress(session, spec.region, spec.insurance_year, day))
    planned = _officials_rows(policy, spec, officials, units, villages, earlier)
    if spec.stage_kind is ESCALATION and not planned:
        plan.note = t("remind.notes.no_laggards")
    rows = [
        {
            "key": outbox_key(o.openid, spec, unit),
            "kind": spec.kind,
            "openid": o.openid,
            "resident_id": None,
            "insurance_year": spec.insurance_year,
            "cutoff": spec.cutoff,
            "stage": spec.stage,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "not_before": spec.run_at,
            "not_after": spec.not_after,
            "planned_at": planned_at,
        }
        for o, unit, payload in planned
    ]
    for _o, unit, _payload in planned:
        plan.counts[unit] = plan.counts.get(unit, 0) + 1
    plan.samples = _samples(rows, [unit for _o, unit, _p in planned], samples)
    if commit:
        plan.inserted = 0
        into = insert(session.bind.dialect.name, OUTBOX)
        for i in range(0, len(rows), 1000):  # multi-row VALUES: its rowcount is exact on every driver
            stmt = into.values(rows[i:i + 1000]).on_conflict_do_nothing(index_elements=["key"])
            plan.inserted += len((await session.execute(stmt.returning(OUTBOX.c.id))).all())


# -- entry point ---------------------------------------------------------------------------------------


async def plan_job(session: AsyncSession, registry: PolicyRegistry, spec: JobSpec, *, commit: bool = True,
                   planned_at: dt.datetime, samples: int = 0) -> StagePlan:
    """Plan one job's messages; with `commit`, write them to the outbox (the caller commits the session)."""
    policy = next(p for p in registry.policies if p.id == spec.policy_id)
    plan = StagePlan(spec)
    if spec.for_residents:
        await _plan_reminders(session, spec, plan, commit=commit, planned_at=planned_at, samples=samples)
    else:
        await _plan_officials(session, policy, spec, plan, commit=commit, planned_at=planned_at, samples=samples)
    return plan
