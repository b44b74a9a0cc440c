"""The webhook's batching store: shared transactions, isolation of a bad operation, SQLite lock waits."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import TZ, Settings
from bot.pipeline import Speaker
from bot.store import followers
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Follower, InboundMessage, MessageLog
from bot.store.schema import ensure_schema
from bot.wechat import dedupe, sql
from bot.wechat import store as store_module
from bot.wechat.message_log import log_row
from bot.wechat.store import WebhookStore
from tests.wechat import samples
from tests.wechat.samples import fresh

NOW = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)
LATER = NOW + dt.timedelta(minutes=5)


@dataclass
class Env:
    store: WebhookStore
    sessions: async_sessionmaker  # for the assertions

    async def count(self, model, *where) -> int:
        await self.store.flush_logs()
        async with self.sessions() as session:
            return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar()


@pytest.fixture
async def env(database_url: str) -> AsyncIterator[Env]:
    settings = Settings(database_url=database_url)
    engine = make_engine(settings)
    await ensure_schema(engine)
    store = WebhookStore(settings, engine)
    store.start()
    yield Env(store, make_sessionmaker(engine))
    await store.close()
    await engine.dispose()


async def test_first_delivery_claims_and_a_retry_does_not(env):
    speaker = await env.store.arrive("msg:1", "o1", NOW)
    assert speaker == Speaker(openid="o1")
    assert await env.store.arrive("msg:1", "o1", NOW) is None


async def test_the_same_key_twice_in_one_batch(env):
    results = await asyncio.gather(*(env.store.arrive("msg:2", "o2", NOW) for _ in range(5)))
    assert sum(r is not None for r in results) == 1


async def test_completion_saves_follower_reply_and_log(env):
    store = env.store
    await store.arrive("msg:3", "o3", NOW)
    after = Speaker(openid="o3", region="陵川县", township="礼义镇", state={"pending": "交多少钱"})
    rows = [log_row("o3", "in", "text", "电话13812345678", NOW), log_row("o3", "out", "text", "答", NOW)]
    await store.complete("msg:3", dedupe.DONE, "答", [followers.speaker_write(after, NOW)], rows)
    # the next message of the follower sees the saved state
    speaker = await store.arrive("msg:4", "o3", NOW)
    assert (speaker.region, speaker.township, speaker.state) == ("陵川县", "礼义镇", {"pending": "交多少钱"})
    await store.flush_logs()
    async with env.sessions() as session:
        seen = await dedupe.lookup(session, "msg:3")
        logged = (await session.execute(select(MessageLog.content).order_by(MessageLog.id))).scalars().all()
    assert seen == dedupe.Seen(dedupe.DONE, "答")
    assert logged == ["电话138****5678", "答"]


async def test_a_peek_sees_what_another_connection_wrote(env, monkeypatch):
    """The SQLite store remembers followers' rows between messages; a write by any other connection (a
    binding through SQLAlchemy, another worker) makes it read them again."""
    store = env.store
    later = NOW + dt.timedelta(seconds=5)
    await store.arrive("msg:m1", "o_memo", NOW)
    await store.complete("msg:m1", dedupe.DONE, "答", [followers.touch_write("o_memo", NOW, user_message=True)])
    seen, speaker, fresh = await store.peek("msg:m2", "o_memo", later)
    assert (seen, speaker.region, fresh) == (None, None, followers.Fresh(True, True))
    async with env.sessions.begin() as session:
        await session.execute(update(Follower).where(Follower.openid == "o_memo").values(county="罗山县"))
        await followers.count_window_send(session, "o_memo")
    await asyncio.sleep(2 * store_module.MEMO_RECHECK_S)
    _, speaker, fresh = await store.peek("msg:m2", "o_memo", later)
    assert (speaker.region, fresh) == ("罗山县", followers.Fresh(True, False))
    # its own writes too: the state saved with a completion is what the next message sees
    await store.arrive("msg:m3", "o_memo", later)
    after = Speaker(openid="o_memo", region="罗山县", state={"pending": "交多少钱"})
    await store.complete("msg:m3", dedupe.DONE, "哪个县?", [followers.speaker_write(after, later)])
    _, speaker, _ = await store.peek("msg:m4", "o_memo", later)
    assert speaker.state == {"pending": "交多少钱"}


async def test_what_the_sqlite_store_remembers_is_what_is_stored(env):
    """After every kind of follower write, in batches, the rows the SQLite store remembers equal the rows
    read back from the database; a row another connection changed is forgotten."""
    store = env.store
    if not isinstance(store.backend, store_module._SQLite):
        pytest.skip("the PostgreSQL store remembers nothing")
    backend = store.backend
    rng = random.Random(7)
    openids = [f"o_r{i}" for i in range(12)]

    async def writes(steps: range) -> None:
        for step in steps:
            at = NOW + dt.timedelta(seconds=step * 7)
            ops = []
            for i in range(rng.randrange(1, 6)):
                openid = rng.choice(openids)
                kind = rng.randrange(5)
                if kind == 0:
                    write = followers.touch_write(openid, at, user_message=rng.random() < 0.5)
                elif kind == 1:
                    write = followers.subscribed_write(openid, at)
                elif kind == 2:
                    write = followers.unsubscribed_write(openid, at)
                else:
                    state = rng.choice([{}, {"pending": "交多少钱"}])
                    after = Speaker(openid=openid, region=rng.choice([None, "陵川县", "罗山县"]),
                                    township=rng.choice([None, "礼义镇"]), state=state)
                    before = Speaker(openid=openid) if kind == 4 else None
                    write = followers.speaker_write(after, at, user_message=kind == 3, before=before)
                ops.append(store.settle(f"msg:r{step}-{i}", openid, at, "答", [write], []))
            await asyncio.gather(*ops)

    def check() -> None:
        assert len(backend._memo) >= 8
        for openid, row in backend._memo.items():
            _, _, *stored = backend.conn.execute(sql.SQLITE_PEEK, ("msg:none", openid)).fetchone()
            assert row == tuple(stored), openid

    for openid in openids:
        await store.peek("msg:r", openid, NOW)  # remembered as they are: no row yet
    await writes(range(20))
    check()
    assert openids[0] in backend._memo
    remembered = len(backend._memo)
    async with env.sessions.begin() as session:  # another connection changes one follower
        await followers.count_window_send(session, openids[0])
    await asyncio.sleep(2 * store_module.MEMO_RECHECK_S)
    await store.peek("msg:r", openids[1], NOW)  # finds out: that one is forgotten, the others kept
    assert openids[0] not in backend._memo and len(backend._memo) == remembered - 1
    check()
    for openid in openids:
        await store.peek("msg:r", openid, NOW)
    await writes(range(20, 40))
    check()
    async with env.sessions.begin() as session:  # ... and the next batch finds out too
        await followers.count_window_send(session, openids[0])
    await store.settle("msg:r-last", openids[5], NOW, "答", [followers.touch_write(openids[5], NOW)], [])
    assert openids[0] not in backend._memo
    check()


async def test_a_store_that_missed_pruned_changes_forgets_everything(env, monkeypatch):
    store = env.store
    if not isinstance(store.backend, store_module._SQLite):
        pytest.skip("the PostgreSQL store remembers nothing")
    backend = store.backend
    for i in range(4):
        await store.peek(f"msg:p{i}", f"o_p{i}", NOW)
        await store.settle(f"msg:p{i}", f"o_p{i}", NOW, "答", [followers.touch_write(f"o_p{i}", NOW)], [])
    assert len(backend._memo) == 4
    async with env.sessions.begin() as session:  # another worker changes two followers and prunes
        for i in (0, 1):
            await followers.count_window_send(session, f"o_p{i}")
        await session.execute(text("DELETE FROM follower_changes WHERE seq < (SELECT max(seq) FROM follower_changes)"))
    await store.settle("msg:p9", "o_p9", NOW, "答", [], [])
    assert not backend._memo  # it cannot tell which changed (o_p1's change is still listed, o_p0's is not)
    # and its own pruning keeps CHANGES_KEPT rows
    monkeypatch.setattr(store_module, "PRUNE_EVERY", 1)
    monkeypatch.setattr(store_module, "CHANGES_KEPT", 2)
    await store.settle("msg:p10", "o_p2", NOW, "答", [followers.touch_write("o_p2", LATER)], [])
    async with env.sessions() as session:
        left = (await session.execute(text("SELECT count(*) FROM follower_changes"))).scalar()
    assert left == 2


async def test_a_remembered_follower_s_retry_still_gets_the_first_reply(env):
    store = env.store
    write = followers.touch_write("o_again", NOW, user_message=True)
    assert await store.settle("msg:a1", "o_again", NOW, None, [write], [])
    await store.peek("msg:a0", "o_again", NOW)  # remembered now
    assert await store.settle("msg:a2", "o_again", NOW, "第一次", [], [log_row("o_again", "in", "text", "x", NOW)])
    seen, _, _ = await store.peek("msg:a2", "o_again", NOW)
    # SQLite remembers the follower and reads nothing, so the retry is told by its settle, which loses
    sqlite = isinstance(store.backend, store_module._SQLite)
    assert seen == (None if sqlite else dedupe.Seen(dedupe.DONE, "第一次"))
    rows = [log_row("o_again", "in", "text", "x", NOW)]
    assert await store.settle("msg:a2", "o_again", NOW, "第二次", [], rows) is False
    async with env.sessions() as session:
        assert await dedupe.lookup(session, "msg:a2") == dedupe.Seen(dedupe.DONE, "第一次")
    assert await env.count(MessageLog, MessageLog.openid == "o_again") == 1


async def test_one_bad_operation_does_not_fail_its_batch(env):
    store = env.store
    bad = followers.speaker_write(Speaker(openid="o5", resident_id=987654321), NOW)  # no such resident
    await store.arrive("msg:5", "o5", NOW)
    results = await asyncio.gather(
        store.complete("msg:5", dedupe.DONE, "x", [bad]),
        store.arrive("msg:6", "o6", NOW),
        return_exceptions=True,
    )
    assert isinstance(results[0], Exception)
    assert results[1] == Speaker(openid="o6")
    assert await env.count(InboundMessage, InboundMessage.key == "msg:6") == 1
    assert await env.count(Follower, Follower.openid == "o5") == 0


async def test_log_rows_alone_are_written_soon(env, monkeypatch):
    monkeypatch.setattr(store_module, "LOG_INTERVAL_S", 0.2)
    env.store.log(log_row("o7", "out", "custom", "稍后的答复", NOW))
    await asyncio.sleep(0.6)
    async with env.sessions() as session:  # not env.count: that flushes
        assert (await session.execute(select(func.count()).select_from(MessageLog))).scalar() == 1


async def test_log_rows_of_answered_messages_follow_in_bulk(env, monkeypatch):
    """A message's reply is committed at once; its log rows follow with the next bulk write, and only for the
    delivery that claimed it."""
    monkeypatch.setattr(store_module, "LOG_INTERVAL_S", 60.0)
    store = env.store

    async def logged() -> int:
        async with env.sessions() as session:
            return (await session.execute(select(func.count()).select_from(MessageLog))).scalar()

    rows = [log_row("o9", "in", "text", "交多少钱", NOW), log_row("o9", "out", "text", "答", NOW)]
    assert await store.settle("msg:9", "o9", NOW, "答", [], rows) is True
    assert await store.settle("msg:9", "o9", NOW, "答", [], rows) is False  # a retry: nothing buffered
    assert await store.arrive("msg:10", "o9", NOW) is not None  # later batches run; the rows wait
    assert await logged() == 0
    await store.flush_logs()
    assert await logged() == 2
    monkeypatch.setattr(store_module, "MAX_LOG_ROWS", 4)  # ... or go as soon as there are enough
    for i in range(3):
        assert await store.settle(f"msg:b{i}", "o9", NOW, "答", [], rows)
    await store.arrive("msg:20", "o9", NOW)
    assert await logged() == 2 + 4  # the first four with the third settle's batch; its own two wait


async def test_workers_take_turns_by_their_shared_lock_and_do_without_a_lost_one(tmp_path, monkeypatch):
    """Two stores on one SQLite file, as two workers of `yibao serve --workers 2`: with their shared lock,
    every claim lands once; a lock nobody releases (a worker killed holding it) delays a batch by
    LOCK_WAIT_S, then it is done without."""
    import multiprocessing

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'workers.sqlite3'}")
    engine = make_engine(settings)
    await ensure_schema(engine)
    lock = multiprocessing.get_context("spawn").Lock()
    stores = [WebhookStore(settings, engine, lock) for _ in range(2)]
    for store in stores:
        store.start()
    results = await asyncio.gather(*(stores[i % 2].settle(f"msg:w{i // 2}", "o_w", NOW, "答", [], [])
                                     for i in range(200)))
    assert sum(results) == 100  # each key claimed by one of its two deliveries
    assert lock.acquire(False)  # free again
    monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.2)
    started = time.monotonic()
    assert await stores[0].settle("msg:w-late", "o_w", NOW, "答", [], []) is True
    assert 0.2 <= time.monotonic() - started < 5
    lock.release()
    for store in stores:
        await store.close()
    await engine.dispose()


async def test_close_writes_what_is_queued(database_url):
    settings = Settings(database_url=database_url)
    engine = make_engine(settings)
    await ensure_schema(engine)
    store = WebhookStore(settings, engine)
    store.start()
    store.log(log_row("o8", "out", "custom", "x", NOW))
    await store.close()
    async with make_sessionmaker(engine)() as session:
        assert (await session.execute(select(func.count()).select_from(MessageLog))).scalar() == 1
    await engine.dispose()


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
