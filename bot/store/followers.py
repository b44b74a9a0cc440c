"""Followers: per-openid conversation state and the timestamps the customer-service window depends on.

Every change is a `FollowerWrite`: an upsert (INSERT ... ON CONFLICT DO UPDATE), so a follower who followed
before the bot existed, or whose subscribe event was lost, gets a row the first time they speak. The
statements are built here and run by the async helpers below or by the webhook's batching store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Insert, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.pipeline import Speaker
from bot.store.models import Follower

_T = Follower.__table__


@dataclass(frozen=True)
class FollowerWrite:
    """Insert `values` for a new follower; for an existing one, overwrite the columns named in `update`."""

    openid: str
    values: dict[str, Any]
    update: tuple[str, ...]


def _window(now: dt.datetime, user_message: bool) -> dict[str, Any]:
    # A user message (text, voice, ...) reopens the 48-hour customer-service window: no sends used yet.
    return {"last_message_at": now, "window_sends": 0} if user_message else {}


def speaker_write(
    speaker: Speaker, now: dt.datetime, *, user_message: bool = True, before: Speaker | None = None
) -> FollowerWrite:
    """What the pipeline left in `Reply.speaker`; a menu click is an interaction, not a user message.

    With `before` (the follower as loaded when the message arrived), an existing row gets only the speaker
    fields that changed, and the timestamps: a change made meanwhile by someone else (a binding, another
    message of the same follower) is not overwritten with the stale value, and an unchanged row's indexes
    are left alone. A new follower's row gets every field."""
    if speaker.openid is None:
        raise ValueError("a follower write needs a speaker with an openid")
    values = {
        "county": speaker.region,
        "township": speaker.township,
        "resident_id": speaker.resident_id,
        "state": speaker.state,
        "last_interaction_at": now,
        **_window(now, user_message),
    }
    if before is None:
        update = tuple(values)
    else:
        update = tuple(
            column for column, changed in (
                ("county", speaker.region != before.region),
                ("township", speaker.township != before.township),
                ("resident_id", speaker.resident_id != before.resident_id),
                ("state", speaker.state != before.state),
            ) if changed
        ) + _TIMES[user_message]
    return FollowerWrite(speaker.openid, {"subscribed": True, **values}, update)


_TIMES = {True: ("last_interaction_at", "last_message_at", "window_sends"), False: ("last_interaction_at",)}

# A follower's timestamps are not rewritten for every message of a conversation: a write that would only
# move them forward is skipped while the stored ones are younger than this. The customer-service window
# (48 hours from the last user message) is then counted from a moment at most this much earlier: it closes
# up to a minute early, never late.
TOUCH_INTERVAL_S = 60


@dataclass(frozen=True)
class Fresh:
    """How recent a follower's stored timestamps were when their message arrived (see TOUCH_INTERVAL_S)."""

    interaction: bool = False  # last_interaction_at within TOUCH_INTERVAL_S
    message: bool = False  # that, and last_message_at too, with no customer-service send since


STALE = Fresh()


def needless(write: FollowerWrite, fresh: Fresh) -> bool:
    """True when `write` would only move timestamps that are fresh enough forward: it may be skipped."""
    update = write.update
    if not update or not fresh.interaction:
        return False
    if update == _TIMES[False]:
        return True
    return fresh.message and set(update) <= set(_TIMES[True])


def unchanged(before: Speaker, after: Speaker, fresh: Fresh, *, user_message: bool) -> bool:
    """needless(speaker_write(after, ..., before=before), fresh), without building the write: the pipeline
    changed none of the follower's fields and the timestamps it would move are fresh."""
    return (fresh.message if user_message else fresh.interaction) and (
        after.region, after.township, after.resident_id, after.state
    ) == (before.region, before.township, before.resident_id, before.state)


