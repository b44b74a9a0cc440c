"""Policies published from the console, and the registry every process answers with.

A published policy is its YAML text in `published_policies`, under a version that rises with every
publication. `CurrentRegistry` is what a running process answers with: the policy files plus the newest
publication of each policy. It compares the database's highest version with its own (one indexed
`max()`) every second, and, when it moved, reads the published rows again and builds a new registry;
the webhook, the scheduler and the console all read `.registry` at the start of each message or job, so
every worker (`yibao serve --workers N`) answers with a published policy within about a second, with no
restart. `yibao ask` reads the same rows once (`load_current_registry`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.rules.loader import PolicyError, PolicyRegistry, load_policy_text, with_policies
from bot.rules.schema import Policy
from bot.store.models import PublishedPolicy
from bot.store.users import audit

log = logging.getLogger("yibao.store.published")

POLL_S = 1.0


def published_path(policy_id: str) -> Path:
    """How a published policy is named in messages (it has no file)."""
    return Path(f"published/{policy_id}.yaml")


@dataclass(frozen=True)
class Publication:
    version: int
    policy: Policy


async def latest_version(session: AsyncSession) -> int:
    return await session.scalar(select(func.coalesce(func.max(PublishedPolicy.version), 0))) or 0


async def published_rows(session: AsyncSession) -> list[PublishedPolicy]:
    """The newest publication of each policy id, oldest first."""
    newest = select(PublishedPolicy.policy_id, func.max(PublishedPolicy.version).label("v")).group_by(
        PublishedPolicy.policy_id).subquery()
    query = select(PublishedPolicy).join(newest, PublishedPolicy.version == newest.c.v).order_by(
        PublishedPolicy.version)
    return list((await session.scalars(query)).all())


def compose(files: PolicyRegistry, rows: Iterable[PublishedPolicy]) -> PolicyRegistry:
    """The policy files with the published ones in (a row that no longer loads is skipped and logged)."""
    extra = []
    for row in rows:
        path = published_path(row.policy_id)
        try:
            extra.append((load_policy_text(row.yaml_text, path), path))
        except PolicyError as exc:
            log.error("published policy %s (version %d) does not load any more, left out: %s",
                      row.policy_id, row.version, exc)
    return with_policies(files, extra)


async def publish(session: AsyncSession, policy: Policy, yaml_text: str, actor: str) -> int:
    """Store `policy` (already validated, from `yaml_text`) as the newest publication; audited. The
    caller's transaction makes it atomic: every process switches to it once that commits."""
    version = await latest_version(session) + 1
    session.add(PublishedPolicy(version=version, policy_id=policy.id, region=policy.region.name,
                                insurance_year=policy.insurance_year, yaml_text=yaml_text, published_by=actor))
    await audit(session, actor, "policy.publish", {"policy": policy.id, "region": policy.region.name,
                                                   "year": policy.insurance_year, "version": version})
    return version


async def load_current_registry(files: PolicyRegistry, sessions: async_sessionmaker) -> PolicyRegistry:
    """The policy files plus what is published in the database (the files alone if it has no such table
    yet: a database never migrated has nothing published)."""
    try:
        async with sessions() as session:
            rows = await published_rows(session)
    except DBAPIError:
        return files
    return compose(files, rows)


Listener = Callable[[PolicyRegistry], None]


class CurrentRegistry:
    """The registry this process answers with, kept up to date with the database's publications."""

    def __init__(self, files: PolicyRegistry):
        self.files = files
        self.registry = files
        self.version = 0
        self.listeners: list[Listener] = []  # called with the new registry after each change
        self._task: asyncio.Task | None = None

    async def refresh(self, sessions: async_sessionmaker) -> bool:
        """Read the database's version; when it moved, rebuild the registry. True when it changed."""
        async with sessions() as session:
            version = await latest_version(session)
            if version == self.version:
                return False
            rows = await published_rows(session)
        self.registry = compose(self.files, rows)
        self.version = version
        log.info("policies: now at published version %d (%d policies)", version, len(self.registry.policies))
        for listener in self.listeners:
            try:
                listener(self.registry)
            except Exception:
                log.exception("policies: a listener failed on version %d", version)
        return True

    def start(self, sessions: async_sessionmaker, every_s: float = POLL_S) -> None:
        async def poll() -> None:
            while True:
                await asyncio.sleep(every_s)
                try:
                    await self.refresh(sessions)
                except Exception:  # the database away for a moment: keep answering with what we have
                    log.exception("policies: could not check the published version")

        self._task = asyncio.create_task(poll(), name="policy-version")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
