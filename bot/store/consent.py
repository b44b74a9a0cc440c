"""Residents' consent to payment reminders (是否接收缴费提醒): the answer, when, and how it was given.

Reminders are planned only for followers whose latest answer is yes (scheduler/planner.py); no answer is no.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import insert
from bot.store.models import ReminderConsent

VIA = ("binding", "text", "menu", "popup")


async def record(session: AsyncSession, openid: str, consent: bool, via: str, now: dt.datetime) -> None:
    values = {"openid": openid, "consent": consent, "via": via, "answered_at": now}
    await session.execute(
        insert(session.bind.dialect.name, ReminderConsent.__table__).values(**values)
        .on_conflict_do_update(index_elements=["openid"], set_={k: v for k, v in values.items() if k != "openid"})
    )


async def current(session: AsyncSession, openid: str) -> ReminderConsent | None:
    return (await session.execute(select(ReminderConsent).where(ReminderConsent.openid == openid))).scalar()
