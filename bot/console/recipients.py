"""Who a message went to, as bureau staff know them: the official (name, township, role), the resident the
reminder was about (surname and township), or the follower's region, never a bare openid. An openid is shown
shortened, enough to tell two apart and to search by, not to copy into another system."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue import t
from bot.store.models import Contact, Follower, Resident


@dataclass(frozen=True)
class Recipient:
    who: str  # 秦秀文（礼义镇 分管领导）, 张**（礼义镇东村）, 关注者（陵川县礼义镇）
    openid: str  # shortened


def short_openid(openid: str) -> str:
    return openid if len(openid) <= 10 else f"{openid[:4]}…{openid[-4:]}"


def masked_name(name: str) -> str:
    """A resident's name with the given name hidden (张**): enough to recognise, not to read out."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _place(county: str | None, township: str | None, village: str | None = None) -> str:
    return "".join(p for p in (county, township, village) if p)


async def recipients(session: AsyncSession, rows: Iterable[tuple[str, int | None]]
                     ) -> dict[tuple[str, int | None], Recipient]:
    """(openid, resident id) -> who, for the outbox's rows (a reminder names the resident it is about)."""
    pairs = set(rows)
    openids = {o for o, _ in pairs if o}
    if not openids:
        return {}
    officials: dict[str, list[str]] = {}
    for c in await session.scalars(select(Contact).where(Contact.openid.in_(openids))
                                   .order_by(Contact.county, Contact.township, Contact.role)):
        where = c.township or t("console.recipient_bureau", county=c.county)
        officials.setdefault(c.openid or "", []).append(
            t("console.recipient_official", name=c.name, where=where, role=c.role))
    followers = {f.openid: f for f in await session.scalars(select(Follower).where(Follower.openid.in_(openids)))}
    wanted = {r for _, r in pairs if r is not None} | {f.resident_id for f in followers.values() if f.resident_id}
    residents = {r.id: r for r in await session.scalars(select(Resident).where(Resident.id.in_(wanted)))} \
        if wanted else {}
    out: dict[tuple[str, int | None], Recipient] = {}
    for openid, resident_id in pairs:
        follower = followers.get(openid)
        resident = residents.get(resident_id or (follower.resident_id if follower else None) or 0)
        if openid in officials:
            who = "、".join(officials[openid])
        elif resident is not None:
            who = t("console.recipient_resident", name=masked_name(resident.name),
                    where=_place(None, resident.township, resident.village))
        elif follower is not None and (follower.county or follower.township):
            who = t("console.recipient_follower", where=_place(follower.county, follower.township))
        else:
            who = t("console.recipient_unknown")
        out[(openid, resident_id)] = Recipient(who, short_openid(openid))
    return out


async def openids_named(session: AsyncSession, text: str) -> list[str]:
    """The openids of the officials and the bound residents whose name contains `text` (the outbox's search)."""
    like = f"%{text.replace('%', '').replace('_', '')}%"
    officials = await session.scalars(select(Contact.openid).where(Contact.name.like(like),
                                                                   Contact.openid.is_not(None)))
    bound = await session.scalars(select(Follower.openid).join(Resident, Resident.id == Follower.resident_id)
                                  .where(Resident.name.like(like)))
    return sorted({o for o in [*officials, *bound] if o})
