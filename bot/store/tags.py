"""Region tags on WeChat: a county tag (陵川县) and a township tag (陵川县礼义镇) per follower, so broadcasts and
WeChat's own console can target a township.

The queue is the difference itself: followers whose bound region differs from the tags recorded in
follower_tags (as last applied on WeChat). The tag job (scheduler/tags.py) drains it in the background; the
webhook only writes the follower's region, never calls WeChat inside the 5-second reply.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Follower, FollowerTag, WeChatTag

TAG_NAME_BYTES = 30  # WeChat: a tag name is at most 30 bytes
MAX_ACCOUNT_TAGS = 100


def county_tag(county: str) -> str:
    return county


def township_tag(county: str, township: str) -> str:
    return f"{county}{township}"


def wanted(county: str | None, township: str | None) -> set[str]:
    """The region tags a follower bound to (county, township) should carry (names WeChat can hold)."""
    tags = set()
    if county:
        tags.add(county_tag(county))
        if township:
            tags.add(township_tag(county, township))
    return {t for t in tags if len(t.encode()) <= TAG_NAME_BYTES}


async def out_of_step(session: AsyncSession, limit: int) -> dict[str, tuple[set[str], set[str]]]:
    """Up to `limit` followers whose WeChat tags lag their region: openid -> (tags wanted, tags carried)."""
    f, t = Follower.__table__, FollowerTag.__table__
    missing_county = ~select(t.c.openid).where(t.c.openid == f.c.openid, t.c.tag == f.c.county).exists()
    missing_town = ~select(t.c.openid).where(t.c.openid == f.c.openid, t.c.tag == f.c.county + f.c.township).exists()
    stale = select(t.c.openid).where(t.c.openid == f.c.openid, t.c.tag != f.c.county,
                                     or_(f.c.township.is_(None), t.c.tag != f.c.county + f.c.township)).exists()
    rows = (await session.execute(
        select(f.c.openid, f.c.county, f.c.township)
        .where(f.c.subscribed.is_(True),
               or_(and_(f.c.county.is_not(None), missing_county),
                   and_(f.c.county.is_not(None), f.c.township.is_not(None), missing_town),
                   stale,
                   and_(f.c.county.is_(None), select(t.c.openid).where(t.c.openid == f.c.openid).exists())))
        .order_by(f.c.openid).limit(limit)
    )).all()
    carried: dict[str, set[str]] = {o: set() for o, _, _ in rows}
    if rows:
        for openid, tag in await session.execute(select(t.c.openid, t.c.tag).where(t.c.openid.in_(list(carried)))):
            carried[openid].add(tag)
    return {o: (wanted(c, w), carried[o]) for o, c, w in rows}


async def known_tags(session: AsyncSession) -> dict[str, int]:
    return dict((await session.execute(select(WeChatTag.name, WeChatTag.tag_id))).all())


async def remember_tag(session: AsyncSession, name: str, tag_id: int) -> None:
    await session.merge(WeChatTag(name=name, tag_id=tag_id))


async def record(session: AsyncSession, openid: str, tags: Iterable[str]) -> None:
    """`openid` now carries exactly `tags` on WeChat."""
    await session.execute(delete(FollowerTag).where(FollowerTag.openid == openid))
    rows = [{"openid": openid, "tag": tag} for tag in sorted(tags)]
    if rows:
        await session.execute(insert(FollowerTag.__table__), rows)
