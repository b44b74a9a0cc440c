"""Malformed HTTP on a real socket: each request is answered 4xx (or the connection closed), never handed to
the webhook, and the server keeps answering good requests."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.wechat.test_edge import request_head, started

BAD_HEADS = {
    "negative length": b"POST /wechat HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "length not a number": b"POST /wechat HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n",
    "two lengths": b"POST /wechat HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "length and chunked (smuggling)": b"POST /wechat HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n",
    "bad chunk size": b"POST /wechat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
    "line too long": b"GET /wechat?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "not HTTP": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(100),  # a TLS hello on the plain port
    "NUL in a header": b"GET /wechat HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "method of 300 letters": b"A" * 300 + b" /wechat HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("head", BAD_HEADS.values(), ids=BAD_HEADS.keys())
async def test_malformed_http_is_refused_and_the_server_keeps_answering(tmp_path, registry, fake, head):
    async with started(tmp_path, registry, fake) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.edge.port)
        writer.write(head)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 5)
        assert status == b"" or status.split()[1].startswith(b"4"), status  # closed, or a 4xx
        writer.close()
        async with aiohttp.ClientSession() as http:
            assert await server.healthy(http)
            assert "80元" in await server.ask(http)


async def test_a_declared_body_over_the_cap_is_refused_before_it_is_sent(tmp_path, registry, fake):
    """Content-Length of a gigabyte: 413 at once, the connection closed, nothing waited for."""
    async with started(tmp_path, registry, fake) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.edge.port)
        writer.write(request_head(server, 1 << 30))
        await writer.drain()
        assert b" 413 " in await asyncio.wait_for(reader.readline(), 2)
        writer.close()
