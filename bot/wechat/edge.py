"""The HTTP edge of `yibao serve`: deadlines, an idle limit and a cap on connections; a private access log.

aiohttp's server closes a connection idle for its keep-alive timeout but has no deadline for a request's
headers and body: a client sending headers and never the body, or a body one byte a second, holds its
connection (and a file descriptor) for as long as it likes. So every accepted connection goes through a
`Connection`, a thin asyncio protocol in front of aiohttp's RequestHandler that passes every call on, and
the `Edge` keeps each connection in one of three states:

- idle: no request in progress (also before its first byte): closed `idle_timeout_s` after it became idle;
- reading: a request's first byte has arrived, its body has not all arrived: closed `read_timeout_s` after
  that first byte, whether the headers or the body are late (a declared body adds its length at
  MIN_UPLOAD_BYTES_PER_S);
- handling: the application is answering (no deadline here: the webhook keeps its own reply budget).

The deadlines are kept by one sweep every SWEEP_S (or a tenth of a shorter timeout): the idle connections
are kept in the order they became idle and the reading ones in the order of their first byte, so a sweep
looks only at the connections past their time (and the first one that is not). A change of state is a
couple of dict operations; a timer per connection, moved at each change, cost four timers per request
(about 10 µs of the webhook's CPU per request). A deadline is kept to within a sweep's interval, never early;
a sweep that finds nothing late costs two dict lookups.

A middleware sees a request start and end, and its body arrive (the payload's `on_eof`). Over
`max_connections` the oldest idle connection is closed, else the one reading for longest; when all the
others are handling a request, the newcomer is closed. Accept errors (EMFILE: out of descriptors) are logged
at most once a minute, with a count. The access log records method, path, status, size and time: never the
query string, which carries `signature`, `nonce` and `openid`.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_protocol import RequestHandler

from bot.config import Settings

log = logging.getLogger("yibao.edge")
ACCESS_LOG = logging.getLogger("aiohttp.access")

ACCEPT_ERROR_LOG_INTERVAL_S = 60.0
# a declared body adds its length at this rate to the read deadline: a roster uploaded to the console over
# a slow line is not cut off, a 256 KB webhook body adds at most 4 s
MIN_UPLOAD_BYTES_PER_S = 64 * 1024
BACKLOG = 1024
MAX_LOGGED_PATH = 200
SWEEP_S = 0.1  # deadlines are enforced within this (or a tenth of the shorter timeout, if less)


def descriptor_reserve(limit: int) -> int:
    """Descriptors kept for what is not a client connection: the database, the WeChat API client's pool,
    log files, the listening socket."""
    return max(256, limit // 10)


def raise_descriptor_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("could not raise the descriptor limit from %d to %d: %s", soft, target, exc)
    return soft


@dataclass(frozen=True)
class Limits:
    read_timeout_s: float
    idle_timeout_s: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings, descriptor_limit: int) -> Limits:
        """The limits of `settings`, the connection cap kept below the descriptor limit."""
        ceiling = max(1, descriptor_limit - descriptor_reserve(descriptor_limit))
        cap = settings.max_connections or ceiling
        if cap > ceiling:
            log.warning("YIBAO_MAX_CONNECTIONS=%d is over what %d descriptors allow: capped at %d",
                        cap, descriptor_limit, ceiling)
            cap = ceiling
        return cls(settings.read_timeout_s, settings.idle_timeout_s, cap)


class AccessLog(AbstractAccessLogger):
    """One line per request: method, path, status, size, seconds. No query string, no address, no headers."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = request.path[:MAX_LOGGED_PATH].encode("unicode_escape").decode("ascii")  # no forged lines
        self.logger.info("%s %s %d %d %.3fs", request.method, path, response.status, response.body_length, time)


