"""From a parsed inbound message to the passive reply text: once per message, within WeChat's 5 seconds.

    claim the message ──(a retry)──> the first delivery's stored reply, or "success"
         │ the follower as stored
    the pipeline (bot/pipeline.py): text or event -> reply, and the follower after it
         │
    store the reply (for retries), the follower and the log row, together

- Dedupe: the first delivery claims its key (bot/store/inbox.py); a retry, to any worker, gets the stored
  reply, waits briefly while the first is still being answered, or gets "success".
- Budget: an answer not ready within `reply_budget_s` is sent afterwards as a customer-service message,
  and the passive reply is "success" (None here).
- Events and messages that are not questions become Queries of their intents here (`message_of`), answered by
  the same pipeline and handlers as questions (bot/handlers/events.py, bot/handlers/outreach.py).

Why not one transaction per message (load the speaker, run the pipeline, save the speaker, store the reply):
the writes are group-committed (bot/store/inbox.py), many messages to a transaction, and a transaction per
message caps one SQLite process at a few hundred messages a second. So the follower is loaded with the claim's
(shared) transaction and saved with the completion's, and between the two no transaction is open while the
pipeline runs. What keeps a follower's state from two of their messages answered at once: the completion
writes only the speaker fields this message changed (`speaker_write(..., before=...)`) plus the timestamps,
so a binding or a region set by one message is not undone by the other's stale copy; when both messages
change the same field (both move a binding on), the later completion's value stands. A follower types one
message at a time, so that needs two messages a few milliseconds apart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import TZ, Settings
from bot.handlers import records
from bot.nlu.query import Intent, Query
from bot.rules.loader import PolicyRegistry
from bot.store import followers
from bot.store.inbox import DEFERRED, DONE, InboxStore, log_row
from bot.store.published import CurrentRegistry
from bot.types import Context, Reply, Speaker
from bot.wechat import textparts
from bot.wechat.client import WeChatClient
from bot.wechat.errors import WeChatAPIError
from bot.wechat.protocol import Inbound

log = logging.getLogger("yibao.wechat.inbox")

Responder = Callable[[str | Query, Context], Awaitable[Reply]]
Clock = Callable[[], dt.datetime]

# Menu CLICK keys and the question each one asks.
MENU_QUESTIONS = {
    "FEE": "交多少钱",
    "DEADLINE": "截止时间",
    "CHANNELS": "怎么交",
    "MY_STATUS": "我的缴费状态",
}
# Menu CLICK keys that switch payment reminders on or off (the REMINDERS intent's topic).
MENU_REMINDERS = {"REMIND_ON": "on", "REMIND_OFF": "off"}
MAX_QUESTION_CHARS = 500  # longer texts are pasted documents, not questions
OFFICIAL_SCENE = "o."  # the scene of an official's QR code starts so (bot/store/signing.scene)


def _event(intent: Intent, topic: str = "", **extras: str) -> Query:
    return Query(intent=intent, text="", topic=topic, extras=extras)


def message_of(inbound: Inbound) -> str | Query:
    """What the pipeline answers: a question's text, or the Query of an event or a message it cannot read."""
    kind = inbound.kind
    if kind == "text":
        text = inbound.text("Content").strip()
        if len(text) > MAX_QUESTION_CHARS:
            return _event(Intent.UNSUPPORTED, "too_long", length=str(len(text)))
        return text or _event(Intent.UNSUPPORTED, "empty")
    if kind == "voice":  # speech-to-text in `Recognition`, when the account has it switched on
        return inbound.text("Recognition").strip().rstrip("。.!！") or _event(Intent.VOICE_UNRECOGNIZED)
    if kind == "event:click":
        key = inbound.text("EventKey")
        if key in MENU_REMINDERS:
            return _event(Intent.REMINDERS, MENU_REMINDERS[key], via="menu")
        return MENU_QUESTIONS.get(key) or _event(Intent.UNSUPPORTED, "menu")
    if kind in ("event:subscribe", "event:scan"):  # a QR code: an official's scene names their township
        key = inbound.text("EventKey")
        scene = key.removeprefix("qrscene_") if kind == "event:subscribe" else key
        if scene.startswith(OFFICIAL_SCENE):
            return _event(Intent.OFFICIAL_SCAN, inbound.event, scene=scene)
    if kind in ("event:subscribe", "event:subscribe_scan"):
        return _event(Intent.SUBSCRIBE)
    if kind == "event:unsubscribe":
        return _event(Intent.UNSUBSCRIBE)
    if kind == "event:subscribe_msg_popup_event":
        return _event(Intent.SUBSCRIBE_POPUP, **_popup_choices(inbound))
    if inbound.event in _RECEIPTS:
        return _event(Intent.RECEIPT, inbound.event, **_receipt_fields(inbound))
    if inbound.is_event:  # LOCATION, VIEW, a follower's SCAN, ...
        return _event(Intent.EVENT, inbound.event)
    return _event(Intent.UNSUPPORTED, inbound.msg_type)  # pictures, video, links, locations, files


def _popup_choices(inbound: Inbound) -> dict[str, str]:
    """The subscription popup's choices: template id -> SubscribeStatusString (accept / reject)."""
    choices = inbound.fields.get("SubscribeMsgPopupEvent")
    items = choices.get("List") if isinstance(choices, dict) else None
    return {str(item["TemplateId"]): str(item.get("SubscribeStatusString") or "")
            for item in (items if isinstance(items, list) else [items])
            if isinstance(item, dict) and item.get("TemplateId")}


