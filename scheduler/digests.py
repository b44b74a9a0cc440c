"""What officials read: township digests, escalations, bulletins, deadlines, incentives and phase notices.

Each function turns collection progress (bot.store.progress.township_progress) and the policy into the
data of one message (JSON-ready: dates as ISO strings); the templates in templates/messages/ make the text.

Expected progress is linear over the collection period: by a cutoff, the share of the period elapsed at the
end of the cutoff day (陵川县 2025, 9月1日—2月25日: 86 of 178 days by 11月25日 = 48.3%); by the period end
or an extension end, 100%. A township is behind when its paid share of its target is below that.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.rules.calculator import cutoffs
from bot.rules.schema import Policy
from bot.store import signing
from bot.store.models import Payment, Resident
from bot.store.progress import TownshipProgress
from scheduler.kinds import BULLETIN, DEADLINE, DIGEST, ESCALATION, INCENTIVE, PHASE
from scheduler.timetable import JobSpec

LAGGARD_VILLAGES = 3  # villages named in a digest, lowest paid share first
LAGGARD_UNITS = 10  # townships named in an escalation, furthest behind first


def expected_percent(policy: Policy, cutoff: dt.date) -> float:
    """The share of the target that linear progress reaches by the end of `cutoff`."""
    c = policy.collection
    if cutoff >= c.end:
        return 100.0
    total = (c.end - c.start).days + 1
    elapsed = (cutoff - c.start).days + 1
    return round(100 * min(max(elapsed / total, 0.0), 1.0), 1)


def next_cutoff(policy: Policy, today: dt.date) -> tuple[dt.date | None, int | None]:
    """The first payment cutoff on or after `today` (a monthly 25th, the period end, an extension end) and the
    days left to it; (None, None) after the last."""
    ahead = sorted(c.date for c in cutoffs(policy) if c.date >= today)
    if not ahead:
        return None, None
    return ahead[0], (ahead[0] - today).days


def is_behind(unit: TownshipProgress, expected: float) -> bool:
    return unit.percent is not None and unit.percent < expected


def short_of(unit: TownshipProgress, expected: float) -> int:
    """How many more residents must pay for `unit` to reach `expected` percent of its target (0: reached)."""
    if not unit.target:
        return 0
    return max(math.ceil(unit.target * expected / 100 - 1e-9) - unit.paid, 0)


def unit_noun(policy: Policy) -> str:
    """What a unit of the policy's target table is called: a town's table is per village (周集镇), a county's
    per township."""
    return "村（社区）" if policy.region.level == "town" else "乡镇（街道）"


@dataclass(frozen=True)
class VillageProgress:
    township: str
    village: str
    roster: int
    paid: int

    @property
    def percent(self) -> float:
        return round(100 * self.paid / self.roster, 1) if self.roster else 0.0


async def village_progress(
    session: AsyncSession, region: str, year: int, on_date: dt.date
) -> dict[str, list[VillageProgress]]:
    """Township -> its villages' paid share of their residents on the roster (where residents have a village)."""
    paid = and_(Payment.resident_id == Resident.id, Payment.insurance_year == year, Payment.paid_on <= on_date)
    rows = await session.execute(
        select(Resident.township, Resident.village, func.count(), func.count(Payment.id))
        .outerjoin(Payment, paid)
        .where(Resident.county == region, Resident.village != "")
        .group_by(Resident.township, Resident.village)
    )
    out: dict[str, list[VillageProgress]] = {}
    for township, village, roster, n_paid in rows:
        out.setdefault(township, []).append(VillageProgress(township, village, roster, n_paid))
    return out


def _unit(p: TownshipProgress) -> dict[str, Any]:
    return {
        "name": p.name,
        "target": p.target,
        "paid": p.paid,
        "percent": p.percent,
        "remaining": p.remaining,
        "roster": p.roster,
        "unpaid": max(p.roster - p.paid, 0),
        "rank": p.rank,
    }


def _header(policy: Policy, spec: JobSpec) -> dict[str, Any]:
    return {
        "region": policy.region.name,
        "unit_noun": unit_noun(policy),
        "year": policy.insurance_year,
        "cutoff": spec.cutoff.isoformat(),
        "cutoff_kind": spec.cutoff_kind,
        "on": spec.run_at.date().isoformat(),
        "days_left": (spec.cutoff - spec.run_at.date()).days,
        "who": spec.who,
    }


def page_link(settings: Settings, payload: dict[str, Any], now: dt.datetime) -> str | None:
    """The signed, expiring link of a digest's township page (bot/console/township.py); None for others."""
    if payload.get("template") != "digest":
        return None
    expires = now + dt.timedelta(days=settings.page_link_days)
    return signing.page_url(settings.public_url, settings.link_key, payload["region"], payload["name"],
                            payload["year"], expires)


def county_totals(units: Sequence[TownshipProgress]) -> dict[str, Any]:
    target = sum(u.target or 0 for u in units)
    paid = sum(u.paid for u in units)
    return {"target": target, "paid": paid, "percent": round(100 * paid / target, 1) if target else None}


