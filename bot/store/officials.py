"""Officials joining by QR code: the roles a code can carry, the township it names, and the contacts table
(the one `yibao import contacts` fills) gaining the official's WeChat openid once they confirm their name.

A re-import of contacts.csv keeps a linked openid (the importer overwrites an openid only with another one).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Contact, Region

# QR role keys (ASCII, they go into the scene) -> the roles of contacts.csv
ROLES = {"leader": "分管领导", "clerk": "经办人", "area": "包片领导", "head": "负责人", "coordinator": "协调员"}
BUREAU_ROLE_KEYS = ("head", "coordinator")  # the county's own (docs/imports.md: no township); escalations go to them
NAME = re.compile(r"[\u4e00-\u9fff·]{2,10}")  # a Chinese personal name, as officials write it
PENDING_MINUTES = 30  # how long a scan waits for the official's name


@dataclass(frozen=True)
class Unit:
    """The township (or, for a town, the village) a QR code is for; township "" is the county itself, whose
    bureau-level contacts (负责人, 协调员) receive the escalations."""

    id: int
    county: str
    township: str


class NameTaken(Exception):
    """The contact of that name is already linked to another WeChat account: the link is refused, so the
    official who registered first keeps their digests (the bureau releases it: `yibao contacts --unlink`)."""

    def __init__(self, contact: Contact) -> None:
        super().__init__(contact.name)
        self.contact = contact


SUFFIXES = ("镇", "乡", "街道", "街道办事处", "村", "社区", "居委会")  # what a short name (礼义) leaves out


async def find_unit(session: AsyncSession, county: str, township: str) -> Unit | None:
    """The township (or village) of `county` named `township` in full (礼义镇) or without its suffix (礼义)."""
    for name in (township, *(township + s for s in SUFFIXES)):
        row = (await session.execute(
            select(Region.id, Region.county, Region.township, Region.village)
            .where(Region.county == county, Region.level.in_(("township", "village")),
                   (Region.township == name) | (Region.village == name))
            .order_by(Region.level.desc())  # a township row before a village of the same name
        )).first()
        if row is not None:
            return Unit(row.id, row.county, row.village or row.township)
    return None


async def unit_names(session: AsyncSession, county: str) -> list[str]:
    """The townships (for a town: villages) a QR code can be made for in `county`."""
    rows = await session.execute(
        select(Region.level, Region.township, Region.village).where(
            Region.county == county, Region.level.in_(("township", "village"))).order_by(Region.id))
    names = [village or township for _level, township, village in rows]
    return list(dict.fromkeys(n for n in names if n))


async def county_unit(session: AsyncSession, county: str) -> Unit | None:
    """The county (or town) itself, for its bureau-level contacts' QR code."""
    row = (await session.execute(select(Region.id).where(
        Region.county == county, Region.township == "", Region.village == ""))).scalar_one_or_none()
    return None if row is None else Unit(row, county, "")


async def unit_by_id(session: AsyncSession, region_id: int) -> Unit | None:
    r = await session.get(Region, region_id)
    if r is None:
        return None
    if r.level in {"county", "district", "city", "town"} and not r.township and not r.village:
        return Unit(r.id, r.county, "")
    if r.level not in {"township", "village"}:
        return None
    return Unit(r.id, r.county, r.village or r.township)


async def links_of(session: AsyncSession, openid: str) -> list[Contact]:
    """The contacts this WeChat account receives the notices of."""
    if not openid:
        return []
    return list((await session.execute(select(Contact).where(Contact.openid == openid)
                                       .order_by(Contact.county, Contact.township, Contact.role))).scalars())


def valid_name(text: str) -> str | None:
    name = text.strip().removeprefix("我是").removeprefix("我叫").strip()
    return name if NAME.fullmatch(name) else None


async def link(session: AsyncSession, unit: Unit, role: str, name: str, openid: str
               ) -> tuple[Contact, bool, list[Contact]]:
    """Bind `openid` as `unit`'s `role` named `name`: the imported contact of that name gets the openid, or a
    new contact is made. One WeChat account is one registration: the contacts it was linked to before are
    released (the official confirmed the switch when they scanned). NameTaken when the contact of that name is
    another account's. (contact, True when it was already in the roster, the contacts released)."""
    contact = (await session.execute(
        select(Contact).where(Contact.county == unit.county, Contact.township == unit.township,
                              Contact.role == role, Contact.name == name).with_for_update())).scalar_one_or_none()
    if contact is not None and contact.openid and contact.openid != openid:
        raise NameTaken(contact)
    known = contact is not None
    if contact is None:
        contact = Contact(role=role, county=unit.county, township=unit.township, name=name, phone="")
        session.add(contact)
    released = [c for c in await links_of(session, openid) if c is not contact]
    for c in released:
        c.openid = None
    contact.openid = openid
    await session.flush()
    return contact, known, released


async def unlink(session: AsyncSession, county: str, township: str, name: str) -> list[Contact]:
    """Release the WeChat link of `county`'s contacts named `name` in `township` ("" = the bureau), every role:
    the bureau's way to let an official who changed WeChat account register again. The contacts released."""
    rows = list((await session.execute(select(Contact).where(
        Contact.county == county, Contact.township == township, Contact.name == name,
        Contact.openid.is_not(None)))).scalars())
    for c in rows:
        c.openid = None
    await session.flush()
    return rows


async def listing(session: AsyncSession, county: str | None = None, township: str | None = None) -> list[Contact]:
    """The contacts (of `county`; of its `township`, "" for the bureau's own)."""
    q = select(Contact).order_by(Contact.county, Contact.township, Contact.role, Contact.name)
    if county:
        q = q.where(Contact.county == county)
    if township is not None:
        q = q.where(Contact.township == township)
    return list((await session.execute(q)).scalars())


def pending(unit: Unit, role: str, now: dt.datetime) -> dict[str, object]:
    """What a follower's state remembers between the scan and the name."""
    until = now + dt.timedelta(minutes=PENDING_MINUTES)
    return {"region_id": unit.id, "role": role, "until": until.isoformat()}


def still_pending(state: dict[str, object] | None, now: dt.datetime) -> bool:
    if not isinstance(state, dict) or "until" not in state:
        return False
    try:
        return dt.datetime.fromisoformat(str(state["until"])) > now
    except ValueError:
        return False
