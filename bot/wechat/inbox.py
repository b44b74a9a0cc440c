"""From a parsed inbound message to the passive reply text: once per message, within WeChat's 5 seconds.

- Dedupe: the first delivery claims its key in inbound_messages; a retry (any worker) gets the stored
  reply, waits briefly while the first is still being answered, or gets "success".
- Fast path: a message whose answer needs no database (most questions, events; see `Deps.offline`) is
  answered first, then claimed and completed in one write; a delivery that loses the claim to another is
  a retry. The rest (binding, payment status) is claimed first, then answered.
- Budget: an answer not ready within `reply_budget_s` is sent afterwards as a customer-service message,
  and the passive reply is "success" (None here).
- Side effects happen once: follower state committed with the stored reply; the message's message_log row,
  which names that reply, buffered once it is committed and written within a second (bot/wechat/store.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.pipeline import Context, Reply
from bot.rules.loader import PolicyRegistry
from bot.store import followers
from bot.store.published import CurrentRegistry
from bot.wechat import dedupe
from bot.wechat.client import WeChatClient
from bot.wechat.errors import WeChatAPIError
from bot.wechat.message_log import log_row
from bot.wechat.protocol import Inbound
from bot.wechat.router import NotPure, Turn, route
from bot.wechat.store import WebhookStore

log = logging.getLogger("yibao.wechat.inbox")

Responder = Callable[[str, Context], Awaitable[Reply]]
# The responder's answer when giving it needs no database (None when it would): bot.pipeline.respond_offline
Offline = Callable[[str, Context], Awaitable[Reply | None]]
Clock = Callable[[], dt.datetime]


@dataclass
class Deps:
    """What answering a message needs; built once per app."""

    settings: Settings
    policies: CurrentRegistry  # the registry to answer with, followed as the console publishes
    sessions: async_sessionmaker
    store: WebhookStore
    responder: Responder
    clock: Clock
    client: WeChatClient
    offline: Offline | None = None
    background: set[asyncio.Task] = field(default_factory=set)

    @property
    def registry(self) -> PolicyRegistry:
        return self.policies.registry


def _logged_content(inbound: Inbound) -> str:
    if inbound.msg_type == "text":
        return inbound.text("Content")
    if inbound.msg_type == "voice":
        return inbound.text("Recognition")
    if inbound.kind == "event:click":
        return inbound.text("EventKey")
    return ""  # no coordinates, picture URLs or media ids in the log


class Inbox:
    def __init__(self, deps: Deps):
        self.deps = deps

    async def answer(self, inbound: Inbound) -> str | None:
        """The passive reply text for `inbound`, or None for "success"."""
        deps = self.deps
        loop = asyncio.get_running_loop()
        budget = deps.settings.reply_budget_s
        deadline = loop.time() + budget  # WeChat's clock started when it sent the request
        now = deps.clock()
        key = inbound.dedupe_key

        def received(turn: Turn | None = None, text: str | None = None) -> dict:
            """The message's log row; with its passive reply, the reply's intent and key (bot/wechat/message_log.py)."""
            return log_row(inbound.openid, "in", inbound.kind, _logged_content(inbound), now,
                           turn.intent if turn else None, key if text else None)

        # the fast path: answered before it is claimed, then claimed with its answer
        seen, speaker, fresh = await deps.store.peek(key, inbound.openid, now)
        if seen is not None:
            return await self._retry(key, deadline)
        turn = Turn(inbound=inbound, now=now, deps=deps, speaker=speaker, pure=True, fresh=fresh)
        try:
            text = await route(turn)
        except NotPure:
            pass
        else:
            if await deps.store.settle(key, inbound.openid, now, text, turn.writes, [received(turn, text)]):
                return text
            return await self._retry(key, deadline)  # another delivery claimed it meanwhile

        speaker = await deps.store.arrive(key, inbound.openid, now)
        if speaker is None:  # a retry
            return await self._retry(key, deadline)
        turn = Turn(inbound=inbound, now=now, deps=deps, speaker=speaker)
        job = asyncio.create_task(route(turn))
        await asyncio.sleep(0)  # most answers need no I/O: the job's first step finishes them, no timer needed
        if not job.done():
            await asyncio.wait({job}, timeout=max(0.0, deadline - loop.time()))
        if not job.done():
            log.info("%s: not answered within %.1fs, will send it by the customer-service API", inbound.log_name,
                     budget)
            deps.store.log(received())
            self._in_background(self._deliver_late(turn, job))
            return None
        try:
            text = job.result()
        except Exception:
            async with deps.sessions.begin() as session:
                await dedupe.release(session, key)
            raise
        await deps.store.complete(key, dedupe.DONE, text, turn.writes, [received(turn, text)])
        return text

    async def _retry(self, key: str, deadline: float) -> str | None:
        """Another delivery of the message claimed it: its reply, once there is one in time."""
        left = max(0.0, deadline - asyncio.get_running_loop().time())
        seen = await dedupe.wait_for_first(self.deps.sessions, key, left)
        return seen.reply if seen is not None and seen.status == dedupe.DONE else None

    async def _deliver_late(self, turn: Turn, job: asyncio.Task) -> None:
        deps, key, openid = self.deps, turn.inbound.dedupe_key, turn.inbound.openid
        await deps.store.complete(key, dedupe.DEFERRED, None)  # retries from now on answer "success"
        try:
            text = await job
        except Exception:
            log.exception("%s: answering failed", turn.inbound.log_name)
            return
        await deps.store.complete(key, dedupe.DEFERRED, text, turn.writes)
        if not text:
            return
        try:
            await deps.client.send_text(openid, text)
        except WeChatAPIError as exc:
            log.warning("%s: late answer not delivered: %s", turn.inbound.log_name, exc)
            return
        async with deps.sessions.begin() as session:
            await followers.count_window_send(session, openid)
        deps.store.log(log_row(openid, "out", "custom", text, deps.clock(), turn.intent))

    def _in_background(self, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception:  # nobody awaits this task: log, or the failure would go unseen
                log.exception("background delivery failed")

        task = asyncio.create_task(guarded())
        self.deps.background.add(task)
        task.add_done_callback(self.deps.background.discard)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Let late answers finish before shutdown."""
        if self.deps.background:
            await asyncio.wait(set(self.deps.background), timeout=timeout_s)
