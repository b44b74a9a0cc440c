"""Sending a broadcast within WeChat's rules, and composing a policy year's announcement.

`send` freezes the audience into batches (bot/store/broadcasts.py) and calls mass/send once per batch with the
batch's clientmsgid, recording each batch as soon as WeChat accepts it. A batch WeChat answers with 45065
("clientmsgid exist") was sent by an earlier, interrupted call: it is recorded as sent, never sent again.
A call that fails with a retryable error leaves the broadcast `sending`; running `send` again carries on
with the batches not yet sent. On a subscription account (no openid lists: they are a certified service
account's) the broadcast goes by tag or to everyone through mass/sendall, once a day.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalogue import t
from bot.config import Settings
from bot.render import environment
from bot.rules.schema import Policy
from bot.store import broadcasts as store
from bot.store import digits
from bot.store.broadcasts import Audience, BroadcastError, Reach
from bot.store.models import Broadcast, WeChatTag, utcnow
from bot.store.tags import county_tag, township_tag
from bot.wechat.client import WeChatClient
from bot.wechat.errors import InDoubtError, WeChatAPIError

log = logging.getLogger("yibao.scheduler.broadcasts")

CLIENTMSGID_USED = 45065
IN_DOUBT_TRIES = 3  # calls of one batch left without an answer before the send stops (to be run again)
MAX_TEXT_CHARS = 600  # a mass text is read on a phone; WeChat's own cap is higher


def monthly_limit(settings: Settings) -> int | None:
    return settings.mass_monthly_limit if settings.account_type == "service" else None


def announcement(policy: Policy) -> tuple[str, str]:
    """(title, text) of the announcement of a newly published policy year, from its file."""
    tiers = policy.contribution.tiers
    categories = [c for c in policy.categories if c.personal_amount is not None]
    text = environment().get_template("broadcast_policy.j2").render(
        policy=policy, tiers=tiers, categories=categories[:4],
        channels=list(dict.fromkeys(ch.name for ch in policy.channels))[:6])
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    title = t("broadcast.policy_title", region=policy.region.name, year=policy.insurance_year)
    return title, "\n".join(lines)


class HoldsIdNumber(BroadcastError):
    """A draft's title or text holds an ID number (its text is shown back masked)."""


def check_text(content: str, title: str = "") -> None:
    """A mass text goes to every follower and is stored as written: not too long for a phone, and never with
    an ID number in it (however typed: spaced, full-width, as bot.store.digits reads numbers)."""
    if len(content) > MAX_TEXT_CHARS:
        raise BroadcastError(t("broadcast.refused.too_long", n=len(content), most=MAX_TEXT_CHARS))
    if any(digits.is_id_shaped(digits.fold(m[0])) for m in digits.numbers_in(f"{title}\n{content}")):
        raise HoldsIdNumber(t("broadcast.refused.id_number"))


@dataclass
class SendResult:
    broadcast: int
    status: str
    recipients: int
    over_limit: int
    batches_sent: int
    batches_left: int
    error: str | None = None


async def preview_reach(sessions: async_sessionmaker, settings: Settings, b: Broadcast,
                        now: dt.datetime) -> Reach:
    async with sessions() as session:
        return await store.reach(session, Audience.from_dict(b.audience), now, monthly_limit(settings))


