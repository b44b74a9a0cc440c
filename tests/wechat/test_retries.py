"""WeChat's retries: one run of the side effects, identical replies; the 5-second budget; a database lock held
elsewhere delays answers, not the server."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.keys import SESSIONS
from bot.pipeline import respond
from bot.store.models import Follower, InboundMessage, MessageLog, Resident
from bot.wechat.textparts import MAX_TEXT_BYTES
from tests.wechat import samples
from tests.wechat.conftest import fake_state
from tests.wechat.samples import fresh


class CountingResponder:
    """The real pipeline, counted, optionally slowed down or made to fail."""

    def __init__(self, delay_s: float = 0.0, fail: bool = False):
        self.calls = 0
        self.delay_s = delay_s
        self.fail = fail

    async def __call__(self, text, ctx):
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("pipeline broke")
        return await respond(text, ctx)


async def custom_sends(fake, openid: str) -> list[str]:
    return [
        c["body"]["text"]["content"]
        for c in fake_state(fake).calls
        if c["endpoint"] == "message/custom/send" and c["body"]["touser"] == openid and c["errcode"] == 0
    ]


async def wait_for(predicate, timeout_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_same_msgid_three_times_runs_once_and_replies_identically(make_bot):
    responder = CountingResponder()
    bot = await make_bot(responder=responder)
    xml = fresh(samples.TEXT, openid="o_retry", content="陵川县低保户交多少")
    replies = [await bot.ask(xml) for _ in range(3)]
    assert responder.calls == 1
    assert replies[0] == replies[1] == replies[2]
    assert "80元" in replies[0]
    assert await bot.conversation("o_retry") == [("in", "陵川县低保户交多少", replies[0])]  # logged once
    assert await bot.count(MessageLog) == 1
    assert await bot.count(InboundMessage) == 1


async def test_concurrent_retries_wait_for_the_first_answer(make_bot):
    responder = CountingResponder(delay_s=0.3)
    bot = await make_bot(responder=responder)
    xml = fresh(samples.TEXT, openid="o_race", content="陵川县低保户交多少")
    replies = await asyncio.gather(*(bot.ask(xml) for _ in range(3)))
    assert responder.calls == 1
    assert len(set(replies)) == 1 and "80元" in replies[0]
    assert await bot.conversation("o_race") == [("in", "陵川县低保户交多少", replies[0])]


async def test_repeated_event_runs_once(make_bot):
    responder = CountingResponder()
    bot = await make_bot(responder=responder)
    click = fresh(samples.CLICK, openid="o_event", key="FEE")
    replies = [await bot.ask(click) for _ in range(3)]
    assert responder.calls == 1
    assert len(set(replies)) == 1
    # a new click (another CreateTime) is a new event
    await bot.ask(fresh(samples.CLICK, openid="o_event", key="FEE"))
    assert responder.calls == 2


async def test_slow_answer_goes_out_as_customer_service_message(make_bot, fake):
    responder = CountingResponder(delay_s=0.6)
    bot = await make_bot(responder=responder, reply_budget_s=0.2)
    xml = fresh(samples.TEXT, openid="o_slow", content="陵川县低保户交多少")
    resp = await bot.post(xml)
    assert resp.status == 200
    assert await resp.text() == "success"

    async def delivered() -> bool:
        return bool(await custom_sends(fake, "o_slow"))

    await wait_for(delivered)
    sent = await custom_sends(fake, "o_slow")
    assert len(sent) == 1 and "80元" in sent[0]
    row = (await bot.rows(select(InboundMessage).where(InboundMessage.openid == "o_slow")))[0][0]
    assert row.status == "deferred" and "80元" in row.reply
    assert await bot.scalar(select(Follower.window_sends).where(Follower.openid == "o_slow")) == 1

    # WeChat's retry of the same message: "success" again, no second run, no second send
    resp = await bot.post(xml)
    assert await resp.text() == "success"
    assert responder.calls == 1
    assert len(await custom_sends(fake, "o_slow")) == 1


async def test_retry_during_slow_first_delivery_gets_success(make_bot, fake):
    responder = CountingResponder(delay_s=0.8)
    bot = await make_bot(responder=responder, reply_budget_s=0.3)
    xml = fresh(samples.TEXT, openid="o_slow2", content="陵川县低保户交多少")
    first = asyncio.create_task(bot.post(xml))
    await asyncio.sleep(0.1)
    second = await bot.post(xml)
    assert await second.text() == "success"
    assert await (await first).text() == "success"

    async def delivered() -> bool:
        return bool(await custom_sends(fake, "o_slow2"))

    await wait_for(delivered)
    assert responder.calls == 1


async def test_late_answer_refused_by_wechat_is_logged_not_fatal(make_bot, fake, caplog):
    responder = CountingResponder(delay_s=0.4)
    bot = await make_bot(responder=responder, reply_budget_s=0.1)
    async with bot.client.session.post(
        str(fake.make_url("/_fake/inject")), json={"endpoint": "custom/send", "errcode": 45015, "times": 5}
    ) as r:
        assert r.status == 200
    resp = await bot.post(fresh(samples.TEXT, openid="o_window", content="交多少钱"))
    assert await resp.text() == "success"

    async def refused() -> bool:
        return any(c.get("errcode") == 45015 for c in fake_state(fake).calls)

    await wait_for(refused)
    await asyncio.sleep(0.1)
    assert any("late answer not delivered" in r.getMessage() for r in caplog.records)
    responder.delay_s = 0
    assert "80元" in await bot.ask(fresh(samples.TEXT, openid="o_window", content="陵川县低保户交多少"))


async def test_slow_and_failed_answers_are_logged_without_the_openid(make_bot, caplog):
    """An event's dedupe key holds the follower's openid: the logs name the event by kind and time."""
    responder = CountingResponder(delay_s=0.4, fail=True)
    bot = await make_bot(responder=responder, reply_budget_s=0.1)
    with caplog.at_level(logging.INFO):
        resp = await bot.post(fresh(samples.CLICK, openid="o_private_click", key="FEE"))
        assert await resp.text() == "success"  # too slow: to be sent later, and then it fails
        await asyncio.sleep(0.6)
        responder.delay_s = 0
        resp = await bot.post(fresh(samples.CLICK, openid="o_private_click", key="FEE"))
        assert resp.status == 500  # fails at once
    # the test server's own access log aside (`yibao serve` logs no query: tests/wechat/test_edge.py)
    logged = "\n".join(line for line in caplog.text.splitlines() if "aiohttp.access" not in line)
    assert "not answered within" in logged and "answering failed" in logged and "event:click@" in logged
    assert "o_private_click" not in logged


async def test_failed_processing_is_500_and_the_retry_runs_afresh(make_bot):
    responder = CountingResponder(fail=True)
    bot = await make_bot(responder=responder)
    xml = fresh(samples.TEXT, openid="o_fail", content="陵川县低保户交多少")
    resp = await bot.post(xml)
    assert resp.status == 500
    responder.fail = False
    assert "80元" in await bot.ask(xml)
    assert responder.calls == 2


async def test_a_bound_followers_payment_status_is_answered_once_and_retried_identically(bot):
    """An answer read from the roster, within the message's handling: a retry gets the stored reply."""
    async with bot.app[SESSIONS].begin() as session:
        session.add(Resident(id=41, id_hmac="f" * 64, id_masked="1405**********0000", name="张三",
                             county="陵川县", township="礼义镇"))
        await session.flush()
        session.add(Follower(openid="o_status", county="陵川县", resident_id=41, state={}))
    xml = fresh(samples.TEXT, openid="o_status", content="我交了吗")
    first = await bot.ask(xml)
    assert first and "张三" in first
    assert await bot.ask(xml) == first
    assert await bot.conversation("o_status") == [("in", "我交了吗", first)]


