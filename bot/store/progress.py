"""Collection progress per township (or per village, for a town): paid against the target of the notice's
任务分解表, and the needy groups (特困, 低保, 监测对象, 脱贫户) paid against those listed in the roster.

Used by `yibao status`, the scheduler's digests and escalations, and the console.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.loader import PolicyRegistry
from bot.store.models import Payment, Region, Resident, ResidentCategory, Target

# The groups the notices single out for 100% enrolment (罗山县: 特困供养人员、城乡低保对象、脱贫人口（监测对象）;
# the 任务分解表 lists 城乡低保 and 脱贫户), with the short names a progress table uses.
NEEDY_GROUPS = {"tekun": "特困", "dibao": "低保", "monitored": "监测对象", "tuopin": "脱贫户"}


@dataclass(frozen=True)
class GroupProgress:
    """A needy group in one unit: listed in the roster, paid, and the notice's own figure when it has one."""

    key: str
    name: str
    listed: int
    paid: int
    notice_listed: int | None = None  # e.g. 罗山县's 城乡低保 column

    @property
    def percent(self) -> float | None:
        return round(100 * self.paid / self.listed, 1) if self.listed else None


@dataclass(frozen=True)
class TownshipProgress:
    """One row of the notice's target table (a township, or a village of a town) on one date."""

    township: str
    village: str  # "" for a township row
    target: int | None  # None: the notice gives no target for this unit
    paid: int  # residents with a payment for the year dated on or before the date
    roster: int  # residents of the unit in the roster
    groups: list[GroupProgress] = field(default_factory=list)
    extra: dict[str, int | None] = field(default_factory=dict)  # the table's other columns, by printed name
    rank: int = 0  # 1 = furthest ahead
    demo_scale: float | None = None  # demo data: the target is the notice's × this factor

    @property
    def name(self) -> str:
        return self.village or self.township

    @property
    def percent(self) -> float | None:
        return round(100 * self.paid / self.target, 1) if self.target else None

    @property
    def remaining(self) -> int | None:
        return None if self.target is None else max(self.target - self.paid, 0)


def _column_names(registry: PolicyRegistry | None, region: str, year: int) -> dict[str, str]:
    policy = registry.get(region, year) if registry else None
    return {c.key: c.name for t in policy.targets for c in t.columns} if policy else {}


async def township_progress(
    session: AsyncSession, region: str, year: int, on_date: dt.date, registry: PolicyRegistry | None = None,
) -> list[TownshipProgress]:
    """Every unit of `region`'s target table for insurance year `year`, as of the end of `on_date`, ranked
    by percent of target (units without a target last). `registry` gives the printed column names."""
    if registry is not None:
        region = registry.region_name(region) or region
    names = _column_names(registry, region, year)
    targets = (await session.execute(
        select(Region.township, Region.village, Target.target, Target.extra)
        .join(Target, Target.region_id == Region.id)
        .where(Region.county == region, Target.insurance_year == year)
    )).all()
    by_village = any(village for _t, village, _n, _e in targets)

    def unit(township: str, village: str = "") -> tuple[str, str]:
        return (township, village if by_village else "")

    rows: dict[tuple[str, str], dict] = {}
    for township, village, target, extra in targets:
        rows[unit(township, village)] = {"target": target, "extra": extra or {}, "paid": 0, "roster": 0, "groups": {}}

    def entry(key: tuple[str, str]) -> dict:
        return rows.setdefault(key, {"target": None, "extra": {}, "paid": 0, "roster": 0, "groups": {}})

    place = [Resident.township, Resident.village] if by_village else [Resident.township]
    width = len(place)
    paid_join = and_(Payment.resident_id == Resident.id, Payment.insurance_year == year, Payment.paid_on <= on_date)

    roster = await session.execute(
        select(*place, func.count(), func.count(Payment.id))
        .outerjoin(Payment, paid_join)
        .where(Resident.county == region)
        .group_by(*place)
    )
    for row in roster:
        e = entry(unit(*row[:width]))
        e["roster"], e["paid"] = row[width], row[width + 1]

    groups = await session.execute(
        select(*place, ResidentCategory.category, func.count(), func.count(Payment.id))
        .join(ResidentCategory, ResidentCategory.resident_id == Resident.id)
        .outerjoin(Payment, paid_join)
        .where(Resident.county == region, ResidentCategory.insurance_year == year,
               ResidentCategory.category.in_(list(NEEDY_GROUPS)))
        .group_by(*place, ResidentCategory.category)
    )
    for row in groups:
        category, listed, paid = row[width:]
        entry(unit(*row[:width]))["groups"][category] = (listed, paid)

    # A group is shown everywhere once the roster or the notice's table lists anyone in it.
    shown = [k for k in NEEDY_GROUPS if any(k in e["groups"] or k in e["extra"] for e in rows.values())]
    out = []
    for (township, village), e in rows.items():
        out.append(TownshipProgress(
            township=township,
            village=village,
            target=e["target"],
            paid=e["paid"],
            roster=e["roster"],
            groups=[
                GroupProgress(k, NEEDY_GROUPS[k], *e["groups"].get(k, (0, 0)), notice_listed=e["extra"].get(k))
                for k in shown
            ],
            extra={names.get(k, k): v for k, v in e["extra"].items() if not k.startswith("_")},
            demo_scale=e["extra"].get("_demo_scale"),
        ))
    out.sort(key=lambda p: (p.percent is None, -(p.percent or 0), -p.paid, p.name))
    return [TownshipProgress(**{**p.__dict__, "rank": i}) for i, p in enumerate(out, start=1)]
