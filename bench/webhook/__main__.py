"""Webhook throughput and latency: the full pipeline beside a bare aiohttp + wechatpy echo, same load, one run.

    .venv/bin/python -m bench.webhook [--duration 10] [--connections 50] [--tool auto|wrk|python]
                                      [--backend sqlite|postgresql|both] [--pg-url URL] [--rounds 1]

Each server runs in its own process on loopback, one after the other, under the same load: the echo
(signature check, parse, reply with the same text); `yibao serve` with one process and with `--workers 2`,
each with the answer cache on and off (YIBAO_ANSWER_CACHE=0); and, to tell the pipeline's cost from the
rest, the same webhook with a canned answer in place of the pipeline (bench/webhook/canned.py), and the edge
alone, with that answer and neither store nor pipeline (bench/webhook/edge.py).

The load is a realistic mix, not one repeated message: signed text messages, each with a new MsgId, from
FOLLOWERS different openids picked at random, each text drawn at random from the resident phrasings in
tests/nlu/phrasings.yaml (those without conversation state: over 300 distinct questions, binding and
region changes included). Before the load the database gets the followers: 10% strangers (no row yet),
60% bound to a region (陵川县, 罗山县, 乐至县, 周集镇 in turn), 30% to a region and one of its townships. The
conversation state they build up (a question waiting for its county, a binding in progress) is kept, as on
the real account. wrk drives the load when installed, else a Python aiohttp load generator (slower than
the servers it measures: its figures are a floor).

Printed per server: requests/s, p50 and p99, the server's CPU time per request (all its processes), and for
the full servers the answer cache's hit ratio over the run, warm-up included (of the questions looked up,
and of all questions: those asked with conversation state are never looked up). PostgreSQL runs use a
database the benchmark creates and drops (--pg-url, else YIBAO_BENCH_PG_URL, else YIBAO_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test). Results go to bench/out/webhook.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
import yaml

from bot.wechat.protocol import signature
from bot.wechat.simulate import Signer, text_xml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
PHRASINGS = ROOT / "tests" / "nlu" / "phrasings.yaml"
TOKEN = "bench-token"
CHECK_QUESTION = "陵川县低保户交多少"
FOLLOWERS = 20_000
MAX_DURATION_S = 120
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"

WRK_SCRIPT = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  base = tonumber(args[1])
  followers = tonumber(args[2])
  math.randomseed(tonumber(args[3]) * 7919 + tid)
end
request = function()
  counter = counter + 1
  local openid = string.format("o_bench_%d", math.random(followers) - 1)
  local question = QUESTIONS[math.random(#QUESTIONS)]
  local body = string.format(
    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>" ..
    "<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content>" ..
    "<MsgId>%d</MsgId></xml>", openid, os.time(), question, base + tid * 100000000 + counter)
  return wrk.format("POST", nil, {["Content-Type"] = "text/xml"}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, \"errors\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""

CACHE_LINE = re.compile(r"answer cache: (\d+) hits, (\d+) misses \([^)]*\), (\d+) bypassed")


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us_per_request: float | None = None
    cache_hit_ratio: float | None = None  # of the questions looked up in the answer cache
    cache_share: float | None = None  # of all questions (those asked with conversation state included)
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class Config:
    name: str
    args: list[str]
    env: dict[str, str]
    backend: str  # echo | sqlite | postgresql
    full: bool = True  # the pipeline's answer (else the echo of the question)


def questions() -> list[str]:
    rows = yaml.safe_load(PHRASINGS.read_text(encoding="utf-8"))
    texts = sorted({row["text"] for row in rows if not row.get("state")})
    return [t for t in texts if "]]>" not in t and "]==]" not in t]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_url(port: int) -> str:
    ts, nonce = str(int(time.time())), "bench"
    return f"http://127.0.0.1:{port}/wechat?signature={signature(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"


def wait_up(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not come up; see {log}")


def _cpu_ticks(pid: int) -> int | None:
    """utime + stime of `pid` and its children (the workers), in clock ticks; None off Linux."""
    try:
        pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
        total = 0
        for p in pids:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total
    except (OSError, ValueError, IndexError):
        return None


class Server:
    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name, self.port = name, free_port()
        self.log = OUT / f"webhook-{name}.log"
        cmd = [sys.executable, *args, "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        wait_up(self.port, self.proc, self.log)
        return self

    def cpu_ticks(self) -> int | None:
        return _cpu_ticks(self.proc.pid)

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def cache_figures(self) -> tuple[float | None, float | None]:
        """(hit ratio of the lookups, share of all questions answered from the cache), from the "answer
        cache: H hits, M misses (..), B bypassed" line each process logs when it stops."""
        hits = misses = bypassed = 0
        for m in CACHE_LINE.finditer(self.log.read_text(errors="replace")):
            hits, misses, bypassed = hits + int(m[1]), misses + int(m[2]), bypassed + int(m[3])
        if not hits + misses:
            return None, None
        return hits / (hits + misses), hits / (hits + misses + bypassed)


