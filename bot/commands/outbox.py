"""`yibao outbox`: the planned messages by status, with the reasons of failures."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.commands.common import open_sessions, run_async, when
from bot.config import Settings

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dropped", "skipped")


def register(sub: argparse._SubParsersAction) -> None:
    outbox = sub.add_parser("outbox", help="planned messages by status, with the reasons of failures")
    outbox.add_argument("--status", choices=OUTBOX_STATUSES)
    outbox.add_argument("--limit", type=int, default=20)
    outbox.set_defaults(func=lambda a: run_async(outbox_command(Settings.from_env(), a.status, a.limit)))


async def outbox_command(settings: Settings, status: str | None, limit: int, out: TextIO | None = None) -> None:
    from sqlalchemy import func, select

    from bot.store.models import OutboxMessage

    out = out or sys.stdout
    o = OutboxMessage.__table__
    async with open_sessions(settings) as sessions, sessions() as session:
        counts = (await session.execute(
            select(o.c.status, o.c.kind, o.c.stage, func.count()).group_by(o.c.status, o.c.kind, o.c.stage)
            .order_by(o.c.status, o.c.kind, o.c.stage)
        )).all()
        if not counts:
            print("发件箱为空。", file=out)
            return
        print("发件箱（状态 / 类别 / 阶段：条数）：", file=out)
        for st, kind, stage, n in counts:
            if status is None or st == status:
                print(f"  {st:8} {kind:10} {stage:14} {n}", file=out)
        wanted = [status] if status else ["failed"]
        rows = (await session.execute(
            select(o.c.key, o.c.status, o.c.attempts, o.c.last_error, o.c.not_before, o.c.sent_at)
            .where(o.c.status.in_(wanted)).order_by(o.c.id.desc()).limit(limit)
        )).all()
        if rows:
            print(f"\n最近的{'、'.join(wanted)}（最多{limit}条）：", file=out)
        for key, st, attempts, error, not_before, sent_at in rows:
            sent = f"发送于{when(sent_at)}" if sent_at else f"不早于{when(not_before)}"
            print(f"  {key}  {st}  尝试{attempts}次  {sent}" + (f"  原因：{error}" if error else ""), file=out)
