"""The inbox's store: claims, completions in shared transactions, isolation of a bad message, two workers on
one SQLite file. (SQLite lock waits off the event loop, through the webhook: tests/wechat/test_retries.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import TZ, Settings
from bot.store import followers
from bot.store.db import make_engine
from bot.store.inbox import DONE, InboxStore, Seen, log_row, lookup
from bot.store.models import Follower, InboundMessage, MessageLog
from bot.store.schema import ensure_schema
from bot.types import Speaker

NOW = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)


@dataclass
class Env:
    store: InboxStore
    engine: AsyncEngine  # for the assertions

    async def count(self, model, *where) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(model).where(*where))).scalar()


@pytest.fixture
async def env(engine: AsyncEngine) -> AsyncIterator[Env]:
    """An inbox store on tests/conftest.py's database (SQLite and PostgreSQL)."""
    store = InboxStore(engine)
    store.start()
    yield Env(store, engine)
    await store.close()


@contextlib.asynccontextmanager
async def file_store(path: Path) -> AsyncIterator[InboxStore]:
    """An inbox store on a SQLite file of its own (the connection that runs on the loop, its checkpoints)."""
    engine = make_engine(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
    await ensure_schema(engine)
    store = InboxStore(engine)
    store.start()
    try:
        yield store
    finally:
        await store.close()
        await engine.dispose()


async def test_first_delivery_claims_and_a_retry_does_not(env):
    speaker = await env.store.claim("msg:1", "o1", NOW)
    assert speaker == Speaker(openid="o1")
    assert await env.store.claim("msg:1", "o1", NOW) is None


async def test_the_same_key_twice_in_one_batch(env):
    results = await asyncio.gather(*(env.store.claim("msg:2", "o2", NOW) for _ in range(5)))
    assert sum(r is not None for r in results) == 1


async def test_completion_saves_follower_reply_and_log(env):
    store = env.store
    await store.claim("msg:3", "o3", NOW)
    after = Speaker(openid="o3", region="陵川县", township="礼义镇", state={"pending": "交多少钱"})
    rows = [log_row("o3", "in", "text", "电话13812345678", NOW), log_row("o3", "out", "text", "答", NOW)]
    await store.finish("msg:3", DONE, "答", [followers.speaker_write(after, NOW)], rows)
    # the next message of the follower sees the saved state
    speaker = await store.claim("msg:4", "o3", NOW)
    assert (speaker.region, speaker.township, speaker.state) == ("陵川县", "礼义镇", {"pending": "交多少钱"})
    async with env.engine.connect() as conn:
        seen = await lookup(conn, "msg:3")
        logged = (await conn.execute(select(MessageLog.content).order_by(MessageLog.id))).scalars().all()
    assert seen == Seen(DONE, "答")
    assert logged == ["电话138****5678", "答"]


async def test_one_bad_message_does_not_fail_its_batch(env):
    store = env.store
    bad = followers.speaker_write(Speaker(openid="o5", resident_id=987654321), NOW)  # no such resident
    await store.claim("msg:5", "o5", NOW)
    results = await asyncio.gather(
        store.finish("msg:5", DONE, "x", [bad]),
        store.claim("msg:6", "o6", NOW),
        return_exceptions=True,
    )
    assert isinstance(results[0], Exception)
    assert results[1] == Speaker(openid="o6")
    assert await env.count(InboundMessage, InboundMessage.key == "msg:6") == 1
    assert await env.count(Follower, Follower.openid == "o5") == 0


async def test_two_workers_on_one_sqlite_file_claim_each_key_once(tmp_path):
    """Two stores on one SQLite file, each with its own engine, as two workers of `yibao serve --workers 2`:
    SQLite's lock (with its busy timeout) keeps them apart; every key is claimed by one delivery."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'workers.sqlite3'}")
    engines = [make_engine(settings) for _ in range(2)]
    await ensure_schema(engines[0])
    stores = [InboxStore(engine) for engine in engines]
    for store in stores:
        store.start()
    results = await asyncio.gather(*(stores[i % 2].claim(f"msg:w{i // 2}", "o_w", NOW) for i in range(200)))
    assert sum(r is not None for r in results) == 100
    for store, engine in zip(stores, engines, strict=True):
        await store.close()
        await engine.dispose()


async def test_close_writes_what_is_queued(database_url):
    engine = make_engine(Settings(database_url=database_url))
    await ensure_schema(engine)
    store = InboxStore(engine)
    store.start()
    claim = asyncio.create_task(store.claim("msg:c", "o8", NOW))
    await asyncio.sleep(0)
    await store.close()
    assert await claim == Speaker(openid="o8")
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(InboundMessage))).scalar() == 1
    await engine.dispose()


async def checkpointed(store) -> None:
    """Until the store's own checkpoint has covered every write so far. Under load its thread lags behind the
    writes (a checkpoint that began before the last batch leaves that batch's frames, and SQLite rewinds the
    WAL only once every frame is copied back: a loaded CI run grew it to 1.9 MB). So: let the running one end,
    write once more with none running (the store starts one after that write, covering all), let that one end."""
    while store._checkpoint is not None:
        await asyncio.sleep(0.001)
    await store.claim(f"msg:lull{id(store)}-{asyncio.get_running_loop().time()}", "o_lull", NOW)
    assert store._checkpoint is not None, "the store started no checkpoint after a write"
    while store._checkpoint is not None:
        await asyncio.sleep(0.001)


async def test_the_wal_is_checkpointed_off_the_loop_and_does_not_grow(tmp_path, monkeypatch):
    """The store's own connection never checkpoints (a checkpoint's fsync would stall the event loop); its
    PASSIVE checkpoints on a thread keep the WAL from growing without end."""
    from bot.store import inbox

    monkeypatch.setattr(inbox, "CHECKPOINT_EVERY_S", 0.0)
    path = tmp_path / "wal.sqlite3"
    async with file_store(path) as store:
        for batch in range(300):
            await asyncio.gather(*(store.claim(f"msg:wal{batch}-{i}", f"o_wal{i}", NOW) for i in range(10)))
            if batch % 10 == 9:  # a lull in the load, however busy the machine is: a checkpoint that starts
                await checkpointed(store)  # after the last write and ends before the next lets the WAL rewind
        wal = path.with_name(path.name + "-wal").stat().st_size
    assert wal < 1_000_000, f"the WAL grew to {wal} bytes"


async def test_a_database_locked_past_the_give_up_fails_the_batch_once(tmp_path, monkeypatch):
    """A lock held longer than the store waits (a large import in another process): the batch's messages fail
    together once, and are not tried again one by one, each waiting as long again (a batch of 20 would stall
    its webhook requests for 20 times the wait). Once the lock is gone, claims succeed again."""
    import sqlite3
    import time

    from bot.store import inbox

    monkeypatch.setattr(inbox, "LOCKED_GIVE_UP_S", 0.3)
    path = tmp_path / "locked.sqlite3"
    async with file_store(path) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        results = await asyncio.gather(*(store.claim(f"msg:l{i}", f"o_l{i}", NOW) for i in range(8)),
                                       return_exceptions=True)
        waited = time.monotonic() - started
        other.execute("ROLLBACK")
        other.close()
        assert all(isinstance(r, Exception) and "locked" in str(r) for r in results), results
        assert waited < 1.5, f"the batch waited {waited:.1f} s: its messages were tried one by one"
        assert await store.claim("msg:after", "o_after", NOW) == Speaker(openid="o_after")
