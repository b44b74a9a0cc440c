"""Broadcasts (群发) in the database: the audience, each follower's monthly count, the batches and receipts.

A broadcast is composed as a draft with an audience (all followers, a county, a township, or a needy group of
unpaid residents). Sending freezes the audience into batches of at most 10,000 openids, each with its own
clientmsgid, written before the first call: a send that is interrupted and run again sends the same batches
with the same clientmsgids, which WeChat refuses to send twice (45065). On a service account each follower
receives at most `limit` mass messages a calendar month: those who have had theirs are left out of the
batches and counted (`over_limit`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue import t
from bot.config import TZ
from bot.store import audit_log
from bot.store.db import insert
from bot.store.models import (
    Broadcast,
    BroadcastBatch,
    DeliveryReceipt,
    Follower,
    MassCount,
    Payment,
    Resident,
    ResidentCategory,
    utcnow,
)

MASS_RECEIPT = "MASSSENDJOBFINISH"  # the event of a mass send's receipt (bot/store/receipts.py keeps it)
MASS_BATCH_MAX = 10_000  # openids per mass/send call
MASS_BATCH_MIN = 2
AUDIENCE_KINDS = ("all", "county", "township", "group")


class BroadcastError(ValueError):
    """A broadcast that cannot be composed, approved or sent as asked; the message is for staff (Chinese)."""


@dataclass(frozen=True)
class Audience:
    kind: str  # all | county | township | group
    county: str | None = None
    township: str | None = None
    group: str | None = None  # category key (dibao, tekun, ...) for kind "group": unpaid residents in it
    year: int | None = None  # insurance year whose payment decides "unpaid"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Audience:
        return cls(**{k: raw.get(k) for k in ("kind", "county", "township", "group", "year")})

    def check(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise BroadcastError(t("broadcast.refused.audience_kind", kinds=" / ".join(AUDIENCE_KINDS), kind=self.kind))
        if self.kind in {"county", "township", "group"} and not self.county:
            raise BroadcastError(t("broadcast.refused.need_region"))
        if self.kind == "township" and not self.township:
            raise BroadcastError(t("broadcast.refused.need_township"))
        if self.kind == "group" and not (self.group and self.year):
            raise BroadcastError(t("broadcast.refused.need_group"))


def month_of(now: dt.datetime) -> str:
    return now.astimezone(TZ).strftime("%Y-%m")


def audience_query(audience: Audience):
    """SELECT of the openids of `audience`: followers who follow the account and are reachable."""
    f = Follower.__table__
    q = select(f.c.openid).where(f.c.subscribed.is_(True), f.c.unreachable.is_(False))
    if audience.kind in {"county", "township"}:
        q = q.where(f.c.county == audience.county)
    if audience.kind == "township":
        q = q.where(f.c.township == audience.township)
    if audience.kind == "group":
        r, c, p = Resident.__table__, ResidentCategory.__table__, Payment.__table__
        q = q.join(r, r.c.id == f.c.resident_id).where(
            r.c.county == audience.county,
            exists().where(c.c.resident_id == r.c.id, c.c.insurance_year == audience.year,
                           c.c.category == audience.group),
            ~exists().where(p.c.resident_id == r.c.id, p.c.insurance_year == audience.year),
        )
        if audience.township:
            q = q.where(r.c.township == audience.township)
    return q


@dataclass(frozen=True)
class Reach:
    """Who a broadcast would reach now: the audience, and those left out by the monthly limit."""

    audience: int
    over_limit: int
    openids: list[str]  # those who will get it, in openid order

    @property
    def recipients(self) -> int:
        return len(self.openids)


async def reach(session: AsyncSession, audience: Audience, now: dt.datetime, monthly_limit: int | None) -> Reach:
    """`monthly_limit` None: no per-follower limit (a subscription account)."""
    openids = sorted(set((await session.execute(audience_query(audience))).scalars()))
    if monthly_limit is None or not openids:
        return Reach(len(openids), 0, openids)
    used = await session.execute(
        select(MassCount.openid).where(MassCount.month == month_of(now), MassCount.count >= monthly_limit)
    )
    full = set(used.scalars())
    kept = [o for o in openids if o not in full]
    return Reach(len(openids), len(openids) - len(kept), kept)


def split(openids: Sequence[str], size: int = MASS_BATCH_MAX) -> list[list[str]]:
    """Batches of at most `size`, as even as possible, so none has fewer than 2 when there are 2 or more."""
    if not openids:
        return []
    n = math.ceil(len(openids) / size)
    step = math.ceil(len(openids) / n)
    return [list(openids[i:i + step]) for i in range(0, len(openids), step)]


async def audit(session: AsyncSession, actor: str, action: str, **detail: Any) -> None:
    await audit_log.record(session, actor, action, **detail)


async def create(session: AsyncSession, *, title: str, content: str, audience: Audience, author: str,
                 source: str = "") -> Broadcast:
    audience.check()
    if not content.strip():
        raise BroadcastError(t("broadcast.refused.empty"))
    b = Broadcast(title=title[:64], content=content, audience=audience.as_dict(), author=author, source=source,
                  status="draft", created_at=utcnow(), recipients=0, over_limit=0)
    session.add(b)
    await session.flush()
    await audit(session, author, "broadcast.create", broadcast=b.id, title=b.title, audience=b.audience,
                source=source)
    return b


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast:
    b = await session.get(Broadcast, broadcast_id)
    if b is None:
        raise BroadcastError(t("broadcast.refused.no_such", id=broadcast_id))
    return b


async def approve(session: AsyncSession, b: Broadcast, approver: str) -> None:
    if b.status != "draft":
        raise BroadcastError(t("broadcast.refused.not_draft", id=b.id, status=b.status))
    if approver == b.author:
        raise BroadcastError(t("broadcast.refused.own_draft"))
    b.status, b.approver, b.approved_at = "approved", approver, utcnow()
    await audit(session, approver, "broadcast.approve", broadcast=b.id)


async def freeze(session: AsyncSession, b: Broadcast, openids: list[str], over_limit: int, actor: str) -> None:
    """Write the batches of a broadcast about to be sent (once: a broadcast already `sending` keeps its own)."""
    if len(openids) < MASS_BATCH_MIN:
        raise BroadcastError(t("broadcast.refused.too_few", least=MASS_BATCH_MIN, n=len(openids)))
    for seq, batch in enumerate(split(openids), start=1):
        session.add(BroadcastBatch(broadcast_id=b.id, seq=seq, clientmsgid=f"yibao-bc{b.id}-{seq}",
                                   openids=batch, status="pending"))
    b.status, b.recipients, b.over_limit = "sending", len(openids), over_limit
    await audit(session, actor, "broadcast.send", broadcast=b.id, recipients=len(openids), over_limit=over_limit)


async def batches(session: AsyncSession, broadcast_id: int) -> list[BroadcastBatch]:
    rows = await session.execute(
        select(BroadcastBatch).where(BroadcastBatch.broadcast_id == broadcast_id).order_by(BroadcastBatch.seq)
    )
    return list(rows.scalars())


async def count_sent(session: AsyncSession, openids: Sequence[str], now: dt.datetime) -> None:
    """Each of `openids` received one more mass message this month."""
    if not openids:
        return
    month = month_of(now)
    table = MassCount.__table__
    for i in range(0, len(openids), 1000):
        rows = [{"openid": o, "month": month, "count": 1} for o in openids[i:i + 1000]]
        stmt = insert(session.bind.dialect.name, table).values(rows)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=["openid", "month"], set_={"count": table.c.count + 1}))


async def sent_today(session: AsyncSession, now: dt.datetime) -> int:
    """Mass sends made today (Asia/Shanghai): a subscription account has one a day."""
    start = dt.datetime.combine(now.astimezone(TZ).date(), dt.time(), TZ)
    return (await session.execute(
        select(func.count()).select_from(BroadcastBatch).where(BroadcastBatch.sent_at >= start)
    )).scalar_one()


def _receipt_values(counts: dict[str, int | None], at: dt.datetime) -> dict[str, Any]:
    return {"total_count": counts.get("total"), "filter_count": counts.get("filter"),
            "sent_count": counts.get("sent"), "error_count": counts.get("error"), "receipt_at": at}


async def record_mass_receipt(session: AsyncSession, msg_id: str, counts: dict[str, int | None],
                              now: dt.datetime) -> bool:
    """MASSSENDJOBFINISH: the batch's TotalCount, FilterCount, SentCount, ErrorCount. False: no such batch yet
    (its receipt, kept with the counts, is applied by `mark_sent`)."""
    result = await session.execute(
        update(BroadcastBatch).where(BroadcastBatch.msg_id == msg_id).values(**_receipt_values(counts, now))
    )
    return bool(result.rowcount)


async def mark_sent(session: AsyncSession, batch: BroadcastBatch, msg_id: str, now: dt.datetime) -> None:
    """WeChat accepted the batch as `msg_id`. Its MASSSENDJOBFINISH may have come already: WeChat can push it
    before its answer to the send has reached us and been recorded; then its counts are applied now."""
    batch.status, batch.msg_id, batch.sent_at = "sent", msg_id, now
    early = (await session.execute(
        select(DeliveryReceipt).where(DeliveryReceipt.event == MASS_RECEIPT, DeliveryReceipt.msgid == msg_id)
    )).scalar_one_or_none()
    if early is not None and early.counts is not None:
        for name, value in _receipt_values(early.counts, early.received_at).items():
            setattr(batch, name, value)


async def listing(session: AsyncSession, limit: int = 20) -> list[tuple[Broadcast, dict[str, int]]]:
    """The latest broadcasts with their receipts' counts summed over batches."""
    rows = list((await session.execute(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))).scalars())
    out = []
    for b in rows:
        bt = BroadcastBatch.__table__
        sums = (await session.execute(
            select(func.count(bt.c.receipt_at), func.coalesce(func.sum(bt.c.sent_count), 0),
                   func.coalesce(func.sum(bt.c.error_count), 0), func.count())
            .where(bt.c.broadcast_id == b.id)
        )).one()
        out.append((b, {"receipts": sums[0], "sent": sums[1], "errors": sums[2], "batches": sums[3]}))
    return out
