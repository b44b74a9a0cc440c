"""Synthetic demo data that follows a county's target table: residents, categories, payments, contacts and a
few followers, all fictional (names, ID numbers with valid checksums, 138-0000-XXXX phones, fake openids).

Idempotent for a given seed: the same seed makes the same people, and every insert skips rows that exist.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import config
from bot.catalogue import t
from bot.config import Settings
from bot.rules.calculator import payable_amount
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Policy
from bot.store import ids
from bot.store.db import insert
from bot.store.models import (
    Contact,
    Follower,
    OutboxMessage,
    Payment,
    Region,
    ReminderConsent,
    Resident,
    ResidentCategory,
    Target,
    utcnow,
)
from bot.store.progress import NEEDY_GROUPS
from bot.store.regions import load_targets, target_rows
from bot.store.synthetic import AREA_CODES, People, fake_phone

# Plausible shares of the population in each needy group when the notice gives no figure.
DEFAULT_RATES = {"tekun": 0.01, "dibao": 0.06, "monitored": 0.02, "returned_poor": 0.003, "tuopin": 0.07}
DEMO_CHANNELS = ("微信", "支付宝", "手机银行", "村便民服务站代缴")
BATCH = 5_000


@dataclass(frozen=True)
class DemoResident:
    """A fictional resident to try binding with (the demo prints these; their ID numbers are made up)."""

    name: str
    id_number: str
    township: str
    village: str
    categories: tuple[str, ...]  # category keys
    paid_on: dt.date | None
    channel: str | None


@dataclass(frozen=True)
class DemoSummary:
    region: str
    year: int
    residents: int
    paid: int  # by `today`
    contacts: int
    followers: int
    samples: tuple[DemoResident, ...] = ()  # an unpaid, a paid and a needy-group resident, none bound
    today: dt.date | None = None  # the day the payments were counted to


def demo_policy(registry: PolicyRegistry, region: str, year: int | None = None) -> Policy:
    """The region's policy for `year`, or its newest one with a target table."""
    policies = [p for p in registry.for_region(region) if p.targets and (year is None or p.insurance_year == year)]
    if not policies:
        which = t("demo-data.for_year", year=year) if year else ""
        raise ValueError(t("demo-data.no_targets", region=region, year=which))
    return policies[-1]


def _paid_on(rng: random.Random, policy: Policy) -> dt.date:
    """A payment date inside the collection period, early days more likely, inside the monthly window."""
    c = policy.collection
    day = c.start + dt.timedelta(days=int((c.end - c.start).days * rng.betavariate(1.2, 2.5)))
    w = c.monthly_window
    if w is not None and day.day > w.last_day:
        day = day.replace(day=w.last_day)
    return min(day, c.end)


