"""The edge of `yibao serve` on real sockets: slow and idle clients dropped by their deadlines, the connection
cap closing the oldest idle connection first, rate-limited accept errors, and good requests answered
throughout. Deadlines are made small here; `python -m bench.hostile` runs the same attacks at scale."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from bot.app import create_app
from bot.config import Settings
from bot.wechat.edge import Edge, Limits, raise_descriptor_limit, serving
from bot.wechat.simulate import Signer
from tests.wechat import samples
from tests.wechat.conftest import AES_KEY, APPID, TOKEN, fixed_clock
from tests.wechat.samples import fresh

READ_S = 0.5  # headers and body within this of the first byte
IDLE_S = 2.5  # no request in progress for this long


@dataclass
class Server:
    edge: Edge
    settings: Settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.edge.port}"

    def signer(self) -> Signer:
        return Signer(TOKEN, APPID, AES_KEY)

    async def ask(self, http: aiohttp.ClientSession) -> str | None:
        """A good safe-mode question, answered."""
        signer = self.signer()
        params, body = signer.sign(fresh(samples.TEXT, content="陵川县低保户交多少"))
        async with http.post(f"{self.url}/wechat", params=params, data=body) as resp:
            assert resp.status == 200
            return signer.open_reply(await resp.text())

    async def healthy(self, http: aiohttp.ClientSession) -> bool:
        async with http.get(f"{self.url}/healthz") as resp:
            return resp.status == 200


@contextlib.asynccontextmanager
async def started(tmp_path, registry, fake, **limits) -> AsyncIterator[Server]:
    settings = Settings(wechat_token=TOKEN, wechat_appid=APPID, wechat_aes_key=AES_KEY,
                        wechat_api_base=str(fake.make_url("")).rstrip("/"),
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'edge.sqlite3'}")
    app = create_app(settings, registry=registry, clock=fixed_clock, scheduler=False)
    limits = Limits(**{"read_timeout_s": READ_S, "idle_timeout_s": IDLE_S, "max_connections": 1000, **limits})
    async with serving(app, "127.0.0.1", 0, limits) as edge:
        yield Server(edge, settings)


async def closed_after(reader: asyncio.StreamReader, limit_s: float = 10.0) -> float:
    """Seconds until the server closes the connection (whatever it answered before)."""
    start = time.monotonic()
    async with asyncio.timeout(limit_s):
        while await reader.read(65536):
            pass
    return time.monotonic() - start


async def test_a_connection_that_never_sends_a_byte_is_closed_at_the_idle_limit(tmp_path, registry, fake):
    async with started(tmp_path, registry, fake) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.edge.port)
        assert IDLE_S - 0.1 <= await closed_after(reader) <= IDLE_S + 1.5
        writer.close()
        assert server.edge.closed["idle"] == 1


def request_head(server: Server, content_length: int) -> bytes:
    params, _ = server.signer().sign(fresh(samples.TEXT))  # a valid safe-mode query: the body is awaited
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return (f"POST /wechat?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {content_length}\r\n\r\n").encode()


async def test_headers_without_a_body_are_closed_at_the_read_deadline(tmp_path, registry, fake, caplog):
    async with started(tmp_path, registry, fake) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.edge.port)
        with caplog.at_level(logging.INFO):
            writer.write(request_head(server, 500))
            assert await closed_after(reader) <= IDLE_S - 0.5  # by the read deadline, before the idle limit
            await asyncio.sleep(0.1)
        assert server.edge.closed["read"] == 1
    # one access-log line, no traceback per slow client
    assert [(r.levelname, r.getMessage()[:19]) for r in caplog.records if r.levelno >= logging.INFO] == [
        ("INFO", "POST /wechat 408 0 ")]


async def trickle(writer: asyncio.StreamWriter, data: bytes, interval_s: float) -> None:
    with contextlib.suppress(ConnectionError):
        for i in range(len(data)):
            writer.write(data[i : i + 1])
            await writer.drain()
            await asyncio.sleep(interval_s)


@pytest.mark.parametrize("part", ["headers", "body"])
async def test_a_request_trickled_a_byte_at_a_time_is_closed_at_the_read_deadline(tmp_path, registry, fake, part):
    async with started(tmp_path, registry, fake) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.edge.port)
        head = request_head(server, 500)
        if part == "body":
            writer.write(head)
        slow = asyncio.create_task(trickle(writer, head if part == "headers" else b"x" * 500, 0.05))
        elapsed = await closed_after(reader)
        slow.cancel()
        assert READ_S - 0.1 <= elapsed <= IDLE_S - 0.5  # bytes kept coming, the read deadline held
        assert server.edge.closed["read"] == 1


async def test_a_large_body_arriving_steadily_gets_time_by_its_length(tmp_path, registry, fake):
    """A roster uploaded over a slow line is not cut off: a declared body adds its length at 64 KB/s."""
    async with started(tmp_path, registry, fake) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.edge.port)
        size = 128 * 1024  # two seconds' allowance on top of the read deadline
        writer.write(request_head(server, size))
        for _ in range(8):  # 16 KB every 0.1 s: the body takes longer than READ_S
            writer.write(b"x" * (size // 8))
            await asyncio.sleep(0.1)
        assert b" 400 " in await asyncio.wait_for(reader.readline(), 5)  # read whole, then refused as not XML
        assert server.edge.closed["read"] == 0
        writer.close()


async def test_a_keep_alive_connection_is_idle_between_requests(tmp_path, registry, fake):
    """A request answered, then nothing: the idle limit applies, not the read deadline."""
    async with started(tmp_path, registry, fake) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.edge.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert b" 200 " in await reader.readline()
        assert IDLE_S - 0.1 <= await closed_after(reader) <= IDLE_S + 1.5
        assert server.edge.closed == {"idle": 1, "read": 0, "cap": 0, "accept": 0}


async def test_good_requests_are_answered_while_many_idle_connections_are_open(tmp_path, registry, fake):
    async with started(tmp_path, registry, fake, idle_timeout_s=30) as server:
        idle = [await asyncio.open_connection("127.0.0.1", server.edge.port) for _ in range(300)]
        async with aiohttp.ClientSession() as http:
            assert await server.healthy(http)
            assert "80元" in await server.ask(http)
        assert len(server.edge.connections) >= 300
        for _, writer in idle:
            writer.close()


async def test_over_the_cap_the_oldest_idle_connections_are_closed_first(tmp_path, registry, fake):
    async with started(tmp_path, registry, fake, read_timeout_s=30, idle_timeout_s=30, max_connections=20) as server:
        oldest = [await asyncio.open_connection("127.0.0.1", server.edge.port) for _ in range(5)]
        trickler, trickling = await asyncio.open_connection("127.0.0.1", server.edge.port)
        trickling.write(b"G")  # reading: kept while idle connections can go
        newer = [await asyncio.open_connection("127.0.0.1", server.edge.port) for _ in range(14)]
        await asyncio.sleep(0.1)
        assert len(server.edge.connections) == 20
        async with aiohttp.ClientSession() as http:  # one more: the oldest idle connection makes room
            assert await server.healthy(http)
            assert "80元" in await server.ask(http)
        assert await closed_after(oldest[0][0], 1) < 1
        for reader, _ in newer[-3:]:
            with pytest.raises(TimeoutError):
                await closed_after(reader, 0.2)  # still open
        assert server.edge.closed["cap"] >= 1 and server.edge.closed["read"] == 0
        for _, writer in [*oldest, *newer, (trickler, trickling)]:
            writer.close()


async def test_accept_errors_are_logged_once_a_minute(tmp_path, registry, fake, caplog):
    """Out of descriptors, asyncio retries accept() every second and would log each failure: here one line
    for the lot, and the connections waiting are served once descriptors are free."""
    async with started(tmp_path, registry, fake) as server:
        waiting = [socket.create_connection(("127.0.0.1", server.edge.port)) for _ in range(3)]  # in the backlog
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        with caplog.at_level(logging.ERROR, logger="yibao.edge"):
            resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free_descriptor(), hard))  # no descriptor to spare
            try:
                await asyncio.sleep(2.5)  # asyncio tries to accept three times
            finally:
                resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        lines = [r.getMessage() for r in caplog.records if "cannot accept" in r.getMessage()]
        assert len(lines) == 1 and "Too many open files" in lines[0]
        sock = waiting[0]
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        loop = asyncio.get_running_loop()
        assert b" 200 " in await asyncio.wait_for(loop.run_in_executor(None, sock.recv, 100), 5)
        for s in waiting:
            s.close()


def lowest_free_descriptor() -> int:
    """RLIMIT_NOFILE bounds descriptor numbers: with the soft limit here, no new descriptor can be made."""
    fd = os.dup(0)  # the lowest free number
    os.close(fd)
    return fd


async def test_the_logs_never_show_a_signature_nonce_or_openid(tmp_path, registry, fake, caplog):
    """The attack: read a signature off the access log and replay it. Nothing of the query is logged, for
    answered, refused and failed requests alike; the access log keeps method, path, status, size and time."""
    secrets: set[str] = set()
    async with started(tmp_path, registry, fake) as server:
        signer = server.signer()
        with caplog.at_level(logging.DEBUG):
            async with aiohttp.ClientSession() as http:
                for n, xml in enumerate([fresh(samples.TEXT, openid="o_secret_follower", content="陵川县低保户交多少"),
                                         fresh(samples.SUBSCRIBE, openid="o_secret_follower")]):
                    params, body = signer.sign(xml)
                    secrets |= {params[k] for k in ("signature", "msg_signature", "nonce", "openid")}
                    async with http.post(f"{server.url}/wechat", params=params, data=body) as resp:
                        assert resp.status == 200
                    plain = {k: params[k] for k in ("signature", "timestamp", "nonce", "openid")}  # a replay
                    async with http.post(f"{server.url}/wechat", params=plain, data=xml.encode()) as resp:
                        assert resp.status == 403
                    async with http.post(f"{server.url}/wechat", params={**params, "msg_signature": "0" * 40},
                                         data=body) as resp:
                        assert resp.status == 403
                    async with http.get(f"{server.url}/wechat", params={**plain, "echostr": f"echo{n}"}) as resp:
                        assert resp.status == 200
                    async with http.get(f"{server.url}/nowhere", params=plain) as resp:
                        assert resp.status == 404
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "o_secret_follower" in xml and len(secrets) == 7
    assert [s for s in secrets if s in logged] == []
    assert "?" not in logged and "echostr" not in logged
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(access) == 10 and access[0].startswith("POST /wechat 200 ")
    assert any(line.startswith("GET /nowhere 404 ") for line in access)


def test_the_connection_cap_stays_below_the_descriptor_limit(caplog):
    assert Limits.from_settings(Settings(), 20_000).max_connections == 18_000  # a tenth kept for the rest
    assert Limits.from_settings(Settings(), 1024).max_connections == 768  # at least 256 kept
    assert Limits.from_settings(Settings(max_connections=500), 1024).max_connections == 500
    with caplog.at_level(logging.WARNING, logger="yibao.edge"):
        assert Limits.from_settings(Settings(max_connections=5000), 1024).max_connections == 768
    assert "YIBAO_MAX_CONNECTIONS=5000" in caplog.text


def test_serve_raises_the_soft_descriptor_limit_to_the_hard_one():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard descriptor limit here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard - 1), hard))
    try:
        assert raise_descriptor_limit() == hard == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
