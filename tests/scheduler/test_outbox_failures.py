"""The outbox row when WeChat's answer is not a success, over HTTP against the fake WeChat: a refused or expired
access token, a 5xx, an answer that is not JSON, a call that times out. None of these is the message's fault:
the row stays `pending` for a later try (never `failed`, never lost), its `last_error` says why, and the next
drain sends it."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import aiohttp
import pytest
from sqlalchemy import select

from bot.store.models import AccessToken, MessageLog, OutboxMessage
from bot.wechat.client import WeChatClient
from scheduler.sender import Sender, SenderOptions
from tests.scheduler.conftest import fake_state
from tests.scheduler.helpers import Person, add_people
from tests.scheduler.test_sender import REMIND_5D, inject, plan, sends

TOKEN_ERRCODES = (40001, 40014, 42001)  # invalid credential, invalid access_token, access_token expired


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def make_sender(settings, sessions, registry, http, clock, **client) -> Sender:
    client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                          base=settings.wechat_api_base, sessions=sessions, **client)
    return Sender(sessions, client, registry, settings, clock=clock, options=SenderOptions(concurrency=1))


async def one_row(sessions) -> OutboxMessage:
    async with sessions() as session:
        (row,) = (await session.execute(select(OutboxMessage))).scalars()
        return row


async def shared_token(sessions) -> str | None:
    async with sessions() as session:
        row = (await session.execute(select(AccessToken))).scalar_one_or_none()
        return row.token if row else None


async def intents(sessions) -> list[str]:
    async with sessions() as session:
        return list((await session.execute(select(MessageLog.intent).order_by(MessageLog.id))).scalars())


async def planned(sessions, registry, clock) -> None:
    await add_people(sessions, [Person("崇文镇")])
    assert await plan(sessions, registry, REMIND_5D, clock) == 1


async def retried_later_and_sent(sender: Sender, sessions, clock, reason: str) -> None:
    """The row is pending with `reason`, due again after the first backoff; then it goes out."""
    row = await one_row(sessions)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert row.last_error.startswith("retry in 30s") and reason in row.last_error, row.last_error
    assert row.not_before == clock() + dt.timedelta(seconds=30)
    clock.advance(seconds=30)
    assert await sender.drain() == Counter(sent=1)
    row = await one_row(sessions)
    assert (row.status, row.attempts) == ("sent", 2) and row.wechat_msgid


@pytest.mark.parametrize("errcode", TOKEN_ERRCODES)
async def test_a_token_wechat_keeps_refusing_leaves_the_row_pending_and_the_token_renewed(
        sessions, registry, settings, fake, clock, http, errcode) -> None:
    """WeChat refuses the token, and again after the client's one refresh: the row waits for the next try."""
    await planned(sessions, registry, clock)
    sender = make_sender(settings, sessions, registry, http, clock)
    await inject(http, fake, endpoint="template/send", errcode=errcode, times=2)
    assert await sender.drain() == Counter(pending=1)
    assert [c["errcode"] for c in sends(fake)] == [errcode, errcode]
    refreshes = [c["body"].get("force_refresh") for c in sends(fake, "stable_token")]
    assert refreshes == [None, None, True]  # the refused token, then a new one forced
    assert await shared_token(sessions) == fake_state(fake).stable  # every worker now uses the new one
    await retried_later_and_sent(sender, sessions, clock, f"{errcode} ")
    assert await intents(sessions) == ["reminder:retry", "reminder:sent"]
    assert len(sends(fake, "stable_token")) == 3  # the renewed token served the retry: no further refresh


