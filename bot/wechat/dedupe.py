"""Dedupe of WeChat's retries in the table inbound_messages, shared by every worker.

The first delivery of a key inserts the row (`claim_statement`); a retry finds it and gets the stored reply, waits
briefly while the first is still being processed, or gets "success" when the answer went out later by the
customer-service API.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Insert, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import InboundMessage

_T = InboundMessage.__table__

PROCESSING = "processing"
DONE = "done"  # answered by passive reply; `reply` holds its text (NULL: "success")
DEFERRED = "deferred"  # answered "success"; the text goes (or went) out as a customer-service message


@dataclass(frozen=True)
class Seen:
    status: str
    reply: str | None


@cache
def claim_statement(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING key: the keys it returns were delivered for the first
    time and are now claimed; the others are retries. Atomic, so two workers can never both claim a key."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_T).on_conflict_do_nothing(index_elements=[_T.c.key]).returning(_T.c.key)


def claim_row(key: str, openid: str, received_at: dt.datetime) -> dict[str, Any]:
    return {"key": key, "openid": openid, "received_at": received_at, "status": PROCESSING}


# Record the outcome of a delivery, so retries get the same reply: executemany with k, s(tatus), r(eply).
FINISH = update(_T).where(_T.c.key == bindparam("k")).values(status=bindparam("s"), reply=bindparam("r"))


async def lookup(session: AsyncSession, key: str) -> Seen | None:
    row = (await session.execute(select(_T.c.status, _T.c.reply).where(_T.c.key == key))).first()
    return Seen(row.status, row.reply) if row else None


async def release(session: AsyncSession, key: str) -> None:
    """Forget a delivery whose processing failed, so WeChat's retry runs it afresh."""
    await session.execute(delete(_T).where(_T.c.key == key))


async def wait_for_first(sessions: async_sessionmaker, key: str, timeout_s: float) -> Seen | None:
    """The first delivery's outcome once it is no longer processing, or None if it is not ready in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pause = 0.05
    while True:
        async with sessions() as session:
            seen = await lookup(session, key)
        if seen is None or seen.status != PROCESSING:
            return seen
        left = deadline - loop.time()
        if left <= 0:
            return None
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, 0.5)