def digest(policy: Policy, spec: JobSpec, unit: TownshipProgress, units: int,
           villages: Sequence[VillageProgress]) -> dict[str, Any]:
    """乡镇征缴进度: paid vs target, unpaid, needy groups unpaid, laggard villages, rank, expected vs actual."""
    expected = expected_percent(policy, spec.cutoff)
    laggards = sorted((v for v in villages if v.paid < v.roster), key=lambda v: (v.percent, -v.roster))
    return {
        "template": DIGEST.template,
        **_header(policy, spec),
        **_unit(unit),
        "units": units,
        "expected_percent": expected,
        "behind": is_behind(unit, expected),
        "gap": round(expected - unit.percent, 1) if is_behind(unit, expected) else 0.0,
        "needy": [
            {"name": g.name, "listed": g.listed, "unpaid": g.listed - g.paid}
            for g in unit.groups
            if g.listed > g.paid
        ],
        "villages": [
            {"name": v.village, "percent": v.percent, "unpaid": v.roster - v.paid}
            for v in laggards[:LAGGARD_VILLAGES]
        ],
    }


def escalation(policy: Policy, spec: JobSpec, units: Sequence[TownshipProgress]) -> dict[str, Any] | None:
    """To the bureau: the townships behind their expected progress the day before a cutoff (None: none are)."""
    expected = expected_percent(policy, spec.cutoff)
    behind = sorted((_unit(u) for u in units if is_behind(u, expected)), key=lambda u: u["percent"])
    if not behind:
        return None
    return {
        "template": ESCALATION.template,
        **_header(policy, spec),
        "expected_percent": expected,
        "units": len(units),
        "county": county_totals(units),
        "behind": len(behind),
        "laggards": behind[:LAGGARD_UNITS],
    }


def earlier_bulletins(policy: Policy, day: dt.date) -> list[dt.date]:
    """The bulletin dates an interview rule looks back on (连续两期: the one before `day`), latest first."""
    b = policy.officials.bulletin
    if b is None or b.interview is None:
        return []
    step = dt.timedelta(days=b.frequency_days)
    first = policy.collection.start + step
    days = [day - step * k for k in range(1, b.interview.after_bulletins)]
    return [d for d in days if d >= first]


def _bottom(units: Sequence[TownshipProgress], n: int) -> list[str]:
    ranked = [u.name for u in units if u.percent is not None]
    return ranked[-n:]


def bulletin(policy: Policy, spec: JobSpec, units: Sequence[TownshipProgress], own: TownshipProgress | None,
             earlier: Sequence[Sequence[TownshipProgress]] = ()) -> dict[str, Any]:
    """一周一通报: the county's ranking, and who is called in (约谈) by the notice's rule: every
    `interview_every_days` the laggards (罗山县), or those in the bottom of `after_bulletins` bulletins running
    (青禾县: 连续两期排名后三位), `earlier` being the rankings of the bulletins before this one."""
    b = policy.officials.bulletin
    assert b is not None
    elapsed = (spec.cutoff - policy.collection.start).days
    ranked = [_unit(u) for u in units if u.percent is not None]
    interviewed: list[str] = []
    if b.interview is not None:
        rule = b.interview
        if len(earlier) == rule.after_bulletins - 1:
            stayed = set(_bottom(units, rule.bottom)).intersection(*(_bottom(e, rule.bottom) for e in earlier))
            interviewed = [u["name"] for u in ranked if u["name"] in stayed]
        interview = bool(interviewed)
    else:
        interview = bool(b.interview_every_days) and elapsed % (b.interview_every_days or 1) == 0
    return {
        "template": BULLETIN.template,
        **_header(policy, spec),
        "number": elapsed // b.frequency_days,
        "county": county_totals(units),
        "expected_percent": expected_percent(policy, spec.cutoff),
        "top": ranked[:3],
        "bottom": list(reversed(ranked[-3:])) if len(ranked) > 3 else [],
        "units": len(units),
        "interview": interview,
        "interviewed": interviewed,
        "rule_name": b.name,
        "rule": b.interview.model_dump(exclude={"source"}) if b.interview else None,
        "own": _unit(own) if own is not None else None,
    }


def deadline(policy: Policy, spec: JobSpec) -> dict[str, Any]:
    items = [d for d in policy.officials.deadlines if d.date == spec.cutoff]
    return {
        "template": DEADLINE.template,
        **_header(policy, spec),
        "items": [{"name": d.name, "who": d.who, "text": d.text} for d in items],
    }


def incentive(policy: Policy, spec: JobSpec, unit: TownshipProgress) -> dict[str, Any]:
    """以奖代补: how far a township is from its target before an incentive deadline."""
    items = [i for i in policy.officials.incentives if i.deadline == spec.cutoff]
    return {
        "template": INCENTIVE.template,
        **_header(policy, spec),
        **_unit(unit),
        "done": unit.target is not None and unit.paid >= unit.target,
        "rewards": [{"per_person": i.per_person, "basis": i.basis} for i in items],
        "later": [
            {"deadline": i.deadline.isoformat(), "per_person": i.per_person}
            for i in policy.officials.incentives
            if i.deadline > spec.cutoff
        ],
    }


def phase_start(policy: Policy, spec: JobSpec) -> dict[str, Any]:
    phases = [p for p in policy.officials.phases if p.start == spec.cutoff]
    return {
        "template": PHASE.template,
        **_header(policy, spec),
        "phases": [
            {"name": p.name, "start": p.start.isoformat() if p.start else None, "end": p.end.isoformat(),
             "text": p.text or ""}
            for p in phases
        ],
    }