async def test_an_expired_token_wechat_refuses_twice_is_refreshed_and_the_row_waits(
        sessions, registry, settings, fake, clock, http) -> None:
    """The token really expired (42001 from the fake's own check), and the call after the refresh is refused
    too: pending, not failed."""
    await planned(sessions, registry, clock)
    sender = make_sender(settings, sessions, registry, http, clock)
    assert await sender.client.access_token()
    async with http.post(fake.make_url("/_fake/expire")) as resp:
        assert resp.status == 200
    await inject(http, fake, endpoint="template/send", errcode=42001, times=2)
    assert await sender.drain() == Counter(pending=1)
    assert await shared_token(sessions) == fake_state(fake).stable
    await retried_later_and_sent(sender, sessions, clock, "42001 ")


NOT_JSON = {
    "a 502 from a proxy": {"http_status": 502},
    "a 503": {"http_status": 503},
    "an HTML page": {"body": "<html><body>502 Bad Gateway</body></html>"},
    "JSON cut short": {"body": '{"errcode":0,"errmsg":"ok","msgid":'},
    "a JSON list": {"body": "[]"},
    "an errcode that is not a number": {"body": '{"errcode":"0","errmsg":"ok"}'},
    "empty": {"body": ""},
}


@pytest.mark.parametrize("answer", NOT_JSON.values(), ids=NOT_JSON.keys())
@pytest.mark.parametrize("endpoint", ["template/send", "stable_token"])
async def test_a_5xx_or_malformed_answer_leaves_the_row_pending_with_its_reason(
        sessions, registry, settings, fake, clock, http, answer, endpoint) -> None:
    """From the send itself or from the token it needs first: a server error, retried later; a send answered
    200 with what cannot be read may have been delivered (in doubt): sent again with the same client_msg_id."""
    await planned(sessions, registry, clock)
    sender = make_sender(settings, sessions, registry, http, clock)
    await inject(http, fake, endpoint=endpoint, **answer)
    assert await sender.drain() == Counter(pending=1)
    if "http_status" in answer:
        reason = f"{answer['http_status']} "
    else:
        reason = "same client_msg_id: in doubt" if endpoint == "template/send" else "200 "
    await retried_later_and_sent(sender, sessions, clock, reason)
    assert [c["delivered"] for c in sends(fake)] == ([False, True] if endpoint == "template/send" else [True])


async def test_a_token_call_that_times_out_leaves_the_row_pending(sessions, registry, settings, fake, clock,
                                                                 http) -> None:
    """No token, so no message went out: nothing in doubt, a plain retry."""
    await planned(sessions, registry, clock)
    sender = make_sender(settings, sessions, registry, http, clock, timeout_s=0.2)
    await inject(http, fake, endpoint="stable_token", delay_s=1.0)  # answers after the client gave up
    assert await sender.drain() == Counter(pending=1)
    await retried_later_and_sent(sender, sessions, clock, "TimeoutError")
    row = await one_row(sessions)
    assert row.in_doubt_at is None and len([c for c in sends(fake) if c["delivered"]]) == 1


async def test_a_send_that_times_out_stays_pending_for_the_same_client_msg_id(sessions, registry, settings, fake,
                                                                             clock, http) -> None:
    """A template send with no answer may have been delivered: pending, sent again with the same client_msg_id
    (WeChat drops the repeat), never failed. (A customer-service text in doubt is not sent again: in_doubt,
    tests/scheduler/test_sender.py.)"""
    await planned(sessions, registry, clock)
    sender = make_sender(settings, sessions, registry, http, clock, timeout_s=0.2)
    await inject(http, fake, endpoint="template/send", late_s=1.0)  # delivered, answered too late
    assert await sender.drain() == Counter(pending=1)
    row = await one_row(sessions)
    assert row.status == "pending" and "same client_msg_id" in row.last_error and "TimeoutError" in row.last_error
    clock.advance(seconds=30)
    assert await sender.drain() == Counter(sent=1)
    keys = {c["body"]["client_msg_id"] for c in sends(fake)}
    assert len(sends(fake)) == 2 and keys == {row.key}
    assert [c["delivered"] for c in sends(fake)] == [True, False]  # the repeat was dropped
