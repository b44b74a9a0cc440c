"""Import benchmark: a synthetic 600,000-row residents roster (罗山县's size and townships) imported on SQLite
and on PostgreSQL, each in a child process: seconds and peak RSS. Target: <= 60 s and <= 300 MB per backend.

    .venv/bin/python -m bench.import                 # 600,000 rows, both backends
    .venv/bin/python -m bench.import --rows 20000    # a quick run
    .venv/bin/python -m bench.import --backend sqlite

PostgreSQL: YIBAO_BENCH_PG_URL, else YIBAO_TEST_PG_URL, else postgresql://postgres@127.0.0.1:5432/test; the
benchmark creates and drops a database of its own there, and is skipped when the server is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TARGET_SECONDS = 60
TARGET_MB = 300
REGION = "罗山县"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# Shares of the population per category, roughly as 罗山县's table has them (低保 ~9%, 脱贫户 ~11%).
CATEGORY_RATES = (("低保", 0.09), ("脱贫户", 0.11), ("特困", 0.01), ("监测对象", 0.02))


def write_roster(path: Path, rows: int, seed: int = 1) -> None:
    """A residents CSV shaped like the bureau's (Chinese headers), townships in proportion to the targets."""
    from bot.rules.loader import load_registry
    from bot.store.synthetic import AREA_CODES, People, fake_phone

    policy = load_registry().get(REGION, 2025)
    table = policy.targets[0]
    units = [(r.name, r.values[table.target_column]) for r in table.rows]
    total = sum(t for _, t in units)
    people = People(AREA_CODES[REGION], seed)
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["序号", "姓名", "身份证号", "乡镇", "村(社区)", "身份类别", "手机号"])
        n = 0
        for i, (township, target) in enumerate(units):
            count = rows - n if i == len(units) - 1 else round(rows * target / total)
            villages = [f"{township[:2]}{k}村" for k in range(1, 31)]
            for _ in range(count):
                n += 1
                cats = "、".join(name for name, rate in CATEGORY_RATES if rng.random() < rate)
                phone = fake_phone(rng.randrange(10_000)) if rng.random() < 0.5 else ""
                w.writerow([n, people.name(), people.id_number(), township, rng.choice(villages), cats, phone])


def _pg_url() -> str:
    return os.environ.get("YIBAO_BENCH_PG_URL") or os.environ.get("YIBAO_TEST_PG_URL") or DEFAULT_PG


def _pg_create() -> str | None:
    import psycopg

    name = f"yibao_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with psycopg.connect(_pg_url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped: {_pg_url()} is not usable ({str(exc).strip()})")
        return None
    return f"{_pg_url().rpartition('/')[0]}/{name}"


def _pg_drop(url: str) -> None:
    import psycopg

    with psycopg.connect(_pg_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


async def _child(file: Path, database_url: str) -> dict:
    """In the child: migrate an empty database, import the roster, then import it again (must change nothing)."""
    from bot.config import Settings, async_url
    from bot.rules.loader import load_registry
    from bot.store.db import make_engine
    from bot.store.imports import import_file
    from bot.store.schema import ensure_schema

    settings = Settings(database_url=async_url(database_url), id_hmac_key="bench-key")
    registry = load_registry()
    engine = make_engine(settings)
    try:
        await ensure_schema(engine)
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            result = await import_file(engine, registry, settings, "residents", file, region=REGION, year=2025)
            timings.append(time.perf_counter() - start)
            if not result.ok:
                raise SystemExit(f"import failed: {result.errors} errors, first: {result.error_sample[:3]}")
        return {"rows": result.rows, "first": timings[0], "again": timings[1], "again_unchanged": result.unchanged}
    finally:
        await engine.dispose()


def _measure(backend: str, file: Path, database_url: str) -> dict:
    """Run one backend in a child process; its own peak RSS comes from wait4 (not the children's maximum)."""
    cmd = [sys.executable, "-m", "bench.import", "--child", str(file), "--database", database_url]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2])
    out = proc.stdout.read() if proc.stdout else b""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{backend}: the child failed (exit {proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return {"backend": backend, "wall": wall, "peak_mb": usage.ru_maxrss / 1024, **result}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.import", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=600_000, help="rows in the synthetic roster (600000)")
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both",
                   help="database(s) to import into (both)")
    p.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--database", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child, args.database))))
        return 0

    from rich.console import Console
    from rich.table import Table

    with tempfile.TemporaryDirectory(prefix="yibao-bench-") as tmp:
        roster = Path(tmp) / "residents.csv"
        start = time.perf_counter()
        write_roster(roster, args.rows)
        print(f"roster: {args.rows:,} rows, {roster.stat().st_size / 1e6:.0f} MB, "
              f"written in {time.perf_counter() - start:.1f} s")
        results = []
        if args.backend in {"sqlite", "both"}:
            results.append(_measure("SQLite", roster, f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        if args.backend in {"postgresql", "both"} and (url := _pg_create()):
            try:
                results.append(_measure("PostgreSQL", roster, url))
            finally:
                _pg_drop(url)

    table = Table(title=f"yibao import: {args.rows:,} residents ({REGION}), target <= {TARGET_SECONDS} s, "
                        f"<= {TARGET_MB} MB")
    for col in ("backend", "import s", "re-import s", "process wall s", "peak RSS MB", "within target"):
        table.add_column(col, justify="left" if col == "backend" else "right")
    ok = True
    for r in results:
        within = r["first"] <= TARGET_SECONDS and r["again"] <= TARGET_SECONDS and r["peak_mb"] <= TARGET_MB
        ok = ok and within and r["again_unchanged"] == r["rows"]
        table.add_row(r["backend"], f"{r['first']:.1f}", f"{r['again']:.1f}", f"{r['wall']:.1f}",
                      f"{r['peak_mb']:.0f}", "yes" if within else "NO")
    Console().print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
