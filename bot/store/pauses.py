"""Paused campaign stages: the console pauses a stage of one policy's reminders (or the whole season, stage
"*"), and the scheduler's job for a paused stage plans nothing (scheduler/jobs.py asks `is_paused`)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import CampaignPause
from bot.store.users import audit

SEASON = "*"


async def is_paused(session: AsyncSession, policy_id: str, stage: str) -> bool:
    found = await session.scalar(select(CampaignPause.stage).where(
        CampaignPause.policy_id == policy_id, CampaignPause.stage.in_([stage, SEASON])).limit(1))
    return found is not None


async def paused(session: AsyncSession) -> set[tuple[str, str]]:
    """Every (policy id, stage) paused; stage "*" is the whole season."""
    return {(p, s) for p, s in await session.execute(select(CampaignPause.policy_id, CampaignPause.stage))}


async def pause(session: AsyncSession, policy_id: str, stage: str, actor: str) -> None:
    if (policy_id, stage) not in await paused(session):
        session.add(CampaignPause(policy_id=policy_id, stage=stage, paused_by=actor))
        await audit(session, actor, "campaign.pause", {"policy": policy_id, "stage": stage})


async def resume(session: AsyncSession, policy_id: str, stage: str, actor: str) -> None:
    done = await session.execute(delete(CampaignPause).where(CampaignPause.policy_id == policy_id,
                                                            CampaignPause.stage == stage))
    if done.rowcount:
        await audit(session, actor, "campaign.resume", {"policy": policy_id, "stage": stage})
