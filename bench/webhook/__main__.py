"""Webhook throughput and latency: the full pipeline beside a bare aiohttp + wechatpy echo, same load, one run.

    .venv/bin/python -m bench.webhook [--duration 10] [--connections 50] [--tool auto|wrk|python]
                                      [--database-url URL]

Each server runs in its own process on loopback: the echo (signature check, parse, reply with the same
text), `yibao serve` with one process, then `yibao serve --workers 2`, and, to tell the pipeline's cost from
the rest, the same webhook with a canned answer in place of the pipeline (bench/webhook/canned.py). The
load is signed text messages, each with a new MsgId, from 50 followers, for a fixed duration: wrk when it
is installed, else a Python aiohttp load generator (slower than the servers it measures: its figures are a
floor). Prints requests/s, p50 and p99 for each and the ratios against the targets; writes them to
bench/out/webhook.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

from bot.wechat.protocol import signature
from bot.wechat.simulate import Signer, text_xml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
TOKEN = "bench-token"
QUESTION = "陵川县低保户交多少"
FOLLOWERS = 50
MAX_DURATION_S = 120

WRK_SCRIPT = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  question = args[1]
  base = tonumber(args[2])
end
request = function()
  counter = counter + 1
  local openid = string.format("o_bench_%d_%d", tid, counter % 25)
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


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


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


class Server:
    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name, self.port = name, free_port()
        self.log = OUT / f"webhook-{name}.log"
        cmd = [sys.executable, *args, "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        wait_up(self.port, self.proc, self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def check_answer(port: int, full: bool) -> str:
    """One request by hand: the reply must be the pipeline's answer (or the echo of the question)."""
    signer = Signer(TOKEN, "wx-yibao-demo")
    params, body = signer.sign(text_xml("o_bench_check", QUESTION))
    url = f"http://127.0.0.1:{port}/wechat?" + "&".join(f"{k}={v}" for k, v in params.items())
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10) as resp:
        reply = signer.open_reply(resp.read().decode())
    if not reply or (full and "陵川县" not in reply) or (not full and reply != QUESTION):
        raise SystemExit(f"unexpected reply from port {port}: {reply!r}")
    return reply


def run_wrk(name: str, port: int, duration: int, connections: int) -> Result:
    script = OUT / "webhook.lua"
    script.write_text(WRK_SCRIPT)
    base = int(time.time() * 1000) % 10**5 * 10**10  # unique across runs; < 2**53 for Lua
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(script),
           signed_url(port), "--", QUESTION, str(base)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    seconds = raw["duration_us"] / 1e6
    return Result(name, raw["requests"], seconds, raw["requests"] / seconds, raw["p50_us"] / 1000,
                  raw["p99_us"] / 1000, raw["errors"])


async def _python_load(name: str, port: int, duration: int, connections: int) -> Result:
    url = signed_url(port)
    latencies: list[float] = []
    errors = 0
    base = int(time.time() * 1000) % 10**5 * 10**10
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
                body = text_xml(f"o_bench_{i % FOLLOWERS}", QUESTION, msg_id=base + i * 10**8 + n).encode()
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


def load(tool: str, name: str, port: int, duration: int, connections: int, warmup: int) -> Result:
    run = run_wrk if tool == "wrk" else (lambda *a: asyncio.run(_python_load(*a)))
    if warmup:
        run(name, port, warmup, connections)
    result = run(name, port, duration, connections)
    print(f"  {name:<22} {result.rps:9.0f} req/s   p50 {result.p50_ms:6.2f} ms   p99 {result.p99_ms:6.2f} ms"
          f"   ({result.requests} requests, {result.errors} errors)", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server (max 120)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--database-url", help="the full server's database (default: a fresh SQLite file)")
    args = parser.parse_args()
    duration = max(1, min(args.duration, MAX_DURATION_S))
    tool = "wrk" if args.tool in ("auto", "wrk") and shutil.which("wrk") else "python"
    if args.tool == "wrk" and tool != "wrk":
        raise SystemExit("wrk is not installed")
    OUT.mkdir(parents=True, exist_ok=True)

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="yibao-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
        env |= {"YIBAO_WECHAT_TOKEN": TOKEN, "YIBAO_WECHAT_API_BASE": "http://127.0.0.1:9"}
        print(f"load: {tool}, {args.connections} connections, {duration} s per server, loopback; "
              f"{os.cpu_count()} CPUs", flush=True)
        echo_args = ["-m", "bench.webhook.echo", "--host", "127.0.0.1", "--token", TOKEN]
        with Server("echo", echo_args, env) as echo:
            check_answer(echo.port, full=False)
            results.append(load(tool, "bare echo (1 process)", echo.port, duration, args.connections, args.warmup))
        serve = ["-m", "bot.cli", "serve", "--host", "127.0.0.1", "--no-scheduler", "--no-access-log"]
        runs = [
            ("full pipeline (1 proc)", [*serve, "--workers", "1"]),
            ("full pipeline (2 proc)", [*serve, "--workers", "2"]),
            ("canned answer (1 proc)", ["-m", "bench.webhook.canned", "--host", "127.0.0.1"]),
        ]
        for i, (name, server_args) in enumerate(runs):
            db = args.database_url or f"sqlite:///{tmp}/bench-{i}.sqlite3"
            with Server(f"full-{i}", server_args, env | {"YIBAO_DATABASE_URL": db}) as s:
                check_answer(s.port, full=True)
                results.append(load(tool, name, s.port, duration, args.connections, args.warmup))

    echo, full1, full2, canned = results
    ratio1, ratio2 = full1.rps / echo.rps, full2.rps / echo.rps
    print(f"\nfull/echo, 1 process:  {ratio1:.0%}  (target >= 60%)      {'ok' if ratio1 >= 0.6 else 'MISSED'}")
    print(f"full p99, 1 process:   {full1.p99_ms:.1f} ms (target <= 25 ms)  {'ok' if full1.p99_ms <= 25 else 'MISSED'}")
    print(f"full/echo, --workers 2: {ratio2:.0%}  (target > 100%)     {'ok' if ratio2 > 1 else 'MISSED'}")
    print(f"canned/echo, 1 process: {canned.rps / echo.rps:.0%}  (the webhook and its database work, no pipeline)")
    report = {
        "tool": tool,
        "connections": args.connections,
        "duration_s": duration,
        "cpus": os.cpu_count(),
        "database": args.database_url or "sqlite (fresh file)",
        "results": [asdict(r) for r in results],
        "ratio_1_process": ratio1,
        "ratio_2_workers": ratio2,
        "ratio_canned": canned.rps / echo.rps,
    }
    (OUT / "webhook.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
