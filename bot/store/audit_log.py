"""The audit log (audit_log): who did what, when, with details; every broadcast step and contact link."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import AuditLog, utcnow


async def record(session: AsyncSession, actor: str, action: str, **detail: Any) -> None:
    session.add(AuditLog(actor=actor[:64], action=action[:64], detail=detail, created_at=utcnow()))