# -- the database: a fresh one per server, with the followers ----------------------------------------------


def seed_followers(sync_url: str) -> None:
    """FOLLOWERS openids: every 10th a stranger; the others bound to a region in turn, every third of those
    to one of its townships as well."""
    import datetime as dt

    from sqlalchemy import create_engine, delete, insert

    from bot.rules.loader import load_registry
    from bot.store.models import Follower, InboundMessage, MessageLog

    registry = load_registry()
    regions = registry.regions()
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(FOLLOWERS):
        if i % 10 == 0:
            continue
        region = regions[i % len(regions)]
        towns = registry.townships(region)
        township = towns[(i // len(regions)) % len(towns)] if towns and i % 3 == 0 else None
        rows.append({"openid": f"o_bench_{i}", "county": region, "township": township, "subscribed": True,
                     "subscribed_at": now, "last_interaction_at": now, "unreachable": False, "window_sends": 0,
                     "state": {}})
    engine = create_engine(sync_url)
    try:
        with engine.begin() as conn:
            for table in (MessageLog, InboundMessage, Follower):
                conn.execute(delete(table))
            conn.execute(insert(Follower), rows)
    finally:
        engine.dispose()


class PgDatabase:
    """A database of our own on the PostgreSQL server, created empty and dropped at the end."""

    def __init__(self, url: str):
        import psycopg

        self.psycopg = psycopg
        self.admin = url
        self.name = f"yibao_bench_{uuid.uuid4().hex[:8]}"
        self.url = f"{url.rpartition('/')[0]}/{self.name}"

    def __enter__(self) -> PgDatabase:
        with self.psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        with self.psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database(backend: str, tmp: str, i: int, pg_url: str) -> Iterator[tuple[str | None, str | None]]:
    """(URL for the server, sync URL for seeding) of a fresh database for one server; (None, None) for the
    echo."""
    if backend == "sqlite":
        path = f"{tmp}/bench-{i}.sqlite3"
        yield f"sqlite:///{path}", f"sqlite:///{path}"
    elif backend == "postgresql":
        with PgDatabase(pg_url) as pg:
            yield pg.url, pg.url.replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        yield None, None


def pg_reachable(url: str) -> str | None:
    """None when a database can be created there, else why not."""
    try:
        import psycopg

        with psycopg.connect(url, autocommit=True, connect_timeout=3):
            return None
    except Exception as exc:
        return str(exc).strip().splitlines()[0]


# -- load ------------------------------------------------------------------------------------------------


def check_answer(port: int, full: bool) -> str:
    """One request by hand: the reply must be the pipeline's answer (or the echo of the question)."""
    signer = Signer(TOKEN, "wx-yibao-demo")
    params, body = signer.sign(text_xml("o_bench_check", CHECK_QUESTION))
    url = f"http://127.0.0.1:{port}/wechat?" + "&".join(f"{k}={v}" for k, v in params.items())
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10) as resp:
        reply = signer.open_reply(resp.read().decode())
    if not reply or (full and "陵川县" not in reply) or (not full and reply != CHECK_QUESTION):
        raise SystemExit(f"unexpected reply from port {port}: {reply!r}")
    return reply


def wrk_script(texts: list[str]) -> Path:
    script = OUT / "webhook.lua"
    table = ",\n".join(f"  [==[{t}]==]" for t in texts)
    script.write_text(f"QUESTIONS = {{\n{table}\n}}\n{WRK_SCRIPT}", encoding="utf-8")
    return script


def run_wrk(name: str, port: int, duration: int, connections: int, texts: list[str], seed: int) -> Result:
    """The mix is the same for the same seed (in every run of the benchmark); MsgIds are new every time."""
    base = int(time.time() * 1000) % 10**5 * 10**10 + random.randrange(10**9)  # unique MsgIds; < 2**53
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(wrk_script(texts)),
           signed_url(port), "--", str(base), str(FOLLOWERS), str(seed)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    seconds = raw["duration_us"] / 1e6
    return Result(name, raw["requests"], seconds, raw["requests"] / seconds, raw["p50_us"] / 1000,
                  raw["p99_us"] / 1000, raw["errors"])


async def _python_load(name: str, port: int, duration: int, connections: int, texts: list[str],
                       seed: int) -> Result:
    url = signed_url(port)
    latencies: list[float] = []
    errors = 0
    base = int(time.time() * 1000) % 10**5 * 10**10 + random.randrange(10**9)
    rng = random.Random(seed)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + duration

        async def worker(i: int) -> None:
            nonlocal errors
            n = 0
            while loop.time() < deadline:
                n += 1
                openid = f"o_bench_{rng.randrange(FOLLOWERS)}"
                body = text_xml(openid, rng.choice(texts), msg_id=base + i * 10**8 + n).encode()
                t0 = time.perf_counter()
                try:
                    async with http.post(url, data=body) as resp:
                        await resp.read()
                        errors += resp.status != 200
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker(i) for i in range(connections)))
        seconds = loop.time() - start
    q = statistics.quantiles(latencies, n=100)
    return Result(name, len(latencies), seconds, len(latencies) / seconds, q[49] * 1000, q[98] * 1000, errors)


