"""Regions and targets from the policies' target tables (任务分解表), and the units imports check against.

A county's table is per township (陵川县, 罗山县); a town's is per village (周集镇). Rows of `regions`:
the policy region itself (level county or town, township ""), its townships, and for a town its villages
(township = the town, so a 周集镇 resident is 周集镇 / 班台村).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Policy
from bot.store.models import Region, Target


@dataclass(frozen=True)
class Units:
    """The townships and villages known for a policy region: what a roster row must name."""

    region: str
    town: str | None = None  # set when the region is a town: residents' 乡镇 is the town itself
    townships: frozenset[str] = frozenset()
    villages: dict[str, frozenset[str]] = field(default_factory=dict)  # township -> villages, when known

    @property
    def known(self) -> bool:
        return bool(self.townships)


def target_rows(policy: Policy) -> list[tuple[str, str, int, dict[str, int | None]]]:
    """(township, village, target, extra columns) for every row of the policy's target tables."""
    town = policy.region.name if policy.region.level == "town" else None
    out = []
    for table in policy.targets:
        for row in table.rows:
            target = row.values.get(table.target_column)
            if target is None:
                continue
            extra = {k: v for k, v in row.values.items() if k != table.target_column}
            if table.level == "village":
                out.append((table.township or town or "", row.name, target, extra))
            else:
                out.append((row.name, "", target, extra))
    return out


async def _region_row(
    session: AsyncSession, cache: dict[tuple[str, str, str], Region], level: str, county: str,
    township: str = "", village: str = "", parent: Region | None = None,
) -> Region:
    key = (county, township, village)
    if key in cache:
        return cache[key]
    row = (await session.execute(
        select(Region).where(Region.county == county, Region.township == township, Region.village == village)
    )).scalar_one_or_none()
    if row is None:
        row = Region(level=level, county=county, township=township, village=village,
                     parent_id=parent.id if parent else None)
        session.add(row)
        await session.flush()
    cache[key] = row
    return row


@dataclass(frozen=True)
class LoadedTargets:
    total: int  # targets in the policies' tables
    kept: int  # of those, already in the database and left as they were


async def load_targets(session: AsyncSession, registry: PolicyRegistry, region: str | None = None, *,
                       replace: bool = False) -> LoadedTargets:
    """Add the regions and targets of the target tables of every policy (or `region`'s) that the database
    lacks. A target already stored is left as it is (a demo's scaled targets, a figure corrected by hand)
    unless `replace`, which sets every target to the notice's figure."""
    cache: dict[tuple[str, str, str], Region] = {}
    count = kept = 0
    for policy in registry.for_region(region) if region else registry.policies:
        name = policy.region.name
        root = await _region_row(session, cache, policy.region.level, name)
        for township, village, target, extra in target_rows(policy):
            if village and not township:
                continue  # a village table outside a town: no township to hang it on
            if village:
                parent = root if township == name else await _region_row(
                    session, cache, "township", name, township, parent=root)
                unit = await _region_row(session, cache, "village", name, township, village, parent=parent)
            else:
                unit = await _region_row(session, cache, "township", name, township, parent=root)
            row = (await session.execute(
                select(Target).where(Target.region_id == unit.id, Target.insurance_year == policy.insurance_year)
            )).scalar_one_or_none()
            if row is None:
                session.add(Target(region_id=unit.id, insurance_year=policy.insurance_year, policy_id=policy.id,
                                   target=target, extra=extra))
            elif replace:
                row.policy_id, row.target, row.extra = policy.id, target, extra
            else:
                kept += 1
            count += 1
    await session.flush()
    return LoadedTargets(count, kept)


async def ensure_targets(session: AsyncSession, registry: PolicyRegistry, region: str) -> None:
    """Load `region`'s targets from its policies when the database has none yet (demo targets stay)."""
    name = registry.region_name(region) or region
    present = (await session.execute(
        select(Target.id).join(Region, Region.id == Target.region_id).where(Region.county == name).limit(1)
    )).first()
    if present is None:
        await load_targets(session, registry, name)


async def known_units(session: AsyncSession | None, registry: PolicyRegistry, region: str) -> Units:
    """Townships and villages of `region` from its target tables (every year) and the regions table."""
    policies = registry.for_region(region)
    name = policies[0].region.name if policies else region
    town = name if policies and policies[0].region.level == "town" else None
    townships: set[str] = {town} if town else set()
    villages: dict[str, set[str]] = {}
    for policy in policies:
        for township, village, _target, _extra in target_rows(policy):
            if township:
                townships.add(township)
            if village:
                villages.setdefault(township, set()).add(village)
    if session is not None:
        rows = await session.execute(
            select(Region.level, Region.township, Region.village).where(Region.county == name)
        )
        for level, township, village in rows:
            if level in {"township", "village"} and township:
                townships.add(township)
            if level == "village" and village:
                villages.setdefault(township, set()).add(village)
    return Units(
        region=name,
        town=town,
        townships=frozenset(townships),
        villages={t: frozenset(v) for t, v in villages.items()},
    )
