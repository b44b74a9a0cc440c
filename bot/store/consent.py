"""Residents' consent to payment reminders (是否接收缴费提醒): the answer, when, and how it was given.

Reminders are planned only for followers whose latest answer is yes (scheduler/planner.py); no answer is no.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Insert

from bot.store.db import insert
from bot.store.models import ReminderConsent

_T = ReminderConsent.__table__


@cache
def upsert(dialect: str) -> Insert:
    """The follower's latest answer, over any earlier one: execute with openid, consent, via, answered_at (the
    webhook writes it with the message's completion, bot/store/followers.py `apply_writes`)."""
    stmt = insert(dialect, _T)
    return stmt.on_conflict_do_update(index_elements=[_T.c.openid], set_={
        c: stmt.excluded[c] for c in ("consent", "via", "answered_at")})
