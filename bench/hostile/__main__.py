"""Slow and idle clients against `yibao serve`: good requests still answered, no connection kept too long.

    .venv/bin/python -m bench.hostile [--connections 5000] [--read-timeout 5] [--idle-timeout 30]
                                      [--max-connections N] [--probe-interval 0.1]

Starts `yibao serve` on loopback (a free port, its own temporary SQLite database, safe mode, no scheduler)
with the given YIBAO_READ_TIMEOUT_S, YIBAO_IDLE_TIMEOUT_S and YIBAO_MAX_CONNECTIONS (default: below the
descriptor limit), then opens --connections hostile connections, no credentials needed, in three kinds:

  idle      connects and never sends a byte              (closed by the idle limit)
  headers   sends a signed POST's headers, never a body  (closed by the read deadline)
  trickle   sends a request one byte a second            (closed by the read deadline)

Throughout, until every hostile connection is gone, a prober sends good requests on fresh connections, in
turn `GET /healthz` and a signed safe-mode question whose encrypted answer is opened and checked, and
records their latency. Printed: the good requests' latency (max must stay under 1 s) and failures, how long
the server kept each kind of connection against its deadline (with 0.5 s allowed for measuring from the
client), accept errors in the server's log, and whether its log holds any query string. Exit status 0 when
every check holds. Bounded: it ends when the last hostile connection is closed or after the idle limit plus
60 s; it raises its own descriptor limit to hold the connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import secrets
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.hostile.probe import HOST, QUESTION, probe
from bot.wechat.edge import raise_descriptor_limit
from bot.wechat.simulate import Signer, text_xml

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-hostile-token"
APPID = "wxbenchhostile0001"
KINDS = ("idle", "headers", "trickle")
SLACK_S = 0.5  # measuring a lifetime from the client: connect and close are seen a little late
OPEN_BATCH = 250  # connections opened at once


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", type=int, default=5000, help="hostile connections (default 5000)")
    p.add_argument("--read-timeout", type=float, default=5.0, help="YIBAO_READ_TIMEOUT_S (default 5)")
    p.add_argument("--idle-timeout", type=float, default=30.0, help="YIBAO_IDLE_TIMEOUT_S (default 30)")
    p.add_argument("--max-connections", type=int, default=0,
                   help="YIBAO_MAX_CONNECTIONS (default 0: below the server's descriptor limit)")
    p.add_argument("--probe-interval", type=float, default=0.1, help="seconds between good requests (0.1)")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log: Path
    signer: Signer


@contextlib.contextmanager
def yibao_serve(args: argparse.Namespace, workdir: Path):
    port = free_port()
    key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
    env = {**os.environ, "YIBAO_DATABASE_URL": f"sqlite:///{workdir / 'hostile.sqlite3'}",
           "YIBAO_WECHAT_TOKEN": TOKEN, "YIBAO_WECHAT_APPID": APPID, "YIBAO_WECHAT_AES_KEY": key,
           "YIBAO_WECHAT_MODE": "safe", "YIBAO_WECHAT_API_BASE": f"http://{HOST}:9",  # never called here
           "YIBAO_READ_TIMEOUT_S": str(args.read_timeout), "YIBAO_IDLE_TIMEOUT_S": str(args.idle_timeout),
           "YIBAO_MAX_CONNECTIONS": str(args.max_connections)}
    log = workdir / "serve.log"
    cmd = [sys.executable, "-m", "bot.cli", "serve", "--host", HOST, "--port", str(port), "--no-scheduler"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"yibao serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("yibao serve did not come up within 90 s") from None
                time.sleep(0.2)
        yield Server(port, proc, log, Signer(TOKEN, APPID, key))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class Hostile:
    kind: str
    writer: asyncio.StreamWriter
    opened: float
    lifetime: float | None = None  # until the server closed it
    sent: int = 0  # bytes trickled


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    refused_at_connect: int = 0


def request_head(server: Server) -> bytes:
    params, _ = server.signer.sign(text_xml("o_hostile", QUESTION))
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return (f"POST /wechat?{query} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: text/xml\r\n"
            f"Content-Length: 600\r\n\r\n").encode()


async def open_hostile(server: Server, kind: str, figures: Figures) -> Hostile | None:
    try:
        reader, writer = await asyncio.open_connection(HOST, server.port)
    except OSError:
        figures.refused_at_connect += 1
        return None
    conn = Hostile(kind, writer, time.monotonic())
    if kind == "headers":
        writer.write(request_head(server))
    elif kind == "trickle":  # the first byte now, then one a second
        writer.write(request_head(server)[:1])
        conn.sent = 1

    async def until_closed() -> None:
        with contextlib.suppress(OSError):
            while await reader.read(4096):
                pass
        conn.lifetime = time.monotonic() - conn.opened
        writer.close()

    asyncio.get_running_loop().create_task(until_closed())
    return conn


async def trickle(conns: list[Hostile], head: bytes) -> None:
    """One byte a second on every trickling connection still open, each from the start of a request."""
    while True:
        open_ = [c for c in conns if c.kind == "trickle" and c.lifetime is None]
        for c in open_:
            with contextlib.suppress(OSError, RuntimeError):
                c.writer.write(head[c.sent : c.sent + 1])
                c.sent += 1
        await asyncio.sleep(1)


async def attack(server: Server, args: argparse.Namespace) -> tuple[list[Hostile], float]:
    figures = Figures()
    started = time.monotonic()
    conns: list[Hostile] = []
    trickler = asyncio.create_task(trickle(conns, request_head(server)))
    for first in range(0, args.connections, OPEN_BATCH):
        batch = [open_hostile(server, KINDS[i % 3], figures)
                 for i in range(first, min(first + OPEN_BATCH, args.connections))]
        conns.extend(c for c in await asyncio.gather(*batch) if c is not None)
    print(f"opened {len(conns):,} hostile connections in {time.monotonic() - started:.1f} s "
          f"({figures.refused_at_connect} refused at connect)", flush=True)
    bound = time.monotonic() + args.idle_timeout + 60
    while any(c.lifetime is None for c in conns) and time.monotonic() < bound:
        await asyncio.sleep(0.5)
    trickler.cancel()
    for c in conns:
        if c.lifetime is None:
            c.writer.close()
    return conns, time.monotonic() - started


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(server: Server, args: argparse.Namespace) -> tuple[list[Hostile], Figures, float]:
    """The attack, with the prober running from a second before it to a second after."""
    ctx = multiprocessing.get_context("spawn")
    stop, results = ctx.Event(), ctx.Queue()
    prober = ctx.Process(target=probe, args=(server.port, server.signer, args.probe_interval, stop, results))
    prober.start()
    time.sleep(1)
    cpu = cpu_seconds(server.proc.pid)
    try:
        conns, elapsed = asyncio.run(attack(server, args))
        used = cpu_seconds(server.proc.pid) - cpu
        print(f"server CPU during the attack: {used:.1f} s in {elapsed:.0f} s", flush=True)
        time.sleep(1)
    finally:
        stop.set()
    figures = Figures()
    figures.latencies, figures.failures = results.get(timeout=60)
    prober.join(10)
    return conns, figures, elapsed


def report(conns: list[Hostile], figures: Figures, elapsed: float, server: Server,
           args: argparse.Namespace) -> bool:
    ok = True
    lat = sorted(figures.latencies)
    print(f"\ngood requests: {len(lat)} answered in {elapsed:.0f} s, {len(figures.failures)} failed")
    if lat:
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(f"  latency: p50 {statistics.median(lat) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
              f"max {lat[-1] * 1000:.1f} ms (must stay under 1 s)")
        ok &= lat[-1] < 1.0
    for failure in figures.failures[:5]:
        print(f"  {failure}")
    ok &= not figures.failures and bool(lat)
    print("\nhostile connections, kept by the server (measured from the client):")
    deadlines = {"idle": args.idle_timeout, "headers": args.read_timeout, "trickle": args.read_timeout}
    for kind in KINDS:
        mine = [c for c in conns if c.kind == kind]
        done = sorted(c.lifetime for c in mine if c.lifetime is not None)
        left = len(mine) - len(done)
        if not done:
            print(f"  {kind:8} {len(mine):>6,}: none closed")
            ok = False
            continue
        limit = deadlines[kind]
        over = sum(t > limit + SLACK_S for t in done)
        print(f"  {kind:8} {len(mine):>6,}: median {statistics.median(done):.2f} s, max {done[-1]:.2f} s, "
              f"deadline {limit:g} s; {over} over it, {left} never closed")
        ok &= over == 0 and left == 0
    text = server.log.read_text(errors="replace")
    accept_errors = text.count("cannot accept connections")
    leaked = sum("?" in line for line in text.splitlines() if " aiohttp.access: " in line)
    print(f"\nserver log: {accept_errors} accept-error lines, {leaked} access-log lines with a query string, "
          f"{len(text.splitlines())} lines in all")
    ok &= leaked == 0
    print("\nresult:", "every check holds" if ok else "A CHECK FAILED")
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit = raise_descriptor_limit()
    if limit < args.connections + 200:
        raise SystemExit(f"this process may open {limit} descriptors: too few for {args.connections} connections")
    with tempfile.TemporaryDirectory(prefix="yibao-hostile-") as tmp, yibao_serve(args, Path(tmp)) as server:
        print(f"yibao serve on {HOST}:{server.port}: read deadline {args.read_timeout:g} s, idle limit "
              f"{args.idle_timeout:g} s, connection cap {args.max_connections or 'auto'}", flush=True)
        conns, figures, elapsed = run(server, args)
        return 0 if report(conns, figures, elapsed, server, args) else 1


if __name__ == "__main__":
    sys.exit(main())
