"""What to answer for each kind of inbound message or event: one small handler per kind.

A handler gets a `Turn` and returns the reply text, or None for "success". The follower's stored state
comes with the turn; the changes a handler makes to it (conversation state, subscription) are queued on the
turn and committed with the stored reply, so they happen once per message however often WeChat retries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import TZ
from bot.handlers.answer import Answer
from bot.pipeline import Context, Speaker
from bot.render import render
from bot.store import followers, receipts
from bot.store.followers import STALE, FollowerWrite, Fresh
from bot.wechat import outreach
from bot.wechat.protocol import Inbound

if TYPE_CHECKING:
    from bot.wechat.inbox import Deps

Handler = Callable[["Turn"], Awaitable[str | None]]

# Menu CLICK keys and the question each one asks.
MENU_QUESTIONS = {
    "FEE": "交多少钱",
    "DEADLINE": "截止时间",
    "CHANNELS": "怎么交",
    "MY_STATUS": "我的缴费状态",
}
MAX_QUESTION_CHARS = 500  # longer texts are pasted documents, not questions


class NotPure(Exception):
    """A pure turn (see `Turn.pure`) that needs the pipeline proper: claim the message first."""


@dataclass
class Turn:
    """One inbound message being answered.

    A pure turn answers only what needs no database and has no side effect beyond the writes it queues: a
    question `Deps.offline` answers, an event. Anything else raises NotPure, and the message is claimed
    before it is answered for real. (A pure turn can run before the claim: run twice by two deliveries,
    it does no harm, and only the delivery that claims the message commits its writes.)"""

    inbound: Inbound
    now: dt.datetime
    deps: Deps
    speaker: Speaker  # the follower as stored when the message arrived
    intent: str | None = None
    writes: list[FollowerWrite] = field(default_factory=list)
    pure: bool = False
    fresh: Fresh = STALE  # how recent the follower's stored timestamps are (timestamp-only writes skipped)

    @property
    def openid(self) -> str:
        return self.inbound.openid

    async def ask(self, question: str, *, user_message: bool = True) -> str:
        """Run the pipeline as this follower, and queue their new state for saving."""
        ctx = Context(
            today=self.now.astimezone(TZ).date(),
            registry=self.deps.registry,
            speaker=self.speaker,
            settings=self.deps.settings,
            sessions=self.deps.sessions,
            now=self.now,
        )
        if not self.pure:
            reply = await self.deps.responder(question, ctx)
        elif self.deps.offline is None or (offline := await self.deps.offline(question, ctx)) is None:
            raise NotPure(question)
        else:
            reply = offline
        self.intent = str(reply.intent)
        s = reply.speaker
        if followers.unchanged(self.speaker, s, self.fresh, user_message=user_message):
            return reply.text  # nothing to write
        after = Speaker(self.openid, s.region, s.township, s.resident_id, s.state)
        self.write(followers.speaker_write(after, self.now, user_message=user_message, before=self.speaker))
        return reply.text

    def touch(self, *, user_message: bool) -> None:
        self.write(followers.touch_write(self.openid, self.now, user_message=user_message))

    def write(self, write: FollowerWrite) -> None:
        """Queue a change to the follower, unless it would only move fresh timestamps forward."""
        if not followers.needless(write, self.fresh):
            self.writes.append(write)

    def needs_database(self) -> None:
        """Give way on a pure turn: the message is claimed first, then answered with the database."""
        if self.pure:
            raise NotPure(self.inbound.kind)

    def render(self, template: str, **data: object) -> str:
        self.intent = template
        return render(Answer(template, data))


ROUTES: dict[str, Handler] = {}


def on(*kinds: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for kind in kinds:
            ROUTES[kind] = handler
        return handler

    return register


async def route(turn: Turn) -> str | None:
    inbound = turn.inbound
    handler = ROUTES.get(inbound.kind) or (on_other_event if inbound.is_event else on_unsupported)
    return await handler(turn)


@on("text")
async def on_text(turn: Turn) -> str | None:
    text = turn.inbound.text("Content").strip()
    if len(text) > MAX_QUESTION_CHARS:
        turn.touch(user_message=True)
        return turn.render("unsupported_message", kind="too_long", length=len(text))
    if not text:
        turn.touch(user_message=True)
        return turn.render("unsupported_message", kind="empty", length=0)
    special = await outreach.on_text(turn, text)  # an official's name, 订阅提醒 / 退订提醒
    if special is not None:
        return special
    return await turn.ask(text)


@on("voice")
async def on_voice(turn: Turn) -> str | None:
    """Voice arrives as speech-to-text in `Recognition` when the account has it switched on."""
    text = turn.inbound.text("Recognition").strip().rstrip("。.!！")
    if not text:
        turn.touch(user_message=True)
        return turn.render("voice_unrecognized")
    return await turn.ask(text)


@on("event:subscribe", "event:subscribe_scan")
async def on_subscribe(turn: Turn) -> str | None:
    turn.write(followers.subscribed_write(turn.openid, turn.now))
    scene = outreach.official_scene(turn)
    if scene is not None:  # an official who scanned their township's QR code follows the account
        return await outreach.scanned(turn, scene)
    registry = turn.deps.registry
    regions = registry.regions()
    # "我是陵川县礼义镇的": the first region whose townships we know, else a bare region name
    example = next((r + towns[0] for r in regions if (towns := registry.townships(r))), regions[0] if regions else "")
    return turn.render(
        "welcome", region=turn.speaker.region, township=turn.speaker.township, regions=regions, example=example
    )


@on("event:unsubscribe")
async def on_unsubscribe(turn: Turn) -> str | None:
    turn.write(followers.unsubscribed_write(turn.openid, turn.now))
    return None


@on("event:scan")
async def on_scan(turn: Turn) -> str | None:
    """A follower scanned a parametric QR code: an official's township code, or nothing we made."""
    scene = outreach.official_scene(turn)
    if scene is not None:
        return await outreach.scanned(turn, scene)
    turn.touch(user_message=False)
    return None