async def send(sessions: async_sessionmaker, client: WeChatClient, settings: Settings, broadcast_id: int,
               actor: str, now: dt.datetime | None = None) -> SendResult:
    now = now or utcnow()
    async with sessions.begin() as session:
        b = await store.get(session, broadcast_id)
        check_text(b.content, b.title)
        if b.status == "sent":
            raise BroadcastError(t("broadcast.refused.already_sent", id=b.id))
        if b.status == "draft" and settings.broadcast_approval:
            raise BroadcastError(t("broadcast.refused.not_approved", id=b.id))
        if b.status in {"draft", "approved"}:
            audience = Audience.from_dict(b.audience)
            if settings.account_type == "subscription":
                await _freeze_for_subscription(session, b, audience, now, actor)
            else:
                r = await store.reach(session, audience, now, monthly_limit(settings))
                await store.freeze(session, b, r.openids, r.over_limit, actor)
        elif b.status == "failed":
            b.status = "sending"
        content, recipients, over_limit = b.content, b.recipients, b.over_limit
        pending = [(x.id, x.seq, x.clientmsgid, list(x.openids))
                   for x in await store.batches(session, b.id) if x.status == "pending"]
    sent = 0
    error = None
    for batch_id, seq, clientmsgid, openids in pending:
        try:
            msg_id = await _call(client=client, openids=openids, content=content,
                                 clientmsgid=clientmsgid, broadcast_id=broadcast_id)
        except WeChatAPIError as exc:
            error = t("broadcast.batch_failed", seq=seq, why=exc.for_staff()).strip()
            async with sessions.begin() as session:
                batch = await session.get(store.BroadcastBatch, batch_id)
                batch.last_error = error
                if not exc.retryable and not isinstance(exc, InDoubtError):  # in doubt: run send again
                    batch.status = "failed"
            break
        async with sessions.begin() as session:
            batch = await session.get(store.BroadcastBatch, batch_id)
            await store.mark_sent(session, batch, msg_id, utcnow())
            await store.count_sent(session, openids, now)
        sent += 1
    async with sessions.begin() as session:
        b = await store.get(session, broadcast_id)
        left = [x for x in await store.batches(session, b.id) if x.status != "sent"]
        if not left:
            b.status, b.sent_at, b.last_error = "sent", utcnow(), None
        else:
            b.status = "failed" if any(x.status == "failed" for x in left) else "sending"
            b.last_error = error
        await store.audit(session, actor, "broadcast.sent" if not left else "broadcast.incomplete",
                          broadcast=b.id, batches_sent=sent, batches_left=len(left), error=error)
        return SendResult(b.id, b.status, recipients, over_limit, sent, len(left), error)


async def _freeze_for_subscription(session: AsyncSession, b: Broadcast, audience: Audience, now: dt.datetime,
                                   actor: str) -> None:
    """A subscription account: one mass send a day, by tag or to all (openid lists are not open to it)."""
    if await store.sent_today(session, now):
        raise BroadcastError(t("broadcast.refused.once_a_day"))
    if audience.kind == "group":
        raise BroadcastError(t("broadcast.refused.no_lists"))
    target = "all"
    if audience.kind in {"county", "township"}:
        name = (county_tag(audience.county) if audience.kind == "county"
                else township_tag(audience.county, audience.township))
        tag = (await session.execute(select(WeChatTag.tag_id).where(WeChatTag.name == name))).scalar()
        if tag is None:
            raise BroadcastError(t("broadcast.refused.no_tag", tag=name))
        target = f"tag:{tag}"
    reached = await store.reach(session, audience, now, None)
    session.add(store.BroadcastBatch(broadcast_id=b.id, seq=1, clientmsgid=f"yibao-bc{b.id}-1",
                                     openids=[target], status="pending"))
    b.status, b.recipients, b.over_limit = "sending", reached.recipients, 0
    await store.audit(session, actor, "broadcast.send", broadcast=b.id, target=target)


async def _send_once(client: WeChatClient, openids: list[str], content: str, clientmsgid: str) -> dict:
    if len(openids) == 1 and openids[0] == "all":
        return await client.mass_send_text_to_tag(None, content, clientmsgid)
    if len(openids) == 1 and openids[0].startswith("tag:"):
        return await client.mass_send_text_to_tag(int(openids[0][4:]), content, clientmsgid)
    return await client.mass_send_text(openids, content, clientmsgid)


async def _call(*, client: WeChatClient, openids: list[str], content: str,
                clientmsgid: str, broadcast_id: int) -> str | None:
    """One mass send; the msg_id, or None when an earlier call with this clientmsgid already sent it. A call
    left without an answer (InDoubtError) is made again at once: its clientmsgid makes that harmless."""
    attempt = 1
    while True:
        try:
            result = await _send_once(client, openids, content, clientmsgid)
        except InDoubtError:
            if attempt >= IN_DOUBT_TRIES:
                raise
            attempt += 1
            log.warning("broadcast %s: no answer to %s; asking again with the same clientmsgid",
                        broadcast_id, clientmsgid)
            continue
        except WeChatAPIError as exc:
            if exc.errcode != CLIENTMSGID_USED:
                raise
            log.warning("broadcast %s: %s was sent by an earlier call; not sent again", broadcast_id, clientmsgid)
            return None
        return str(result.get("msg_id") or "") or None