class Connection(asyncio.Protocol):
    """One accepted connection: passes asyncio's calls on to aiohttp's handler, and tells the edge when a
    request's first byte arrives and when the connection is gone."""

    def __init__(self, edge: Edge, handler: RequestHandler):
        self.edge = edge
        self.handler = handler
        self.read_by: float | None = None  # while a request is read: when it must have arrived
        self.read_since = 0.0  # while a request is read: when its first byte arrived
        self.idle_since = 0.0  # while idle: since when
        self.handling = False  # the application is answering a request
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.handler.connection_made(transport)
        self.edge.opened(self)

    def data_received(self, data: bytes) -> None:
        if data and self.read_by is None:
            self.edge.reading(self)
        self.handler.data_received(data)

    def eof_received(self) -> bool | None:
        return self.handler.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.edge.forget(self)
        self.handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self.handler.pause_writing()

    def resume_writing(self) -> None:
        self.handler.resume_writing()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Edge:
    """The connections of one server process, their deadlines and the cap."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.loop = asyncio.get_running_loop()
        self.connections: dict[RequestHandler, Connection] = {}
        self.idle: OrderedDict[Connection, None] = OrderedDict()  # in the order they became idle
        self.busy_reading: OrderedDict[Connection, None] = OrderedDict()  # in the order of their first byte
        self.closed = {"idle": 0, "read": 0, "cap": 0, "accept": 0}  # connections the edge closed, by reason
        self.port = 0  # the port listened on, once listening
        self.interval = min(SWEEP_S, limits.read_timeout_s / 10, limits.idle_timeout_s / 10)
        self.sweeper: asyncio.TimerHandle | None = None

    def protocol_factory(self, server: web.Server) -> Callable[[], Connection]:
        return lambda: Connection(self, server())

    # the states

    def opened(self, conn: Connection) -> None:
        self.connections[conn.handler] = conn
        self._idle(conn)
        if len(self.connections) > self.limits.max_connections:
            self._make_room(conn)

    def reading(self, conn: Connection) -> None:
        conn.read_since = self.loop.time()
        conn.read_by = conn.read_since + self.limits.read_timeout_s
        self.busy_reading[conn] = None
        self.idle.pop(conn, None)

    def body_arrived(self, conn: Connection) -> None:
        if conn.closed or conn.read_by is None:
            return
        conn.read_by = None
        self.busy_reading.pop(conn, None)
        if not conn.handling:
            self._idle(conn)

    def handling(self, conn: Connection, handling: bool) -> None:
        if conn.closed:
            return
        conn.handling = handling
        if handling:
            self.idle.pop(conn, None)
        elif conn.read_by is None:
            self._idle(conn)

    def forget(self, conn: Connection) -> None:
        if conn.closed:
            return
        conn.closed = True
        self.connections.pop(conn.handler, None)
        self.idle.pop(conn, None)
        self.busy_reading.pop(conn, None)

    def _idle(self, conn: Connection) -> None:
        """From now on idle: at the end of the idle order."""
        conn.idle_since = self.loop.time()
        self.idle.pop(conn, None)
        self.idle[conn] = None

    # the deadlines

    def start(self) -> None:
        self.sweeper = self.loop.call_later(self.interval, self.sweep)

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()

    def sweep(self) -> None:
        """Close the connections past their deadline; then again after an interval."""
        now = self.loop.time()
        idle_after = now - self.limits.idle_timeout_s
        while self.idle:
            conn = next(iter(self.idle))
            if conn.idle_since > idle_after:
                break
            self.close(conn, "idle")
        read_after = now - self.limits.read_timeout_s
        late = []
        for conn in self.busy_reading:  # in the order of their first byte
            if conn.read_since > read_after:
                break
            if conn.read_by is not None and conn.read_by <= now:  # else a large upload with more time
                late.append(conn)
        for conn in late:
            self.close(conn, "read")
        self.start()

    def _make_room(self, newcomer: Connection) -> None:
        victim = next(iter(self.idle), newcomer)
        if victim is newcomer:
            victim = next(iter(self.busy_reading), newcomer)
        self.close(victim, "cap")

    def close_oldest_idle(self, reason: str) -> None:
        if self.idle:
            self.close(next(iter(self.idle)), reason)

    def close(self, conn: Connection, reason: str) -> None:
        self.forget(conn)
        self.closed[reason] += 1
        conn.handler.force_close()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        conn = self.connections.get(request.protocol)
        if conn is None:  # closed already
            return await handler(request)
        if conn.read_by is not None and request.content_length:  # a large upload (the console's rosters)
            conn.read_by += request.content_length / MIN_UPLOAD_BYTES_PER_S
        self.handling(conn, True)
        request.content.on_eof(lambda: self.body_arrived(conn))
        try:
            return await handler(request)
        except ConnectionError:
            if not conn.closed:
                raise
            # closed at its deadline (or by the client) while the body was awaited: one access-log line,
            # not a traceback per slow client
            raise web.HTTPRequestTimeout() from None
        finally:
            self.handling(conn, False)


class AcceptErrors:
    """The event loop's exception handler while serving: an accept that failed for lack of descriptors (or
    memory) is logged once a minute with the count since, and frees the oldest idle connection; anything else
    goes to the handler that was there before."""

    MESSAGE = "socket.accept() out of system resource"  # asyncio's, for EMFILE, ENFILE, ENOBUFS, ENOMEM

    def __init__(self, edge: Edge, previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None):
        self.edge = edge
        self.previous = previous
        self.last_logged: float | None = None
        self.unlogged = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != self.MESSAGE:
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        self.edge.close_oldest_idle("accept")  # a descriptor for the next try
        self.unlogged += 1
        now = loop.time()
        if self.last_logged is None or now - self.last_logged >= ACCEPT_ERROR_LOG_INTERVAL_S:
            log.error("cannot accept connections: %s (%d time(s) since the last message; %d connections open)",
                      context.get("exception"), self.unlogged, len(self.edge.connections))
            self.last_logged, self.unlogged = now, 0


@asynccontextmanager
async def serving(app: web.Application, host: str, port: int, limits: Limits, *, reuse_port: bool = False,
                  access_log: bool = True) -> AsyncIterator[Edge]:
    """Serve `app` on host:port behind the edge until the block ends."""
    edge = Edge(limits)
    edge.start()
    app.middlewares.append(edge.middleware)
    # aiohttp's own keep-alive close is only a backstop here, set past the sweep that closes idle connections
    runner = web.AppRunner(app, access_log=ACCESS_LOG if access_log else None, access_log_class=AccessLog,
                           keepalive_timeout=limits.idle_timeout_s + 2 * edge.interval)
    await runner.setup()
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(AcceptErrors(edge, previous))
    listener: asyncio.base_events.Server | None = None
    try:
        assert runner.server is not None
        listener = await loop.create_server(edge.protocol_factory(runner.server), host, port,
                                            reuse_port=reuse_port or None, backlog=BACKLOG)
        edge.port = listener.sockets[0].getsockname()[1]
        yield edge
    finally:
        if listener is not None:
            listener.close()
        await runner.cleanup()
        edge.stop()
        if listener is not None:
            with suppress(Exception):
                await listener.wait_closed()
        loop.set_exception_handler(previous)