def touch_write(openid: str, now: dt.datetime, *, user_message: bool = False) -> FollowerWrite:
    """An interaction that did not go through the pipeline (an image, a location event, ...)."""
    changed = {"last_interaction_at": now, **_window(now, user_message)}
    return FollowerWrite(openid, {"subscribed": True, **changed}, tuple(changed))


def subscribed_write(openid: str, now: dt.datetime) -> FollowerWrite:
    """关注: (re)subscribed; a returning follower keeps the region they bound before."""
    changed = {
        "subscribed": True,
        "subscribed_at": now,
        "unsubscribed_at": None,
        "unreachable": False,
        "last_interaction_at": now,
    }
    return FollowerWrite(openid, changed, tuple(changed))


def unsubscribed_write(openid: str, now: dt.datetime) -> FollowerWrite:
    """取消关注: nothing more may be sent to them."""
    changed = {"subscribed": False, "unsubscribed_at": now, "last_interaction_at": now}
    return FollowerWrite(openid, changed, tuple(changed))


@cache
def _upsert(dialect: str, columns: tuple[str, ...]) -> Insert:
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_T)
    return stmt.on_conflict_do_update(index_elements=[_T.c.openid], set_={c: stmt.excluded[c] for c in columns})


def runs(writes: Iterable[FollowerWrite]) -> list[list[FollowerWrite]]:
    """The writes in order, cut into runs of one kind (the same columns given and updated): running each run
    as one executemany, in order, is running the writes one after the other. (Writes for distinct followers
    touch distinct rows: then one run per kind.)"""
    writes = list(writes)
    if len({w.openid for w in writes}) == len(writes):
        kinds: dict[tuple[tuple[str, ...], tuple[str, ...]], list[FollowerWrite]] = {}
        for w in writes:
            kinds.setdefault((tuple(w.values), w.update), []).append(w)
        return list(kinds.values())
    out: list[list[FollowerWrite]] = []
    kind: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    for w in writes:
        this = (tuple(w.values), w.update)
        if this != kind:
            out.append([])
            kind = this
        out[-1].append(w)
    return out


def upserts(dialect: str, writes: Iterable[FollowerWrite]) -> list[tuple[Insert, list[dict[str, Any]]]]:
    """One executemany upsert per run of writes of one kind, in order. Of several writes of a run for one
    follower the last wins (PostgreSQL refuses to update a row twice in one statement)."""
    out = []
    for run in runs(writes):
        rows = {w.openid: {"openid": w.openid, **w.values} for w in run}
        out.append((_upsert(dialect, run[0].update), list(rows.values())))
    return out


# Execute with {"openids": [...]}.
SPEAKERS = select(_T.c.openid, _T.c.county, _T.c.township, _T.c.resident_id, _T.c.state).where(
    _T.c.openid.in_(bindparam("openids", expanding=True))
)


def speaker_from_row(row: Any) -> Speaker:
    return Speaker(
        openid=row.openid,
        region=row.county,
        township=row.township,
        resident_id=row.resident_id,
        state=dict(row.state or {}),
    )


async def apply_writes(session: AsyncSession, writes: Iterable[FollowerWrite]) -> None:
    for stmt, rows in upserts(session.bind.dialect.name, writes):
        await session.execute(stmt, rows)


async def load_speaker(session: AsyncSession, openid: str) -> Speaker:
    """The follower's bound region, resident and conversation state (a blank Speaker for a stranger)."""
    row = (await session.execute(SPEAKERS, {"openids": [openid]})).first()
    return speaker_from_row(row) if row else Speaker(openid=openid)


async def save_speaker(
    session: AsyncSession, speaker: Speaker, now: dt.datetime, *, user_message: bool = True
) -> None:
    """Persist what the pipeline left in `Reply.speaker`."""
    await apply_writes(session, [speaker_write(speaker, now, user_message=user_message)])


async def count_window_send(session: AsyncSession, openid: str) -> None:
    """One customer-service message used from the follower's current window."""
    await session.execute(
        update(_T).where(_T.c.openid == openid).values(window_sends=_T.c.window_sends + 1)
    )