def _receipt_fields(inbound: Inbound) -> dict[str, str]:
    """A send job's receipt: its msg id and status, and a mass send's counts."""
    fields = {"msgid": inbound.text("MsgID") or inbound.text("MsgId"), "status": inbound.text("Status")}
    if inbound.event == "masssendjobfinish":
        fields |= {"total": inbound.text("TotalCount"), "filter": inbound.text("FilterCount"),
                   "sent": inbound.text("SentCount"), "error": inbound.text("ErrorCount")}
    return fields


def _logged_content(inbound: Inbound) -> str:
    if inbound.msg_type == "text":
        return inbound.text("Content")
    if inbound.msg_type == "voice":
        return inbound.text("Recognition")
    if inbound.kind == "event:click":
        return inbound.text("EventKey")
    return ""  # no coordinates, picture URLs or media ids in the log


# Receipts of the account's own sends: not the follower's doing, so no interaction of theirs.
_RECEIPTS = frozenset({"templatesendjobfinish", "masssendjobfinish"})


@dataclass
class Deps:
    """What answering a message needs; built once per app."""

    settings: Settings
    policies: CurrentRegistry  # the registry to answer with, followed as the console publishes
    sessions: async_sessionmaker
    store: InboxStore
    responder: Responder
    clock: Clock
    client: WeChatClient
    background: set[asyncio.Task] = field(default_factory=set)

    @property
    def registry(self) -> PolicyRegistry:
        return self.policies.registry


@dataclass
class _Answered:
    text: str | None  # None: "success"
    intent: str
    writes: list[followers.FollowerWrite]
    detail: dict | None = None  # for the log row: what was tried on an unanswered message, or 有用/没用


class Inbox:
    """Answers inbound messages (the HTTP side is bot/wechat/webhook.py)."""

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
        speaker = await deps.store.claim(key, inbound.openid, now)
        if speaker is None:  # a retry
            return await self._retry(key, deadline)
        job = asyncio.create_task(self._respond(inbound, speaker, now))
        await asyncio.sleep(0)  # most answers need no I/O: the job's first step finishes them, no timer needed
        if not job.done():
            await asyncio.wait({job}, timeout=max(0.0, deadline - loop.time()))
        if not job.done():
            log.info("%s: not answered within %.1fs, will send it by the customer-service API", inbound.log_name,
                     budget)
            self._in_background(self._deliver_late(inbound, now, job))
            return None
        try:
            answered = job.result()
        except Exception:
            await deps.store.release(key)
            raise
        if answered.text and len(textparts.parts(answered.text)) > 1:
            # Over WeChat's size limit for a passive reply, which it would drop: "success" now, and the text
            # in parts, in order, by the customer-service API (retries answer "success").
            row = self._received(inbound, now, answered.intent, None, answered.detail)
            await deps.store.finish(key, DEFERRED, answered.text, answered.writes, [row])
            self._in_background(self._send_by_api(inbound, answered))
            return None
        row = self._received(inbound, now, answered.intent, key if answered.text else None, answered.detail)
        await deps.store.finish(key, DONE, answered.text, answered.writes, [row])
        return answered.text

    async def _respond(self, inbound: Inbound, speaker: Speaker, now: dt.datetime) -> _Answered:
        deps = self.deps
        ctx = Context(today=now.astimezone(TZ).date(), registry=deps.registry, speaker=speaker,
                      settings=deps.settings, sessions=deps.sessions, now=now)
        reply = await deps.responder(message_of(inbound), ctx)
        interaction = not inbound.is_event or inbound.event not in _RECEIPTS
        user_message = not inbound.is_event
        writes = [followers.speaker_write(reply.speaker, now, user_message=user_message, before=speaker)
                  ] if interaction else []
        return _Answered(reply.text or None, str(reply.intent), writes, records.detail(reply.query))

    @staticmethod
    def _received(inbound: Inbound, now: dt.datetime, intent: str | None, reply_key: str | None,
                  detail: dict | None = None) -> dict:
        """The message's log row; with its passive reply, the reply's intent and key (bot/store/inbox.py)."""
        return log_row(inbound.openid, "in", inbound.kind, _logged_content(inbound), now, intent, reply_key, detail)

    async def _retry(self, key: str, deadline: float) -> str | None:
        """Another delivery of the message claimed it: its reply, once there is one in time."""
        left = max(0.0, deadline - asyncio.get_running_loop().time())
        seen = await self.deps.store.wait_for_first(key, left)
        return seen.reply if seen is not None and seen.status == DONE else None

    async def _deliver_late(self, inbound: Inbound, now: dt.datetime, job: asyncio.Task) -> None:
        deps, key = self.deps, inbound.dedupe_key
        await deps.store.finish(key, DEFERRED, None)  # retries from now on answer "success"
        try:
            answered = await job
        except Exception:
            log.exception("%s: answering failed", inbound.log_name)
            await deps.store.finish(key, DEFERRED, None, logs=[self._received(inbound, now, None, None)])
            return
        row = self._received(inbound, now, answered.intent, None, answered.detail)
        await deps.store.finish(key, DEFERRED, answered.text, answered.writes, [row])
        if answered.text:
            await self._send_by_api(inbound, answered)

    async def _send_by_api(self, inbound: Inbound, answered: _Answered) -> None:
        """`answered.text` as customer-service messages, cut into parts within WeChat's size limit, in order;
        each counted against the follower's 48-hour window and logged. A part WeChat refuses ends the sending."""
        deps, openid = self.deps, inbound.openid
        for part in textparts.parts(answered.text or ""):
            try:
                await deps.client.send_text(openid, part)
            except WeChatAPIError as exc:
                log.warning("%s: late answer not delivered: %s", inbound.log_name, exc)
                return
            async with deps.sessions.begin() as session:
                await followers.count_window_send(session, openid)
            await deps.store.log(log_row(openid, "out", "custom", part, deps.clock(), answered.intent))

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
