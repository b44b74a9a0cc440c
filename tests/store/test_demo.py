"""Demo data: follows the target table, fictional throughout, idempotent for a seed (every backend)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from bot.store.demo import load_demo_data
from bot.store.models import Contact, Follower, Payment, Resident, ResidentCategory, Target
from bot.store.progress import township_progress
from tests.conftest import Store
from tests.store.test_imports import snapshot


async def test_demo_data_follows_the_targets_and_is_idempotent(store: Store) -> None:
    first = await load_demo_data(store.sessions, store.registry, "陵川县", 0.01, seed=5, settings=store.settings)
    before = await snapshot(store)
    again = await load_demo_data(store.sessions, store.registry, "陵川县", 0.01, seed=5, settings=store.settings)
    assert first == again and await snapshot(store) == before
    assert first.year == 2025 and first.residents == 2060  # 1% of each township's target, rounded
    assert 0.6 <= first.paid / first.residents <= 0.9

    async with store.sessions() as s:
        paid_on = (await s.execute(select(func.min(Payment.paid_on), func.max(Payment.paid_on)))).one()
        days = set((await s.execute(select(Payment.paid_on))).scalars())
        contacts = (await s.execute(select(Contact))).scalars().all()
        followers = (await s.execute(
            select(Follower.openid, Payment.id).outerjoin(
                Payment, (Payment.resident_id == Follower.resident_id) & (Payment.insurance_year == 2025))
        )).all()
        dibao = (await s.execute(select(func.count()).select_from(ResidentCategory)
                                 .where(ResidentCategory.category == "dibao"))).scalar_one()
        masked = (await s.execute(select(Resident.id_masked).limit(5))).scalars().all()
        rows = await township_progress(s, "陵川县", 2025, dt.date(2025, 2, 25), store.registry)
        targets = (await s.execute(select(func.sum(Target.target)).where(Target.insurance_year == 2025))).scalar()
    assert dt.date(2024, 9, 1) <= paid_on[0] and paid_on[1] <= dt.date(2025, 2, 25)
    assert all(d.day <= 25 for d in days)  # 每月1—25日
    assert 0.02 < dibao / first.residents < 0.12
    assert all(m.startswith("140524") for m in masked)

    roles = {c.role for c in contacts}
    assert roles == {"分管领导", "经办人", "包片领导", "负责人", "协调员"}
    assert {c.township for c in contacts if c.role == "经办人"} >= {"崇文镇", "六泉乡"}
    assert all(re.fullmatch(r"1380000\d{4}", c.phone) and c.openid.startswith("demo-") for c in contacts)
    assert followers and all(payment is None for _openid, payment in followers)  # bound to unpaid residents

    # Demo rosters are 1% of the county, and so are their targets: progress reads like a real season.
    assert targets == first.residents
    assert all(50 <= r.percent <= 95 for r in rows) and rows[0].demo_scale == 0.01
    assert len({round(r.percent) for r in rows}) > 3  # some townships lag


async def test_two_regions_side_by_side(store: Store) -> None:
    await load_demo_data(store.sessions, store.registry, "陵川", 0.005, settings=store.settings)
    zhouji = await load_demo_data(store.sessions, store.registry, "周集镇", 0.02, settings=store.settings)
    async with store.sessions() as s:
        counties = dict((await s.execute(select(Resident.county, func.count()).group_by(Resident.county))).all())
        people = set((await s.execute(select(Contact.county, Contact.name, Contact.phone))).all())
    assert counties["周集镇"] == zhouji.residents and counties["陵川县"] > 0
    # A 包片领导 covers several townships with one number, but no number is shared by two people.
    assert len({phone for _c, _n, phone in people}) == len(people)


async def test_demo_data_on_a_day_of_the_season_pays_nobody_after_it(store: Store) -> None:
    # An import refuses a payment dated after today, so the demo writes none: the count it prints is the
    # dashboard's, and a later demo day finds more residents paid (the same people: the seed decides them).
    day = dt.date(2024, 11, 20)  # `make run`'s day, inside 陵川县 2025年度 (2024年9月1日至2025年2月25日)
    early = await load_demo_data(store.sessions, store.registry, "陵川县", 0.01, seed=5, settings=store.settings,
                                 today=day)
    async with store.sessions() as s:
        latest = (await s.execute(select(func.max(Payment.paid_on)))).scalar_one()
        rows = await township_progress(s, "陵川县", 2025, day, store.registry)
    assert latest <= day and early.today == day
    assert early.paid == sum(r.paid for r in rows if not r.village) > 0

    later = await load_demo_data(store.sessions, store.registry, "陵川县", 0.01, seed=5, settings=store.settings,
                                 today=dt.date(2025, 2, 25))
    assert later.residents == early.residents and early.paid < later.paid
    async with store.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Payment))).scalar_one() == later.paid
