"""The fast path: a message whose answer needs no database is answered before it is claimed, then claimed
and completed in one write. Retries, from this worker or another, still get the one reply, and the side
effects happen once. Binding and payment status questions are claimed first."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from bot.app import SESSIONS, WEBHOOK_STORE
from bot.config import TZ
from bot.pipeline import ANSWERS
from bot.store import followers
from bot.store.models import Follower, InboundMessage, MessageLog, Resident
from bot.wechat import dedupe
from bot.wechat.message_log import log_row
from tests.wechat import samples
from tests.wechat.samples import fresh

QUESTION = "陵川县低保户交多少"
NOW = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)


async def warm(bot, question: str = QUESTION) -> str:
    """Ask once from another follower, so the answer is in the cache."""
    reply = await bot.ask(fresh(samples.TEXT, openid="o_warm", content=question))
    assert reply and "80元" in reply
    return reply


def count_calls(store) -> dict[str, int]:
    calls = {"arrive": 0, "settle": 0}

    def counting(name: str):
        real = getattr(store, name)

        def counted(*args):
            calls[name] += 1
            return real(*args)

        return counted

    for name in calls:
        setattr(store, name, counting(name))
    return calls


async def test_a_known_answer_is_claimed_and_completed_at_once(bot):
    expected = await warm(bot)
    calls = count_calls(bot.app[WEBHOOK_STORE])
    hits = ANSWERS.hits
    xml = fresh(samples.TEXT, openid="o_fast", content=QUESTION)
    assert await bot.ask(xml) == expected
    assert ANSWERS.hits == hits + 1
    assert calls == {"arrive": 0, "settle": 1}  # one write for the message
    seen = (await bot.rows(select(InboundMessage).where(InboundMessage.openid == "o_fast")))[0][0]
    assert (seen.status, seen.reply) == (dedupe.DONE, expected)
    follower = (await bot.rows(select(Follower).where(Follower.openid == "o_fast")))[0][0]
    assert follower.last_message_at is not None and follower.window_sends == 0
    assert await bot.conversation("o_fast") == [("in", QUESTION, expected)]

    # WeChat's retries of it: the same reply, nothing written again
    for _ in range(2):
        assert await bot.ask(xml) == expected
    assert await bot.conversation("o_fast") == [("in", QUESTION, expected)]
    assert len(await bot.rows(select(InboundMessage.key).where(InboundMessage.openid == "o_fast"))) == 1


async def test_concurrent_deliveries_of_a_known_answer_settle_once(bot):
    expected = await warm(bot)
    xml = fresh(samples.TEXT, openid="o_race_fast", content=QUESTION)
    replies = await asyncio.gather(*(bot.ask(xml) for _ in range(4)))
    assert replies == [expected] * 4
    assert await bot.conversation("o_race_fast") == [("in", QUESTION, expected)]


async def test_a_question_the_cache_does_not_know_takes_the_fast_path_too(bot):
    ANSWERS.clear()
    calls = count_calls(bot.app[WEBHOOK_STORE])
    xml = fresh(samples.TEXT, openid="o_cold", content="乐至县低保户交多少")
    first = await bot.ask(xml)
    assert first and "乐至县" in first
    assert ANSWERS.hits == 0 and len(ANSWERS) == 1  # answered by the pipeline, and kept
    assert calls == {"arrive": 0, "settle": 1}
    assert await bot.ask(xml) == first  # the retry: the stored reply, not a second answer
    assert await bot.conversation("o_cold") == [("in", "乐至县低保户交多少", first)]


async def test_a_question_on_the_followers_own_payment_is_claimed_first(bot):
    async with bot.app[SESSIONS].begin() as session:
        session.add(Resident(id=41, id_hmac="f" * 64, id_masked="1405**********0000", name="张三",
                             county="陵川县", township="礼义镇"))
        await session.flush()
        session.add(Follower(openid="o_status", county="陵川县", resident_id=41, state={}))
    calls = count_calls(bot.app[WEBHOOK_STORE])
    xml = fresh(samples.TEXT, openid="o_status", content="我交了吗")
    first = await bot.ask(xml)
    assert first and "张三" in first
    assert calls == {"arrive": 1, "settle": 0}  # the roster is read: claimed first, then answered
    assert await bot.ask(xml) == first
    assert await bot.conversation("o_status") == [("in", "我交了吗", first)]

    # an unbound follower is told to bind, which needs no database: the fast path
    calls.update(arrive=0, settle=0)
    assert "绑定" in await bot.ask(fresh(samples.TEXT, openid="o_unbound", content="我交了吗"))
    assert calls == {"arrive": 0, "settle": 1}


async def test_events_take_the_fast_path_too(bot):
    xml = fresh(samples.SUBSCRIBE, openid="o_sub_fast")
    welcome = await bot.ask(xml)
    assert welcome
    assert await bot.ask(xml) == welcome
    follower = (await bot.rows(select(Follower).where(Follower.openid == "o_sub_fast")))[0][0]
    assert follower.subscribed and follower.subscribed_at is not None


async def test_a_settle_that_loses_the_claim_writes_nothing(bot):
    store = bot.app[WEBHOOK_STORE]
    rows = [log_row("o_lost", "in", "text", "x", NOW)]
    write = followers.touch_write("o_lost", NOW, user_message=True)
    assert await store.settle("msg:lost", "o_lost", NOW, "first", [write], rows) is True
    assert await store.settle("msg:lost", "o_lost", NOW, "second", [write], rows) is False
    # and against a delivery that claimed it the slow way
    assert await store.arrive("msg:claimed", "o_lost", NOW) is not None
    assert await store.settle("msg:claimed", "o_lost", NOW, "third", [write], rows) is False
    assert await store.arrive("msg:lost", "o_lost", NOW) is None  # settled: a retry
    seen = (await bot.rows(select(InboundMessage).where(InboundMessage.key == "msg:lost")))[0][0]
    assert (seen.status, seen.reply) == (dedupe.DONE, "first")
    assert len(await bot.rows(select(MessageLog.id).where(MessageLog.openid == "o_lost"))) == 1


async def test_two_settles_of_one_key_in_one_batch(bot):
    store = bot.app[WEBHOOK_STORE]
    rows = [log_row("o_twice", "in", "text", "x", NOW)]
    results = await asyncio.gather(*(store.settle("msg:twice", "o_twice", NOW, f"r{i}", [], rows) for i in range(3)))
    assert sorted(results) == [False, False, True]
    assert len(await bot.rows(select(MessageLog.id).where(MessageLog.openid == "o_twice"))) == 1


async def test_a_conversation_does_not_rewrite_the_followers_timestamps_every_message(make_bot):
    """Within TOUCH_INTERVAL_S of the stored timestamps, a message that changes nothing else writes no
    follower row; after it, or after a customer-service send used the window, it does."""
    now = [NOW]
    bot = await make_bot(clock=lambda: now[0])
    sessions = bot.app[SESSIONS]

    async def stored() -> tuple:
        f = (await bot.rows(select(Follower).where(Follower.openid == "o_talk")))[0][0]
        return f.last_interaction_at, f.last_message_at, f.window_sends, f.county

    async def say(text: str, after_s: float) -> None:
        now[0] = now[0] + dt.timedelta(seconds=after_s)
        assert await bot.ask(fresh(samples.TEXT, openid="o_talk", content=text))

    await say(QUESTION, 0)
    assert await stored() == (NOW, NOW, 0, None)  # a new follower: written
    await say(QUESTION, 30)
    assert await stored() == (NOW, NOW, 0, None)  # 30 s later: the stored times are fresh enough
    await say("我是陵川县的", 10)
    later = NOW + dt.timedelta(seconds=40)
    assert await stored() == (later, later, 0, "陵川县")  # a change: written, with the times
    await say(QUESTION, followers.TOUCH_INTERVAL_S + 1)
    latest = now[0]
    assert await stored() == (latest, latest, 0, "陵川县")  # stale: written again
    async with sessions.begin() as session:
        await followers.count_window_send(session, "o_talk")  # a customer-service message went out
    await say(QUESTION, 1)
    assert await stored() == (now[0], now[0], 0, "陵川县")  # a user message reopens the window at once