async def test_sqlite_lock_held_elsewhere_does_not_block_the_event_loop(make_bot, settings):
    """Another process holding SQLite's write lock delays the answer, not the server."""
    if not settings.is_sqlite:
        pytest.skip("SQLite only")
    bot = await make_bot()
    assert "80元" in await bot.ask(fresh(samples.TEXT, content="陵川县低保户交多少"))  # schema in place
    path = settings.database_url.split(":///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. a large import in another process
    try:
        answer = asyncio.create_task(bot.ask(fresh(samples.TEXT, content="陵川县低保户交多少")))
        await asyncio.sleep(0.3)
        assert not answer.done()
        started = time.monotonic()
        resp = await bot.client.get("/healthz")  # the loop still serves
        assert resp.status == 200 and time.monotonic() - started < 0.5
    finally:
        other.execute("COMMIT")
        other.close()
    assert "80元" in await answer


class LongResponder:
    """The real pipeline's reply, made longer than WeChat's 2,048 bytes (as a full channels list could be)."""

    async def __call__(self, text, ctx):
        reply = await respond(text, ctx)
        lines = [f"{i + 1}. {line}" for i, line in enumerate(reply.text.splitlines() * 12)]
        return replace(reply, text="\n".join(lines))


async def test_an_answer_over_wechats_size_limit_goes_out_in_parts_in_order(make_bot, fake):
    bot = await make_bot(responder=LongResponder())
    xml = fresh(samples.TEXT, openid="o_long", content="陵川县低保户交多少")
    resp = await bot.post(xml)
    assert await resp.text() == "success"  # WeChat drops a passive reply over 2,048 bytes

    async def delivered() -> bool:
        return len(await custom_sends(fake, "o_long")) >= 2

    await wait_for(delivered)
    await asyncio.sleep(0.2)
    sent = await custom_sends(fake, "o_long")
    assert all(len(part.encode()) <= MAX_TEXT_BYTES for part in sent)
    whole = "\n".join(sent)
    assert whole.startswith("1. ") and "80元" in whole
    numbers = [int(line.split(".")[0]) for line in whole.splitlines()]
    assert numbers == list(range(1, len(numbers) + 1))  # every line, in order, none lost
    assert await bot.scalar(select(Follower.window_sends).where(Follower.openid == "o_long")) == len(sent)

    resp = await bot.post(xml)  # WeChat's retry: "success", nothing sent again
    assert await resp.text() == "success"
    await asyncio.sleep(0.2)
    assert len(await custom_sends(fake, "o_long")) == len(sent)
