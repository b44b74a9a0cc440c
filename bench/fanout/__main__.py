"""Reminder fan-out benchmark: a synthetic county of 600,000 residents, 30% unpaid, half of them following the
account; plan one reminder stage, then send it through the fake WeChat with the rate limit off.

    .venv/bin/python -m bench.fanout                      # 600,000 residents on SQLite
    .venv/bin/python -m bench.fanout --residents 50000    # a quick run
    .venv/bin/python -m bench.fanout --backend postgresql # or both

Targets: planning <= 20 s, >= 2,000 messages/s to the fake, peak RSS <= 400 MB. Planning and sending run in a
child process, so its peak RSS is theirs alone; the fake WeChat runs in a process of its own (a real deployment
talks to WeChat over the network). PostgreSQL: YIBAO_BENCH_PG_URL, else YIBAO_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test; the benchmark creates and drops a database of its own there.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

TARGET_PLAN_S = 20
TARGET_RATE = 2000
TARGET_MB = 400
REGION = "陵川县"
JOB = "lingchuan-2025:2024-11-25:reminder-5d"
NOW = "2024-11-20T10:00:00+08:00"  # the stage's own time: inside the day, before the cutoff
APPID, SECRET = "wx-bench-fanout", "bench-secret"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CHUNK = 50_000


def _pg_url() -> str:
    return os.environ.get("YIBAO_BENCH_PG_URL") or os.environ.get("YIBAO_TEST_PG_URL") or DEFAULT_PG


# -- the synthetic county ------------------------------------------------------------------------------


def generate(sync_url: str, residents: int) -> dict[str, int]:
    """Residents spread over 陵川县's townships; every 10th in 3 unpaid (30%), every other ten following."""
    from sqlalchemy import create_engine, insert

    from bot.rules.loader import load_registry
    from bot.store.models import Follower, Payment, ReminderConsent, Resident

    policy = load_registry().get(REGION, 2025)
    townships = [row.name for row in policy.targets[0].rows]
    now = dt.datetime.now(dt.UTC)
    engine = create_engine(sync_url)
    counts = {"residents": 0, "paid": 0, "followers": 0, "unpaid_followers": 0}
    with engine.begin() as conn:
        for start in range(1, residents + 1, CHUNK):
            ids = range(start, min(start + CHUNK, residents + 1))
            conn.execute(insert(Resident), [
                {"id": i, "id_hmac": f"{i:064x}", "id_masked": "1405**********0000", "name": "虚构居民",
                 "county": REGION, "township": townships[i % len(townships)], "village": f"{i % 17}村",
                 "created_at": now}
                for i in ids
            ])
            paid = [i for i in ids if i % 10 < 7]
            conn.execute(insert(Payment), [
                {"resident_id": i, "insurance_year": 2025, "amount": 400, "paid_on": dt.date(2024, 10, 8),
                 "channel": "微信", "source": "bench", "created_at": now}
                for i in paid
            ])
            following = [i for i in ids if (i // 10) % 2 == 0]
            conn.execute(insert(Follower), [
                {"openid": f"o-bench-{i:08d}", "resident_id": i, "county": REGION, "subscribed": True,
                 "unreachable": False, "window_sends": 0, "state": {}}
                for i in following
            ])
            conn.execute(insert(ReminderConsent), [
                {"openid": f"o-bench-{i:08d}", "consent": True, "via": "binding", "answered_at": now}
                for i in following
            ])
            counts["residents"] += len(ids)
            counts["paid"] += len(paid)
            counts["followers"] += len(following)
            counts["unpaid_followers"] += sum(1 for i in following if i % 10 >= 7)
    engine.dispose()
    return counts


# -- the measured child --------------------------------------------------------------------------------


async def measure(args: argparse.Namespace) -> dict:
    import resource

    from bot.config import Settings
    from bot.rules.loader import load_registry
    from scheduler.planner import plan_job
    from scheduler.sender import SenderOptions
    from scheduler.sendloop import running_clock
    from scheduler.timetable import find_job
    from scheduler.wiring import standalone

    settings = Settings(database_url=args.database_url, wechat_api_base=args.api_base, wechat_appid=APPID,
                        wechat_secret=SECRET, send_rate_per_s=0)
    registry = load_registry()
    clock = running_clock(dt.datetime.fromisoformat(NOW))
    options = SenderOptions(batch=args.batch, concurrency=args.concurrency)
    async with standalone(settings, registry=registry, run_jobs=False, run_sender=False, clock=clock,
                          sender_options=options) as scheduling:
        started = time.perf_counter()
        async with scheduling.sessions.begin() as session:
            plan = await plan_job(session, registry, find_job(registry, settings, JOB), planned_at=clock())
        planning_s = time.perf_counter() - started
        started = time.perf_counter()
        stats = await scheduling.sender.drain()
        sending_s = time.perf_counter() - started
    return {
        "planned": plan.inserted,
        "planning_s": round(planning_s, 2),
        "outcomes": dict(stats),
        "sending_s": round(sending_s, 2),
        "messages_per_s": round(stats["sent"] / sending_s) if sending_s else 0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


# -- the run -------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_fake(port: int) -> None:
    """The fake WeChat, without an access log (it would cost the fake more than the calls themselves)."""
    from aiohttp import web

    from bot.wechat.fake import create_fake_app

    web.run_app(create_fake_app(APPID, SECRET), host="127.0.0.1", port=port, access_log=None, print=None)


def _wait_for(base: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_fake/messages?endpoint=none", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _fake_count(base: str) -> int:
    with urllib.request.urlopen(f"{base}/_fake/messages?endpoint=template/send", timeout=60) as resp:
        return sum(1 for call in json.load(resp) if call.get("errcode") == 0)


def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> dict | None:
    from bot.config import async_url, sync_url
    from bot.store.db import make_engine
    from bot.store.schema import ensure_schema

    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'fanout.sqlite3'}"
    else:
        import psycopg

        pg_name = f"yibao_bench_fanout_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        try:
            with psycopg.connect(_pg_url(), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{pg_name}"')
        except psycopg.Error as exc:
            print(f"PostgreSQL skipped: {_pg_url()} is not usable ({str(exc).strip()})")
            return None
        url = async_url(f"{_pg_url().rpartition('/')[0]}/{pg_name}")
    from bot.config import Settings

    async def migrate() -> None:
        engine = make_engine(Settings(database_url=url))
        await ensure_schema(engine)
        await engine.dispose()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    fake = subprocess.Popen([sys.executable, "-m", "bench.fanout", "--fake", str(port)])
    try:
        asyncio.run(migrate())
        _wait_for(base)
        started = time.perf_counter()
        county = generate(sync_url(url), args.residents)
        print(f"[{backend}] synthetic county: {county} in {time.perf_counter() - started:.1f}s", flush=True)
        child = subprocess.run(
            [sys.executable, "-m", "bench.fanout", "--child", "--database-url", url, "--api-base", base,
             "--batch", str(args.batch), "--concurrency", str(args.concurrency)],
            capture_output=True, text=True, check=False,
        )
        if child.returncode != 0:
            raise SystemExit(f"[{backend}] the measured run failed:\n{child.stderr[-3000:]}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        result["fake_received"] = _fake_count(base)
        result["expected"] = county["unpaid_followers"]
        return result
    finally:
        fake.terminate()
        fake.wait()
        if pg_name:
            import psycopg

            with psycopg.connect(_pg_url(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def report(backend: str, r: dict) -> bool:
    ok_plan = r["planning_s"] <= TARGET_PLAN_S
    ok_rate = r["messages_per_s"] >= TARGET_RATE
    ok_rss = r["peak_rss_mb"] <= TARGET_MB
    ok_all = r["planned"] == r["expected"] == r["fake_received"] == r["outcomes"].get("sent")
    mark = {True: "ok", False: "MISSED"}
    print(f"[{backend}] planned {r['planned']} reminders in {r['planning_s']} s (target <= {TARGET_PLAN_S} s: "
          f"{mark[ok_plan]})")
    print(f"[{backend}] sent {r['outcomes'].get('sent', 0)} in {r['sending_s']} s = {r['messages_per_s']} "
          f"messages/s (target >= {TARGET_RATE}: {mark[ok_rate]}); the fake received {r['fake_received']}")
    print(f"[{backend}] peak RSS of planning + sending: {r['peak_rss_mb']} MB (target <= {TARGET_MB}: "
          f"{mark[ok_rss]})")
    if not ok_all:
        print(f"[{backend}] MISMATCH: expected {r['expected']}, outcomes {r['outcomes']}")
    return ok_plan and ok_rate and ok_rss and ok_all


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--residents", type=int, default=600_000, help="residents in the synthetic county (600000)")
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite",
                   help="database to plan and send on (sqlite)")
    p.add_argument("--concurrency", type=int, default=64, help="the sender's concurrent WeChat calls (64)")
    p.add_argument("--batch", type=int, default=500, help="outbox rows the sender claims at a time (500)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--database-url", help=argparse.SUPPRESS)
    p.add_argument("--api-base", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.fake:
        serve_fake(args.fake)
        return 0
    if args.child:
        print(json.dumps(asyncio.run(measure(args))))
        return 0
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    ok = True
    with tempfile.TemporaryDirectory(prefix="yibao-fanout-") as tmp:
        for backend in backends:
            result = run_backend(backend, args, Path(tmp))
            if result is not None:
                ok = report(backend, result) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