async def load_demo_data(
    sessions: async_sessionmaker,
    registry: PolicyRegistry,
    region: str,
    scale: float,
    seed: int = 1,
    *,
    year: int | None = None,
    settings: Settings | None = None,
    today: dt.date | None = None,
) -> DemoSummary:
    """Residents at `scale` × each unit's target, ~60-85% of them paying over the season (varying by
    township), needy groups at the notice's or plausible rates, contacts for every township and the county,
    followers bound to unpaid residents. Only payments made by `today` (default: the clock's today) are
    written, as an import refuses a payment dated after today: the demo's counts are the dashboard's, and a
    later demo day finds more residents paid. `settings` gives the HMAC key (default: from the environment)."""
    settings = settings or Settings.from_env()
    today = today or config.today()
    key = settings.id_hmac_key.encode()
    name = registry.region_name(region) or region
    policy = demo_policy(registry, name, year)
    year = policy.insurance_year
    rng = random.Random(f"demo:{name}:{year}:{seed}")
    people = People(AREA_CODES.get(name, "110101"), seed)
    region_index = registry.regions().index(name) if name in registry.regions() else 0
    groups = [k for k in DEFAULT_RATES if policy.category(k) is not None or k in NEEDY_GROUPS]

    async with sessions() as session:
        dialect = session.bind.dialect.name
        await load_targets(session, registry, name, replace=True)  # the notice's figures, then scaled
        await _scale_targets(session, policy, scale)
        residents = paid = 0
        unpaid: list[str] = []  # id_hmac of unpaid residents, for followers
        candidates: list[tuple[DemoResident, str]] = []  # the first few of each kind, with their id_hmac
        for township, village, target, extra in target_rows(policy):
            paid_share = rng.uniform(0.60, 0.85)
            count = max(1, round(target * scale))
            rates = {k: (extra[k] / target if extra.get(k) and target else DEFAULT_RATES[k]) for k in groups}
            batch: list[dict[str, Any]] = []
            for _ in range(count):
                number = people.id_number()
                cats = tuple(k for k in groups if rng.random() < rates[k])
                pays = rng.random() < (min(paid_share + 0.15, 0.98) if cats else paid_share)
                person = people.name()
                if len(candidates) < 40:
                    village_name = village or ""
                    candidates.append((DemoResident(person, number, township, village_name, cats, None, None),
                                       ids.id_hmac(number, key)))
                batch.append({
                    "id_hmac": ids.id_hmac(number, key), "id_masked": ids.mask(number), "name": person,
                    "birth_date": ids.birth_date(number), "sex": ids.sex(number), "county": name,
                    "township": township, "village": village or rng.choice("东西南北") + "村",
                    "phone_masked": ids.mask_phone(fake_phone(rng.randrange(10_000))),
                    "_cats": cats,
                    "_pay": (_paid_on(rng, policy), rng.choice(DEMO_CHANNELS)) if pays else None,
                })
                if len(batch) >= BATCH:
                    paid += await _write(session, dialect, batch, policy, unpaid, today)
                    residents += len(batch)
                    batch = []
            if batch:
                paid += await _write(session, dialect, batch, policy, unpaid, today)
                residents += len(batch)
        contacts = await _contacts(session, dialect, policy, region_index)
        followers, bound = await _followers(session, dialect, name, unpaid, rng, region_index)
        samples = await _samples(session, candidates, bound)
        await session.commit()
    return DemoSummary(name, year, residents, paid, contacts, followers, samples, today)


async def _samples(session: AsyncSession, candidates: list[tuple[DemoResident, str]],
                   bound: set[str]) -> tuple[DemoResident, ...]:
    """An unpaid resident, a paid one and one of a needy group, among those no demo follower is bound to,
    as stored (the village and the payment are what the database holds)."""
    rows = {h: (village, paid_on, channel) for h, village, paid_on, channel in (await session.execute(
        select(Resident.id_hmac, Resident.village, Payment.paid_on, Payment.channel)
        .outerjoin(Payment, Payment.resident_id == Resident.id)
        .where(Resident.id_hmac.in_([h for _r, h in candidates]))
    )).all()}
    stored = [replace(r, village=rows[h][0], paid_on=rows[h][1], channel=rows[h][2])
              for r, h in candidates if h in rows and h not in bound]
    picks = [next((r for r in stored if r.paid_on is None and not r.categories), None),
             min((r for r in stored if r.paid_on is not None), key=lambda r: r.paid_on, default=None),
             next((r for r in stored if r.categories), None)]
    unique: list[DemoResident] = []
    for r in picks:
        if r is not None and r not in unique:
            unique.append(r)
    return tuple(unique)


async def clear_demo_outbox(sessions: async_sessionmaker) -> int:
    """Forget the messages planned for the demo's fictional recipients (openids `demo-...`), so a demo
    started again sends its reminder stage again. Never used outside `yibao demo`."""
    async with sessions.begin() as session:
        result = await session.execute(delete(OutboxMessage).where(OutboxMessage.openid.like("demo-%")))
    return result.rowcount or 0


async def _scale_targets(session: AsyncSession, policy: Policy, scale: float) -> None:
    """Demo rosters are `scale` × the real size, so their targets are too (marked `_demo_scale`): progress
    then reads like a real season (60-85%) instead of 0.6% everywhere."""
    if scale == 1:
        return
    rows = (await session.execute(
        select(Target).join(Region, Region.id == Target.region_id)
        .where(Region.county == policy.region.name, Target.insurance_year == policy.insurance_year)
    )).scalars()
    for target in rows:
        target.target = max(1, round(target.target * scale))
        target.extra = {**{k: v if v is None else round(v * scale) for k, v in target.extra.items()},
                        "_demo_scale": scale}
    await session.flush()


