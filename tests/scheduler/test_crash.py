"""kill -9 of a real sender process mid-fan-out, restart, and count at the fake WeChat.

A child (`python -m scheduler.sendloop`) plans a reminder stage for thousands of residents and sends it to the
fake WeChat running in this test process. It is killed with SIGKILL twice: right after it starts (during
start-up or planning) and in the middle of sending; a third run finishes the job. Then, counting the template
sends the fake accepted by their idempotency key (`client_msg_id`, the outbox key):

- no loss: every planned message reached the fake, and every outbox row is `sent`;
- no duplicate outside the documented windows: a key the fake saw twice belongs to a row that the kill
  left in doubt (`sending`: WeChat may have accepted it before we could record it), with at most as many
  such repeats as rows in doubt, or to a row whose call got no answer in time on a loaded machine
  (`in_doubt_at`: sent again with the same client_msg_id) (docs/reminders.md);
- every planned message delivered exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bot.store.models import OutboxMessage
from tests.scheduler.conftest import APPID, SECRET, fake_state
from tests.scheduler.helpers import add_unpaid_followers

RESIDENTS = 3000
JOB = "lingchuan-2025:2024-11-25:reminder-5d"
ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 2.0
CONCURRENCY = 16


def accepted(fake) -> Counter[str]:
    """Template sends the fake accepted, by idempotency key (repeats included)."""
    return Counter(c["body"]["client_msg_id"] for c in fake_state(fake).calls
                   if c["endpoint"] == "message/template/send" and c["errcode"] == 0)


def delivered(fake) -> Counter[str]:
    """Template messages that reached a resident: WeChat drops a repeated client_msg_id."""
    return Counter(c["body"]["client_msg_id"] for c in fake_state(fake).calls
                   if c["endpoint"] == "message/template/send" and c["errcode"] == 0 and c["delivered"])


async def start_child(settings, fake, now: str, lease_s: float = LEASE_S) -> asyncio.subprocess.Process:
    env = {**os.environ, "YIBAO_DATABASE_URL": settings.database_url, "YIBAO_WECHAT_APPID": APPID,
           "YIBAO_WECHAT_SECRET": SECRET, "YIBAO_WECHAT_API_BASE": str(fake.make_url("")).rstrip("/"),
           "YIBAO_SEND_RATE": "0"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scheduler.sendloop", "--plan", JOB, "--now", now, "--lease", str(lease_s),
        "--concurrency", str(CONCURRENCY), "--batch", "100",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def kill_when(child: asyncio.subprocess.Process, ready, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert child.returncode is None, "the child finished before it could be killed"
        assert time.monotonic() < deadline, "the child made no progress"
        await asyncio.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    await child.wait()
    assert child.returncode == -signal.SIGKILL


async def in_doubt(sessions) -> set[str]:
    async with sessions() as session:
        return set((await session.execute(
            select(OutboxMessage.key).where(OutboxMessage.status == "sending"))).scalars())


async def test_kill_9_mid_fan_out_loses_nothing_and_repeats_only_rows_in_doubt(settings, sessions, fake) -> None:
    openids = await add_unpaid_followers(sessions, RESIDENTS)
    planned = {f"{o}:2025:2024-11-25:reminder-5d" for o in openids}

    # 1. Killed while starting or planning (planning is one transaction: all or nothing).
    first = await start_child(settings, fake, "2024-11-20T10:00:00+08:00")
    started = time.monotonic()
    await kill_when(first, lambda: time.monotonic() - started > 0.3)
    doubt = await in_doubt(sessions)
    # A sender never runs more than SenderOptions.max_unrecorded (2 x concurrency) sends ahead of its commits.
    bound = min(len(doubt), 2 * CONCURRENCY)

    # 2. Killed in the middle of sending.
    second = await start_child(settings, fake, "2024-11-20T10:01:00+08:00")
    await kill_when(second, lambda: sum(accepted(fake).values()) >= RESIDENTS // 3)
    second_doubt = await in_doubt(sessions)
    bound += min(len(second_doubt), 2 * CONCURRENCY)
    doubt |= second_doubt
    before_restart = sum(accepted(fake).values())
    assert 0 < before_restart < RESIDENTS

    # 3. Restarted after the killed sender's leases have passed: it finishes the job.
    # Its calls get a timeout of a quarter of its lease: a longer lease keeps a loaded machine's slow answers
    # from ending in doubt (retried 30 s later, after this run has finished).
    third = await start_child(settings, fake, "2024-11-20T10:05:00+08:00", lease_s=20.0)
    out, err = await asyncio.wait_for(third.communicate(), 60)
    assert third.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])

    counts = accepted(fake)
    assert set(counts) == planned  # no loss, nothing unplanned
    async with sessions() as session:
        unanswered = set((await session.execute(
            select(OutboxMessage.key).where(OutboxMessage.in_doubt_at.is_not(None)))).scalars())
    repeated = {key for key, n in counts.items() if n > 1}
    assert repeated <= doubt | unanswered, "a message was repeated that was never in doubt"
    assert sum(counts[key] - 1 for key in repeated - unanswered) <= bound
    # ... and the repeats in that window carry the same client_msg_id, so none reaches a resident twice.
    assert delivered(fake) == Counter({key: 1 for key in planned})
    async with sessions() as session:
        statuses = dict((await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
        repeated_rows = (await session.execute(
            select(OutboxMessage.last_error).where(OutboxMessage.key.in_(repeated)))).scalars().all()
    assert statuses == {"sent": RESIDENTS}
    assert all("in doubt" in (error or "") for error in repeated_rows)
    print(f"\nkill -9 drill: {before_restart} accepted before the restart, {len(doubt)} rows in doubt, "
          f"{len(repeated)} repeated at the fake; the last run sent {summary['sent']}")