@on("event:subscribe_msg_popup_event")
async def on_popup(turn: Turn) -> str | None:
    await outreach.popup(turn)
    return None


@on("event:click")
async def on_click(turn: Turn) -> str | None:
    key = turn.inbound.text("EventKey")
    if key in outreach.CONSENT_KEYS:
        return await outreach.set_consent(turn, outreach.CONSENT_KEYS[key], "menu")
    question = MENU_QUESTIONS.get(key)
    if question is None:
        turn.touch(user_message=False)
        return turn.render("unsupported_message", kind="menu", length=0)
    return await turn.ask(question, user_message=False)


@on("event:templatesendjobfinish", "event:masssendjobfinish")
async def on_receipt(turn: Turn) -> str | None:
    """A send job's receipt: kept, and matched to its outbox row or broadcast batch (bot/store/receipts.py)."""
    if turn.pure:
        raise NotPure("a receipt is written to the database")
    inbound = turn.inbound
    counts = None
    if inbound.event == "masssendjobfinish":
        counts = {"total": inbound.text("TotalCount"), "filter": inbound.text("FilterCount"),
                  "sent": inbound.text("SentCount"), "error": inbound.text("ErrorCount")}
    async with turn.deps.sessions.begin() as session:
        await receipts.record(session, event=inbound.text("Event").upper(), openid=turn.openid,
                              msgid=inbound.text("MsgID") or inbound.text("MsgId"),
                              status=inbound.text("Status"), counts=counts, now=turn.now)
    return None


async def on_other_event(turn: Turn) -> str | None:
    """LOCATION, VIEW, SCAN, send-job reports, ...: WeChat expects only "success"."""
    if turn.inbound.event not in {"templatesendjobfinish", "masssendjobfinish"}:
        turn.touch(user_message=False)
    return None


async def on_unsupported(turn: Turn) -> str | None:
    """Images, video, links, locations, files: a polite hint to ask in words."""
    turn.touch(user_message=True)
    return turn.render("unsupported_message", kind=turn.inbound.msg_type, length=0)
