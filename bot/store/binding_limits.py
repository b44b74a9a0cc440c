"""Binding limits: failed ID checks counted per day in `bind_failures`, per follower and per resident tried.

Each binding attempt is counted before its identity is checked, under three subjects at most: the follower
(`f:<openid>`), the name it gives (`n:<keyed HMAC of the name>`: an attacker who knows a resident's name and
guesses ID numbers) and, when the ID number is on the roster, that resident (`r:<resident id>`: one who knows
the number and guesses names). Counting first, in the attempt's transaction, keeps the limits exact under
parallel messages. Only the attempt that succeeds gives its own counts back; nothing else lowers them, so
binding one's own identity or unbinding never buys more guesses. The counts are per Asia/Shanghai day.

A resident already bound to other followers is told by a customer-service text when another follower binds
(`queue_bind_notices`, an outbox row the sender delivers inside WeChat's 48-hour window).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.cells import normalize_name
from bot.store.db import insert
from bot.store.models import BindFailure, Follower, OutboxMessage, Resident

_T = BindFailure.__table__
NOTICE_KIND = "bind_notice"
# How long a notice waits for the follower's customer-service window to open (they write to us).
NOTICE_VALID = dt.timedelta(days=3)


def follower_subject(openid: str) -> str:
    return f"f:{openid}"


def name_subject(name: str, key: str) -> str:
    """The name as compared (李 慈 = 李慈), as a keyed HMAC: the table never holds a name."""
    digest = hmac.digest(key.encode(), ("name:" + normalize_name(name)).encode(), "sha256")
    return f"n:{digest.hex()}"


def resident_subject(resident_id: int) -> str:
    return f"r:{resident_id}"


async def count_attempt(session: AsyncSession, day: dt.date, subject: str) -> int:
    """Count one attempt against `subject` today; returns how many there have been."""
    stmt = insert(session.bind.dialect.name, _T).values(day=day, subject=subject, failures=1)
    stmt = stmt.on_conflict_do_update(index_elements=[_T.c.day, _T.c.subject],
                                      set_={"failures": _T.c.failures + 1})
    return (await session.execute(stmt.returning(_T.c.failures))).scalar_one()


async def give_back(session: AsyncSession, day: dt.date, subjects: Iterable[str]) -> None:
    """A successful attempt was no failure: undo its own counts (and nothing more)."""
    await session.execute(
        update(_T).where(_T.c.day == day, _T.c.subject.in_(list(subjects)), _T.c.failures > 0)
        .values(failures=_T.c.failures - 1)
    )


async def bound_followers(session: AsyncSession, resident_id: int, *, but: str) -> list[str]:
    """The other followers bound to this resident."""
    found = await session.execute(
        select(Follower.openid).where(Follower.resident_id == resident_id, Follower.openid != but)
        .order_by(Follower.openid)
    )
    return list(found.scalars())


async def queue_bind_notices(session: AsyncSession, recipients: Iterable[str], resident: Resident,
                             binder: str, now: dt.datetime) -> int:
    """One outbox row per follower already bound to `resident`: another follower (`binder`) bound it too.
    The key names the recipient, the resident and the binder (hashed), so a notice is queued once."""
    today = now.date()
    binder_tag = hashlib.sha256(binder.encode()).hexdigest()[:12]
    rows = [{
        "key": f"{openid}:bind:{resident.id}:{binder_tag}", "kind": NOTICE_KIND, "openid": openid,
        "resident_id": resident.id, "insurance_year": today.year, "cutoff": (now + NOTICE_VALID).date(),
        "stage": "bind-notice", "status": "pending", "attempts": 0, "not_before": now,
        "not_after": now + NOTICE_VALID, "planned_at": now,
        "payload": {"template": "bind_notice", "name": resident.name, "masked": resident.id_masked,
                    "bound_on": today.isoformat()},
    } for openid in recipients]
    if not rows:
        return 0
    stmt = insert(session.bind.dialect.name, OutboxMessage.__table__).on_conflict_do_nothing()
    result = await session.execute(stmt, rows)
    return result.rowcount
