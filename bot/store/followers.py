"""Followers: per-openid conversation state and the timestamps the customer-service window depends on.

Every change is a `FollowerWrite`: an upsert (INSERT ... ON CONFLICT DO UPDATE), so a follower who followed
before the bot existed, or whose subscribe event was lost, gets a row the first time they speak. The
webhook's writes go with the message's reply (bot/store/inbox.py); `yibao ask --openid` uses the helpers
below.

`read_speakers` and `apply_writes` are synchronous (a SQLAlchemy Connection or Session): the inbox runs them
inside its batch function on its own thread (bot/store/inbox.py); async callers go through `run_sync`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.store import consent
from bot.store.db import execute_many, insert
from bot.store.models import Follower
from bot.types import Speaker

_T = Follower.__table__


@dataclass(frozen=True)
class FollowerWrite:
    """Insert `values` for a new follower; for an existing one, overwrite the columns named in `update`."""

    openid: str
    values: dict[str, Any]
    update: tuple[str, ...]
    consent: dict[str, Any] | None = None  # the follower's answer to 是否接收缴费提醒, given by this message


def _subscription(subscribed: bool | None, now: dt.datetime) -> dict[str, Any]:
    if subscribed is None:
        return {}
    if subscribed:  # 关注: (re)subscribed; a returning follower keeps the region they bound before
        return {"subscribed": True, "subscribed_at": now, "unsubscribed_at": None, "unreachable": False}
    return {"subscribed": False, "unsubscribed_at": now}  # 取消关注: nothing more may be sent to them


def speaker_write(
    speaker: Speaker, now: dt.datetime, *, user_message: bool = True, before: Speaker | None = None
) -> FollowerWrite:
    """What the pipeline left in `Reply.speaker`; a menu click or another event is an interaction, not a
    user message (which reopens the 48-hour customer-service window: no sends used yet).

    With `before` (the follower as loaded when the message arrived), an existing row gets only the speaker
    fields that changed, and the timestamps: a change made meanwhile by someone else (a binding, another
    message of the same follower) is not overwritten with the stale value. A new follower's row gets every
    field."""
    if speaker.openid is None:
        raise ValueError("a follower write needs a speaker with an openid")
    window = {"last_message_at": now, "window_sends": 0} if user_message else {}
    subscription = _subscription(speaker.subscribed, now)
    values = {
        "county": speaker.region,
        "township": speaker.township,
        "resident_id": speaker.resident_id,
        "state": speaker.state,
        "last_interaction_at": now,
        **window,
        **subscription,
    }
    if before is None:
        changed = tuple(values)
    else:
        fields = (("county", speaker.region != before.region), ("township", speaker.township != before.township),
                  ("resident_id", speaker.resident_id != before.resident_id), ("state", speaker.state != before.state))
        changed = (*(column for column, differs in fields if differs), "last_interaction_at", *window, *subscription)
    consent = None if speaker.consent is None else {
        "openid": speaker.openid, "consent": speaker.consent[0], "via": speaker.consent[1], "answered_at": now}
    return FollowerWrite(speaker.openid, {"subscribed": True, **values}, changed, consent)


@cache
def _upsert(dialect: str, columns: tuple[str, ...]) -> Insert:
    stmt = insert(dialect, _T)
    return stmt.on_conflict_do_update(index_elements=[_T.c.openid], set_={c: stmt.excluded[c] for c in columns})


def _runs(writes: Iterable[FollowerWrite]) -> list[list[FollowerWrite]]:
    """The writes in order, cut into runs of one kind (the same columns given and updated): running each run
    as one executemany, in order, is running the writes one after the other."""
    out: list[list[FollowerWrite]] = []
    kind: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    for w in writes:
        this = (tuple(w.values), w.update)
        if this != kind:
            out.append([])
            kind = this
        out[-1].append(w)
    return out


def apply_writes(db: Connection | Session, writes: Iterable[FollowerWrite]) -> None:
    """One executemany upsert per run of writes of one kind, in order, then the answers to 是否接收缴费提醒
    they carry. Of several writes for one follower the last wins (PostgreSQL refuses to update a row twice in
    one statement)."""
    conn = db.connection() if isinstance(db, Session) else db
    writes = list(writes)
    for run in _runs(writes):
        rows = {w.openid: {"openid": w.openid, **w.values} for w in run}
        execute_many(conn, _upsert(conn.dialect.name, run[0].update), list(rows.values()))
    consents = {w.openid: w.consent for w in writes if w.consent is not None}
    execute_many(conn, consent.upsert(conn.dialect.name), list(consents.values()))


# Execute with {"openids": [...]}.
_SPEAKERS = select(_T.c.openid, _T.c.county, _T.c.township, _T.c.resident_id, _T.c.state).where(
    _T.c.openid.in_(bindparam("openids", expanding=True))
)


def _speaker(row: Any) -> Speaker:
    return Speaker(openid=row.openid, region=row.county, township=row.township, resident_id=row.resident_id,
                   state=dict(row.state or {}))


def read_speakers(db: Connection | Session, openids: list[str]) -> dict[str, Speaker]:
    """The stored followers among `openids` (strangers left out)."""
    return {row.openid: _speaker(row) for row in db.execute(_SPEAKERS, {"openids": openids})}


async def load_speaker(session: AsyncSession, openid: str) -> Speaker:
    """The follower's bound region, resident and conversation state (a blank Speaker for a stranger)."""
    return (await session.run_sync(read_speakers, [openid])).get(openid) or Speaker(openid=openid)


async def save_speaker(
    session: AsyncSession, speaker: Speaker, now: dt.datetime, *, user_message: bool = True
) -> None:
    """Persist what the pipeline left in `Reply.speaker`."""
    await session.run_sync(apply_writes, [speaker_write(speaker, now, user_message=user_message)])


async def count_window_send(session: AsyncSession, openid: str) -> None:
    """One customer-service message used from the follower's current window."""
    await session.execute(
        update(_T).where(_T.c.openid == openid).values(window_sends=_T.c.window_sends + 1)
    )
