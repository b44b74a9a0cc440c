"""`yibao outbox`: the planned messages by status, with the reasons of failures."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.commands.common import open_sessions, run_async, when
from bot.commands.text import section, t
from bot.config import Settings

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dropped", "skipped", "in_doubt")


def register(sub: argparse._SubParsersAction) -> None:
    outbox = sub.add_parser("outbox", help=t("outbox.help"), description=t("outbox.description"))
    outbox.add_argument("--status", choices=OUTBOX_STATUSES, help=t("outbox.status"))
    outbox.add_argument("--limit", type=int, default=20, help=t("outbox.limit"))
    outbox.set_defaults(func=lambda a: run_async(outbox_command(Settings.from_env(), a.status, a.limit)))


async def outbox_command(settings: Settings, status: str | None, limit: int, out: TextIO | None = None) -> None:
    from sqlalchemy import func, select

    from bot.console.failures import reason_in_chinese
    from bot.store import receipts
    from bot.store.models import OutboxMessage
    from scheduler.describe import stage_label

    out = out or sys.stdout
    o = OutboxMessage.__table__
    async with open_sessions(settings) as sessions, sessions() as session:
        counts = (await session.execute(
            select(o.c.status, o.c.kind, o.c.stage, func.count()).group_by(o.c.status, o.c.kind, o.c.stage)
            .order_by(o.c.status, o.c.kind, o.c.stage)
        )).all()
        if not counts:
            print(t("outbox.empty"), file=out)
            return
        statuses = section("outbox.statuses")
        shown = [(st, kind, stage, n) for st, kind, stage, n in counts if status is None or st == status]
        if not shown:
            print(t("outbox.none_with_status", status=statuses.get(status, status)), file=out)
        else:
            print(t("outbox.heading"), file=out)
        for st, kind, stage, n in shown:
            note = t("outbox.in_doubt_note") if st == "in_doubt" else ""
            print(t("outbox.count_row", status=statuses.get(st, st), what=stage_label(kind, stage), n=n) + note,
                  file=out)
        outcomes = await receipts.outbox_outcomes(session)
        if outcomes:
            names = {**receipts.OUTCOME_NAMES, "waiting": t("outbox.waiting")}
            counts = "，".join(t("outbox.receipt_count", name=names[k], n=n) for k, n in sorted(outcomes.items()))
            print(t("outbox.receipts", counts=counts), file=out)
        wanted = [status] if status else ["failed", "in_doubt"]
        rows = (await session.execute(
            select(o.c.key, o.c.status, o.c.attempts, o.c.last_error, o.c.not_before, o.c.sent_at)
            .where(o.c.status.in_(wanted)).order_by(o.c.id.desc()).limit(limit)
        )).all()
        if rows:
            names = section("outbox.statuses")
            print("\n" + t("outbox.recent", statuses="、".join(names.get(w, w) for w in wanted), limit=limit),
                  file=out)
        for key, st, attempts, error, not_before, sent_at in rows:
            sent = t("outbox.sent_at", when=when(sent_at)) if sent_at else t("outbox.not_before", when=when(not_before))
            line = t("outbox.row", key=key, status=section("outbox.statuses").get(st, st), attempts=attempts, when=sent)
            print(line + (t("outbox.reason", reason=reason_in_chinese(error)) if error else ""), file=out)
