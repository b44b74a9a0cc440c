"""From a parsed inbound message to the passive reply text: once per message, within WeChat's 5 seconds.

- Dedupe: the first delivery claims its key in inbound_messages; a retry (any worker) gets the stored
  reply, waits briefly while the first is still being answered, or gets "success".
- Budget: an answer not ready within `reply_budget_s` is sent afterwards as a customer-service message,
  and the passive reply is "success" (None here).
- Side effects (follower state, message_log) happen once, committed with the stored reply.
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
from bot.wechat import dedupe
from bot.wechat.client import WeChatClient
from bot.wechat.errors import WeChatAPIError
from bot.wechat.message_log import log_row
from bot.wechat.protocol import Inbound
from bot.wechat.router import Turn, route
from bot.wechat.store import WebhookStore

log = logging.getLogger("yibao.wechat.inbox")

Responder = Callable[[str, Context], Awaitable[Reply]]
Clock = Callable[[], dt.datetime]


@dataclass
class Deps:
    """What answering a message needs; built once per app."""

    settings: Settings
    registry: PolicyRegistry
    sessions: async_sessionmaker
    store: WebhookStore
    responder: Responder
    clock: Clock
    client: WeChatClient
    background: set[asyncio.Task] = field(default_factory=set)


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
        speaker = await deps.store.arrive(key, inbound.openid, now)
        if speaker is None:  # a retry
            seen = await dedupe.wait_for_first(deps.sessions, key, max(0.0, deadline - loop.time()))
            return seen.reply if seen is not None and seen.status == dedupe.DONE else None

        received = log_row(inbound.openid, "in", inbound.kind, _logged_content(inbound), now)
        turn = Turn(inbound=inbound, now=now, deps=deps, speaker=speaker)
        job = asyncio.create_task(route(turn))
        done, _ = await asyncio.wait({job}, timeout=max(0.0, deadline - loop.time()))
        if job not in done:
            log.info("%s: not answered within %.1fs, will send it by the customer-service API", key, budget)
            deps.store.log(received)
            self._in_background(self._deliver_late(turn, job))
            return None
        try:
            text = job.result()
        except Exception:
            async with deps.sessions.begin() as session:
                await dedupe.release(session, key)
            raise
        logs = [received]
        if text:
            logs.append(log_row(inbound.openid, "out", "text", text, deps.clock(), turn.intent))
        await deps.store.complete(key, dedupe.DONE, text, turn.writes, logs)
        return text

    async def _deliver_late(self, turn: Turn, job: asyncio.Task) -> None:
        deps, key, openid = self.deps, turn.inbound.dedupe_key, turn.inbound.openid
        await deps.store.complete(key, dedupe.DEFERRED, None)  # retries from now on answer "success"
        try:
            text = await job
        except Exception:
            log.exception("%s: answering failed", key)
            return
        await deps.store.complete(key, dedupe.DEFERRED, text, turn.writes)
        if not text:
            return
        try:
            await deps.client.send_text(openid, text)
        except WeChatAPIError as exc:
            log.warning("%s: late answer not delivered: %s", key, exc)
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
