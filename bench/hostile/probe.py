"""The good requests of `python -m bench.hostile`, in a process of their own (importable, for spawn)."""

from __future__ import annotations

import asyncio
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

import aiohttp

from bot.wechat.simulate import Signer, text_xml

HOST = "127.0.0.1"
QUESTION = "陵川县低保户交多少"


def probe(port: int, signer: Signer, interval: float, stop: Event, results: Queue) -> None:
    """In a process of its own (so the attack's work does not delay it), good requests on fresh connections
    until `stop`: /healthz and a question, in turn. Puts (latencies, failures) on `results`."""
    latencies: list[float] = []
    failures: list[str] = []
    url = f"http://{HOST}:{port}"

    async def run() -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True), timeout=timeout) as http:
            n = 0
            while not stop.is_set():
                n += 1
                start = time.monotonic()
                try:
                    if n % 2:
                        async with http.get(f"{url}/healthz") as resp:
                            ok = resp.status == 200
                    else:
                        params, body = signer.sign(text_xml(f"o_probe_{n % 50}", QUESTION))
                        async with http.post(f"{url}/wechat", params=params, data=body) as resp:
                            ok = resp.status == 200 and "80元" in (signer.open_reply(await resp.text()) or "")
                    latencies.append(time.monotonic() - start)
                    if not ok:
                        failures.append(f"request {n}: status {resp.status}")
                except (TimeoutError, aiohttp.ClientError) as exc:
                    failures.append(f"request {n}: {type(exc).__name__} {exc}")
                await asyncio.sleep(interval)

    asyncio.run(run())
    results.put((latencies, failures))
