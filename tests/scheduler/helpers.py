"""Builders for the scheduler tests: a controlled clock, residents with followers and payments, officials."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import TZ
from bot.rules.loader import PolicyRegistry
from bot.store.models import Contact, Follower, Payment, ReminderConsent, Resident, ResidentCategory
from bot.store.regions import load_targets


class Clock:
    """A controlled clock: `clock()` is the current time; `set` and `advance` move it."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, *args: int) -> dt.datetime:
        self.now = dt.datetime(*args, tzinfo=TZ)
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@dataclass
class Person:
    township: str
    village: str = ""
    paid: bool = False
    follows: bool = True
    categories: tuple[str, ...] = ()
    subscribed: bool = True
    unreachable: bool = False
    last_message_at: dt.datetime | None = None
    window_sends: int = 0
    consents: bool | None = True  # 是否接收缴费提醒: None = never asked
    openid: str = field(default="", init=False)
    resident_id: int = field(default=0, init=False)


async def add_people(sessions: async_sessionmaker, people: list[Person], *, region: str = "陵川县",
                     year: int = 2025, paid_on: dt.date = dt.date(2024, 10, 8), start: int = 0) -> list[Person]:
    """Insert residents (and their followers, payments and categories); fills each Person's ids."""
    async with sessions.begin() as session:
        for i, person in enumerate(people, start=start):
            resident = Resident(id_hmac=f"{region}-{i:064d}"[-64:], id_masked=f"1405**********{i % 10000:04d}",
                                name=f"居民{i}", county=region, township=person.township, village=person.village)
            session.add(resident)
            await session.flush()
            person.resident_id = resident.id
            person.openid = f"o-{resident.id:06d}"
            if person.follows:
                session.add(Follower(openid=person.openid, resident_id=resident.id, county=region,
                                     subscribed=person.subscribed, unreachable=person.unreachable,
                                     last_message_at=person.last_message_at, window_sends=person.window_sends))
                if person.consents is not None:
                    session.add(ReminderConsent(openid=person.openid, consent=person.consents, via="binding"))
            if person.paid:
                session.add(Payment(resident_id=resident.id, insurance_year=year, amount=400, paid_on=paid_on))
            for cat in person.categories:
                session.add(ResidentCategory(resident_id=resident.id, insurance_year=year, category=cat))
    return people


async def add_contacts(sessions: async_sessionmaker, region: str, contacts: list[tuple[str, str, str, str | None]]
                       ) -> None:
    """(role, township, name, openid) rows; township "" is the county bureau."""
    async with sessions.begin() as session:
        await session.execute(insert(Contact), [
            {"role": role, "county": region, "township": township, "name": name, "openid": openid}
            for role, township, name, openid in contacts
        ])


async def add_targets(sessions: async_sessionmaker, registry: PolicyRegistry) -> None:
    async with sessions.begin() as session:
        await load_targets(session, registry)


async def add_unpaid_followers(sessions: async_sessionmaker, n: int, *, region: str = "陵川县",
                               township: str = "崇文镇") -> list[str]:
    """`n` residents who follow the account and have not paid, inserted in bulk; returns their openids."""
    residents = [{"id": i, "id_hmac": f"bulk-{i:059d}", "id_masked": "1405**********0000", "name": f"居民{i}",
                  "county": region, "township": township, "village": "", "created_at": dt.datetime.now(TZ)}
                 for i in range(1, n + 1)]
    followers = [{"openid": f"o-bulk-{i:07d}", "resident_id": i, "county": region, "subscribed": True,
                  "unreachable": False, "window_sends": 0, "state": {}}
                 for i in range(1, n + 1)]
    async with sessions.begin() as session:
        await session.execute(insert(Resident), residents)
        await session.execute(insert(Follower), followers)
        await session.execute(insert(ReminderConsent), [
            {"openid": f["openid"], "consent": True, "via": "binding", "answered_at": dt.datetime.now(TZ)}
            for f in followers])
    return [f["openid"] for f in followers]
