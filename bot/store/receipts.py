"""Delivery receipts: WeChat's TEMPLATESENDJOBFINISH (one template message's fate) and MASSSENDJOBFINISH (a
mass send's counts) events, kept by event and msg id (the two kinds of send number their ids apart). A template
receipt is matched to its outbox row through outbox.wechat_msgid; a mass receipt updates its broadcast batch. A
receipt delivered twice is kept once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue import section
from bot.store.broadcasts import MASS_RECEIPT, record_mass_receipt
from bot.store.db import insert
from bot.store.models import DeliveryReceipt, OutboxMessage

TEMPLATE_RECEIPT = "TEMPLATESENDJOBFINISH"  # the event of a template message's receipt (the outbox's sends)

# WeChat's Status strings and what we call them
OUTCOMES = {"success": "delivered", "failed:user block": "user_block", "failed: system failed": "system_failed"}
OUTCOME_NAMES: dict[str, str] = dict(section("outbox.outcomes"))  # what staff read of a receipt's outcome


def outcome(status: str) -> str:
    return OUTCOMES.get(status.strip(), "other")


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


async def record(session: AsyncSession, *, event: str, openid: str, msgid: str, status: str,
                 counts: dict[str, str] | None, now: dt.datetime) -> None:
    """Keep a receipt (once), and for a mass send put its counts on the batch."""
    if not msgid:
        return
    numbers = {k: _int(v) for k, v in counts.items()} if counts is not None else None
    await session.execute(
        insert(session.bind.dialect.name, DeliveryReceipt.__table__)
        .values(msgid=msgid, event=event[:32], openid=openid[:64], status=status[:64], received_at=now,
                counts=numbers)
        .on_conflict_do_nothing(index_elements=["event", "msgid"])
    )
    if event == MASS_RECEIPT and numbers is not None:
        await record_mass_receipt(session, msgid, numbers, now)


async def outbox_outcomes(session: AsyncSession) -> dict[str, int]:
    """Sent outbox rows by their receipt's outcome ("waiting": no receipt yet)."""
    o, r = OutboxMessage.__table__, DeliveryReceipt.__table__
    rows = await session.execute(
        select(r.c.status, func.count())
        .select_from(o.outerjoin(r, (r.c.msgid == o.c.wechat_msgid) & (r.c.event == TEMPLATE_RECEIPT)))
        .where(o.c.status == "sent", o.c.wechat_msgid.is_not(None)).group_by(r.c.status)
    )
    out: dict[str, int] = {}
    for status, n in rows:
        key = "waiting" if status is None else outcome(status)
        out[key] = out.get(key, 0) + n
    return out