async def _write(session: AsyncSession, dialect: str, batch: list[dict[str, Any]], policy: Policy,
                 unpaid: list[str], today: dt.date) -> int:
    rows = [{k: v for k, v in r.items() if k[0] != "_"} for r in batch]
    await session.execute(insert(dialect, Resident.__table__).on_conflict_do_nothing(), rows)
    hmacs = [r["id_hmac"] for r in batch]
    ids_by_hmac = dict((await session.execute(
        select(Resident.id_hmac, Resident.id).where(Resident.id_hmac.in_(hmacs))
    )).all())
    cats, pays = [], []
    for r in batch:
        rid = ids_by_hmac[r["id_hmac"]]
        cats.extend({"resident_id": rid, "insurance_year": policy.insurance_year, "category": c} for c in r["_cats"])
        if r["_pay"] is None or r["_pay"][0] > today:  # not paid, or not yet
            unpaid.append(r["id_hmac"])
            continue
        amount = payable_amount(policy, r["_cats"]).amount
        paid_on, channel = r["_pay"]
        pays.append({
            "resident_id": rid, "insurance_year": policy.insurance_year,
            "amount": policy.contribution.tiers[0].amount if amount is None else amount,
            "paid_on": paid_on, "channel": channel, "source": "demo", "created_at": utcnow(),
        })
    if cats:
        await session.execute(insert(dialect, ResidentCategory.__table__).on_conflict_do_nothing(), cats)
    if pays:
        await session.execute(insert(dialect, Payment.__table__).on_conflict_do_nothing(), pays)
    return len(pays)


async def _contacts(session: AsyncSession, dialect: str, policy: Policy, region_index: int) -> int:
    """Each unit: a 分管领导 and a 经办人; the county: a 负责人, a 协调员, and a 包片领导 per four units."""
    names = People("000000", seed=region_index)
    places = [village or township for township, village, _target, _extra in target_rows(policy)]
    rows: list[dict[str, Any]] = []
    serial = region_index * 1000

    def person() -> dict[str, Any]:
        nonlocal serial
        serial += 1
        return {"county": policy.region.name, "name": names.name(), "phone": fake_phone(serial),
                "openid": f"demo-official-{serial:04d}"}

    for place in places:
        rows.append({**person(), "role": "分管领导", "township": place})
        rows.append({**person(), "role": "经办人", "township": place})
    rows.append({**person(), "role": "负责人", "township": ""})
    rows.append({**person(), "role": "协调员", "township": ""})
    for start in range(0, len(places), 4):
        leader = person()
        rows.extend({**leader, "role": "包片领导", "township": place} for place in places[start:start + 4])
    await session.execute(insert(dialect, Contact.__table__).on_conflict_do_nothing(), rows)
    return len(rows)


async def _followers(session: AsyncSession, dialect: str, region: str, unpaid: Sequence[str],
                     rng: random.Random, region_index: int) -> tuple[int, set[str]]:
    """A few demo followers bound to unpaid residents, so reminders have someone to go to; returns how many
    and the id_hmac of the residents they are bound to."""
    chosen = sorted(rng.sample(list(unpaid), min(len(unpaid), max(3, min(50, len(unpaid) // 20)))))
    if not chosen:
        return 0, set()
    ids_by_hmac = dict((await session.execute(
        select(Resident.id_hmac, Resident.id).where(Resident.id_hmac.in_(chosen))
    )).all())
    now = utcnow()
    rows = [{
        "openid": f"demo-resident-{region_index:02d}{i:03d}", "resident_id": ids_by_hmac[h], "county": region,
        "subscribed": True, "subscribed_at": now, "window_sends": 0, "unreachable": False, "state": {},
    } for i, h in enumerate(chosen, start=1)]
    await session.execute(insert(dialect, Follower.__table__).on_conflict_do_nothing(), rows)
    # most demo residents agreed to reminders when they bound (是否接收缴费提醒); every tenth said no
    consents = [{"openid": r["openid"], "consent": i % 10 != 9, "via": "binding", "answered_at": now}
                for i, r in enumerate(rows)]
    await session.execute(insert(dialect, ReminderConsent.__table__).on_conflict_do_nothing(), consents)
    return len(rows), set(chosen)
