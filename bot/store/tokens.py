"""The shared access_token cache (table access_tokens): one row per AppID, read by every worker.

`refresh_shared` re-reads the cache before fetching, in case another worker just refreshed. On PostgreSQL
it holds the row `FOR UPDATE` while fetching, so when several workers find the token stale at once only
the first fetches and the others read its result. SQLite would stall every webhook write while the HTTP
call runs, so there the fetch happens outside any transaction (the stable-token endpoint hands every
caller the same token, so two workers fetching at once still agree).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import insert
from bot.store.models import AccessToken

_T = AccessToken.__table__
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: dt.datetime

    def valid_for(self, now: dt.datetime) -> float:
        """Seconds of validity left (negative once expired)."""
        return (self.expires_at - now).total_seconds()


async def read_token(session: AsyncSession, appid: str) -> CachedToken | None:
    row = (await session.execute(select(_T.c.token, _T.c.expires_at).where(_T.c.appid == appid))).first()
    if row is None or not row.token:
        return None
    return CachedToken(row.token, row.expires_at)


async def _lock_token(session: AsyncSession, appid: str) -> CachedToken | None:
    """PostgreSQL: read the row for update inside the caller's transaction, creating it if missing."""
    await session.execute(
        insert("postgresql", _T)
        .values(appid=appid, token="", expires_at=_EPOCH)
        .on_conflict_do_nothing(index_elements=[_T.c.appid])
    )
    row = (
        await session.execute(select(_T.c.token, _T.c.expires_at).where(_T.c.appid == appid).with_for_update())
    ).first()
    return CachedToken(row.token, row.expires_at) if row.token else None


async def write_token(session: AsyncSession, appid: str, token: str, expires_at: dt.datetime) -> None:
    stmt = insert(session.bind.dialect.name, _T).values(appid=appid, token=token, expires_at=expires_at)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[_T.c.appid], set_={"token": token, "expires_at": expires_at})
    )


async def refresh_shared(
    sessions: async_sessionmaker,
    appid: str,
    good: Callable[[CachedToken | None], bool],
    fetch: Callable[[], Awaitable[CachedToken]],
) -> CachedToken:
    """The cached token if `good`, else a fetched one, stored for every worker."""
    async with sessions() as session:
        cached = await read_token(session, appid)
        postgres = session.bind.dialect.name == "postgresql"
    if good(cached):
        return cached
    if postgres:
        async with sessions.begin() as session:
            cached = await _lock_token(session, appid)  # other workers wait here, then find it fresh
            if good(cached):
                return cached
            token = await fetch()
            await write_token(session, appid, token.token, token.expires_at)
            return token
    token = await fetch()
    async with sessions.begin() as session:
        await write_token(session, appid, token.token, token.expires_at)
    return token