def measure(tool: str, server: Server, config: Config, duration: int, connections: int, warmup: int,
            texts: list[str]) -> Result:
    def run(seconds: int, seed: int) -> Result:
        if tool == "wrk":
            return run_wrk(config.name, server.port, seconds, connections, texts, seed)
        return asyncio.run(_python_load(config.name, server.port, seconds, connections, texts, seed))

    if warmup:
        run(warmup, 1)
    before = server.cpu_ticks()
    result = run(duration, 2)
    after = server.cpu_ticks()
    if before is not None and after is not None and result.requests:
        result.cpu_us_per_request = (after - before) / os.sysconf("SC_CLK_TCK") / result.requests * 1e6
    return result


def median_run(runs: list[Result]) -> Result:
    """The run of median requests/s (the lower middle one of an even number)."""
    return sorted(runs, key=lambda r: r.rps)[(len(runs) - 1) // 2]


def report(result: Result) -> None:
    cpu = f"{result.cpu_us_per_request:5.0f} µs" if result.cpu_us_per_request is not None else "    ?   "
    hits = (f"{result.cache_hit_ratio:4.0%} ({result.cache_share:.0%} of all)" if result.cache_hit_ratio is not None
            and result.cache_share is not None else "  -")
    print(f"  {result.name:<34} {result.rps:7.0f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
          f"  cpu/req {cpu}  cache hits {hits}  ({result.requests} requests, {result.errors} errors)", flush=True)


def configs(backends: list[str]) -> list[Config]:
    serve = ["-m", "bot.cli", "serve", "--host", "127.0.0.1", "--no-scheduler", "--no-access-log"]
    off = {"YIBAO_ANSWER_CACHE": "0"}
    out = [Config("bare echo (1 process)", ["-m", "bench.webhook.echo", "--host", "127.0.0.1", "--token", TOKEN],
                  {}, "echo", full=False)]
    for backend in backends:
        db = "SQLite" if backend == "sqlite" else "PostgreSQL"
        out += [
            Config(f"full, 1 proc, cache on, {db}", [*serve, "--workers", "1"], {}, backend),
            Config(f"full, 1 proc, cache off, {db}", [*serve, "--workers", "1"], off, backend),
            Config(f"full, 2 proc, cache on, {db}", [*serve, "--workers", "2"], {}, backend),
            Config(f"full, 2 proc, cache off, {db}", [*serve, "--workers", "2"], off, backend),
        ]
        if backend == "sqlite":
            out.append(Config(f"canned answer, 1 proc, {db}", ["-m", "bench.webhook.canned", "--host", "127.0.0.1"],
                              {}, backend))
            out.append(Config("edge only, 1 proc", ["-m", "bench.webhook.edge", "--host", "127.0.0.1"], {}, backend))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server (max 120)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=50, help="concurrent client connections (50)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto",
                        help="load generator: wrk when installed (auto), or the Python one")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both",
                        help="database(s) behind the full pipeline (both)")
    parser.add_argument("--pg-url", help="a PostgreSQL server to create the benchmark's databases on")
    parser.add_argument("--only", help="run only the configurations whose name contains this (and the echo)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every configuration this many times, in turn, and report each one's median run; "
                             "a ratio to the echo is the median of the rounds' ratios (a machine whose speed "
                             "drifts from minute to minute)")
    args = parser.parse_args()
    rounds = max(1, args.rounds)
    duration = max(1, min(args.duration, MAX_DURATION_S))
    tool = "wrk" if args.tool in ("auto", "wrk") and shutil.which("wrk") else "python"
    if args.tool == "wrk" and tool != "wrk":
        raise SystemExit("wrk is not installed")
    OUT.mkdir(parents=True, exist_ok=True)
    texts = questions()

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    pg_url = args.pg_url or os.environ.get("YIBAO_BENCH_PG_URL") or os.environ.get("YIBAO_TEST_PG_URL") or DEFAULT_PG
    if "postgresql" in backends and (why := pg_reachable(pg_url)):
        if args.backend == "postgresql":
            raise SystemExit(f"PostgreSQL at {pg_url} is not usable: {why}")
        print(f"PostgreSQL at {pg_url} is not usable ({why}): SQLite only", flush=True)
        backends.remove("postgresql")

    print(f"load: {tool}, {args.connections} connections, {duration} s per server after {args.warmup} s of "
          f"warm-up, loopback; {os.cpu_count()} CPUs; {len(texts)} distinct questions from {FOLLOWERS} followers",
          flush=True)
    runs: dict[str, list[Result]] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env |= {"YIBAO_WECHAT_TOKEN": TOKEN, "YIBAO_WECHAT_API_BASE": "http://127.0.0.1:9"}
    with tempfile.TemporaryDirectory(prefix="yibao-bench-") as tmp:
        for r in range(rounds):
            if rounds > 1:
                print(f"round {r + 1} of {rounds}", flush=True)
            for i, config in enumerate(configs(backends)):
                if args.only and config.backend != "echo" and args.only not in config.name:
                    continue
                with fresh_database(config.backend, tmp, r * 100 + i, pg_url) as (url, sync):
                    server_env = env | config.env | ({"YIBAO_DATABASE_URL": url} if url else {})
                    slug = re.sub(r"[^a-z0-9]+", "-", config.name.lower()).strip("-")
                    with Server(f"{i}-{slug}", config.args, server_env) as server:
                        if sync:
                            seed_followers(sync)
                        check_answer(server.port, full=config.full)
                        result = measure(tool, server, config, duration, args.connections, args.warmup, texts)
                    if config.full:
                        result.cache_hit_ratio, result.cache_share = server.cache_figures()
                runs.setdefault(config.name, []).append(result)
                report(result)

    echo_name = "bare echo (1 process)"
    results = {name: median_run(rs) for name, rs in runs.items()}
    echo = results[echo_name]
    summary = {}
    print()
    if rounds > 1:
        print(f"  medians of {rounds} rounds:")
        for result in results.values():
            report(result)
        print()
    for name, result in results.items():
        if result is echo:
            continue
        ratio = statistics.median(run.rps / e.rps for run, e in zip(runs[name], runs[echo_name], strict=True))
        summary[name] = ratio
        print(f"  {name:<34} {ratio:5.0%} of the echo's requests/s")
    checks = []
    for db in ("SQLite", "PostgreSQL"):
        one, two = results.get(f"full, 1 proc, cache on, {db}"), results.get(f"full, 2 proc, cache on, {db}")
        if one:
            ratio = summary[one.name]
            # issue 13's targets: half the echo, p99 within 25 ms, two workers above one
            checks.append((f"full/echo, 1 process, {db}", f"{ratio:.0%}", ">= 50%", ratio >= 0.5))
            checks.append((f"full p99, 1 process, {db}", f"{one.p99_ms:.1f} ms", "<= 25 ms", one.p99_ms <= 25))
        if one and two:
            checks.append((f"full, --workers 2 vs 1, {db}", f"{two.rps / one.rps:.0%}", "> 100%", two.rps > one.rps))
    print()
    for what, figure, target, ok in checks:
        print(f"  {what:<34} {figure:>9}  (target {target})  {'ok' if ok else 'MISSED'}")
    out = {
        "tool": tool,
        "connections": args.connections,
        "duration_s": duration,
        "warmup_s": args.warmup,
        "cpus": os.cpu_count(),
        "followers": FOLLOWERS,
        "questions": len(texts),
        "rounds": rounds,
        "results": [asdict(r) for r in results.values()],
        "runs": {name: [asdict(r) for r in rs] for name, rs in runs.items()},
        "ratio_to_echo": summary,
    }
    (OUT / "webhook.json").write_text(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
