"""The webhook store's plain-SQL statements (bot/wechat/sql.py): what they write is what SQLAlchemy would
have written and reads back; follower writes apply in order and only the fields that changed; SQLite's
checkpoints restart the WAL."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import TZ, Settings
from bot.pipeline import Speaker
from bot.store import followers
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Follower, InboundMessage, MessageLog, Resident
from bot.store.schema import ensure_schema
from bot.wechat import dedupe, sql
from bot.wechat import store as store_module
from bot.wechat.message_log import log_row
from bot.wechat.store import WebhookStore

NOW = dt.datetime(2024, 11, 20, 10, 0, 0, 123456, tzinfo=TZ)
LATER = NOW + dt.timedelta(minutes=1)


@dataclass
class Env:
    store: WebhookStore
    engine: AsyncEngine
    sessions: async_sessionmaker

    async def follower(self, openid: str) -> Follower | None:
        async with self.sessions() as session:
            return await session.get(Follower, openid)


@pytest.fixture
async def env(database_url: str) -> AsyncIterator[Env]:
    settings = Settings(database_url=database_url)
    engine = make_engine(settings)
    await ensure_schema(engine)
    store = WebhookStore(settings, engine)
    store.start()
    yield Env(store, engine, make_sessionmaker(engine))
    await store.close()
    await engine.dispose()


async def test_a_new_follower_gets_the_model_defaults_and_reads_back(env):
    await env.store.arrive("msg:d1", "o_new", NOW)
    after = Speaker(openid="o_new", region="陵川县", township="礼义镇", state={"pending": "交多少钱"})
    rows = [log_row("o_new", "in", "text", "交多少钱", NOW), log_row("o_new", "out", "text", "答", LATER, "fee")]
    await env.store.complete("msg:d1", dedupe.DONE, "答", [followers.speaker_write(after, NOW)], rows)
    f = await env.follower("o_new")
    assert (f.county, f.township, f.resident_id, f.state) == ("陵川县", "礼义镇", None, {"pending": "交多少钱"})
    assert (f.subscribed, f.unreachable, f.window_sends) == (True, False, 0)
    assert f.last_interaction_at == NOW and f.last_message_at == NOW
    assert f.last_interaction_at.tzinfo is not None
    await env.store.flush_logs()
    async with env.sessions() as session:
        seen = await session.get(InboundMessage, "msg:d1")
        logged = (await session.execute(select(MessageLog).order_by(MessageLog.id))).scalars().all()
    assert (seen.openid, seen.status, seen.reply, seen.received_at) == ("o_new", dedupe.DONE, "答", NOW)
    assert [(m.direction, m.content, m.intent, m.created_at) for m in logged] == [
        ("in", "交多少钱", None, NOW), ("out", "答", "fee", LATER)
    ]


async def test_sqlite_times_are_stored_as_sqlalchemy_stores_them(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 't.sqlite3'}"
    engine = make_engine(Settings(database_url=url))
    await ensure_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(insert(InboundMessage).values(key="k", openid="o", received_at=NOW, status="done"))
    await engine.dispose()
    raw = sqlite3.connect(tmp_path / "t.sqlite3")
    stored = raw.execute("SELECT received_at FROM inbound_messages WHERE key = 'k'").fetchone()[0]
    raw.close()
    assert sql.sqlite_time(NOW) == stored
    assert sql.sqlite_time(NOW.astimezone(dt.UTC)) == stored
    with pytest.raises(ValueError):
        sql.sqlite_time(dt.datetime(2024, 11, 20, 10, 0))  # naive


async def test_the_stored_follower_comes_back_as_the_speaker(env):
    async with env.sessions() as session, session.begin():
        session.add(Follower(openid="o_back", county="罗山县", township="铁铺镇", state={"binding": "awaiting"}))
    speaker = await env.store.arrive("msg:b1", "o_back", NOW)
    assert speaker == Speaker(openid="o_back", region="罗山县", township="铁铺镇", state={"binding": "awaiting"})


async def test_only_the_changed_fields_are_written_so_a_change_made_meanwhile_stays(env):
    async with env.sessions() as session, session.begin():
        session.add(Resident(id=7, id_hmac="h" * 64, id_masked="1405**********0000", name="张三",
                             county="陵川县", township="礼义镇"))
        await session.flush()
        session.add(Follower(openid="o_mid", county="陵川县", state={}, window_sends=2))
    loaded = await env.store.arrive("msg:m1", "o_mid", NOW)
    async with env.sessions() as session, session.begin():  # e.g. a binding finished by another message
        await session.execute(update(Follower).where(Follower.openid == "o_mid").values(resident_id=7))
    # this message changed nothing of the speaker's: only the timestamps and the window are written
    write = followers.speaker_write(loaded, NOW, before=loaded)
    assert write.update == ("last_interaction_at", "last_message_at", "window_sends")
    await env.store.complete("msg:m1", dedupe.DONE, "答", [write])
    f = await env.follower("o_mid")
    assert (f.resident_id, f.county, f.window_sends, f.last_message_at) == (7, "陵川县", 0, NOW)

    # a change of region is written, and only that
    moved = Speaker(openid="o_mid", region="罗山县", state={})
    await env.store.arrive("msg:m2", "o_mid", LATER)
    write = followers.speaker_write(moved, LATER, before=loaded)
    assert write.update == ("county", "last_interaction_at", "last_message_at", "window_sends")
    await env.store.complete("msg:m2", dedupe.DONE, "答", [write])
    f = await env.follower("o_mid")
    assert (f.resident_id, f.county, f.last_message_at) == (7, "罗山县", LATER)


async def test_writes_for_one_follower_in_one_batch_apply_in_order(env):
    await env.store.arrive("msg:o1", "o_two", NOW)
    await env.store.arrive("msg:o2", "o_two", NOW)
    blank = Speaker(openid="o_two")
    first = followers.speaker_write(Speaker(openid="o_two", region="陵川县", state={"pending": "x"}), NOW,
                                    before=blank)
    second = followers.speaker_write(Speaker(openid="o_two"), LATER, before=blank)  # changed nothing
    menu = followers.touch_write("o_two", LATER + dt.timedelta(seconds=1))
    # one completion with all three, so they share a batch and a transaction
    await env.store.complete("msg:o1", dedupe.DONE, "答", [first, second, menu])
    f = await env.follower("o_two")
    assert (f.county, f.state) == ("陵川县", {"pending": "x"})  # the second did not undo the first
    assert f.last_message_at == LATER
    assert f.last_interaction_at == LATER + dt.timedelta(seconds=1)


def test_runs_cut_writes_by_kind_in_order():
    a = followers.touch_write("o1", NOW)
    b = followers.speaker_write(Speaker(openid="o2"), NOW)
    c = followers.touch_write("o3", NOW)
    assert followers.runs([a, c, b, a]) == [[a, c], [b], [a]]
    # distinct followers: one run per kind, whatever the order
    assert followers.runs([a, b, c]) == [[a, c], [b]]


async def test_sqlite_checkpoints_restart_the_wal(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "CHECKPOINT_INTERVAL_S", 0.0)
    path = tmp_path / "wal.sqlite3"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{path}")
    engine = make_engine(settings)
    await ensure_schema(engine)
    await engine.dispose()
    backend = store_module._SQLite(settings)

    wal = tmp_path / "wal.sqlite3-wal"

    def write(n: int, start: int) -> None:
        ops = [store_module._Arrival(f"msg:w{start + i}", f"o{i}", NOW, None) for i in range(n)]
        backend.run(backend.prepare(ops, [log_row(f"o{i}", "in", "text", "x" * 500, NOW) for i in range(n)]))

    checkpoint = backend._checkpoint

    def racing(mode: str) -> float:
        """Under load the writer keeps appending during the PASSIVE rounds, which then never complete: as if
        they had copied nothing (quickly)."""
        return checkpoint(mode) if mode != "PASSIVE" else 0.0

    backend._checkpoint = racing
    try:
        write(300, 0)
        size = wal.stat().st_size
        write(300, 1000)
        assert wal.stat().st_size > 1.5 * size  # no automatic checkpoint on this connection: it grows
        await backend.before_batch()  # starts the bulk of the checkpoint in a thread
        assert backend._bulk is not None
        await backend._bulk
        await backend.before_batch()  # a short round: finishes it, this writer paused
        grown = wal.stat().st_size
        write(300, 2000)
        assert wal.stat().st_size == grown  # written from the WAL's beginning again, not appended
    finally:
        await backend.close()


async def test_many_deliveries_at_once_claim_each_key_once(env, monkeypatch):
    """Enough at once for many batches (on PostgreSQL, several in flight): every key is claimed by one
    delivery, by settle or by arrive, and only its writes count."""
    monkeypatch.setattr(store_module, "MAX_BATCH", 16)
    rows = lambda i: [log_row(f"o_many{i}", "in", "text", "x", NOW)]  # noqa: E731
    settles = [env.store.settle(f"msg:many{i % 150}", f"o_many{i % 150}", NOW, "r", [], rows(i % 150))
               for i in range(300)]
    arrivals = [env.store.arrive(f"msg:many{i}", f"o_many{i}", NOW) for i in range(0, 150, 3)]
    results = await asyncio.gather(*settles, *arrivals)
    won = [i for i, ok in enumerate(results[:300]) if ok is True]
    claimed = [r for r in results[300:] if r is not None]
    assert len(won) + len(claimed) == 150
    assert len({i % 150 for i in won}) == len(won)
    await env.store.flush_logs()
    async with env.sessions() as session:
        logged = (await session.execute(select(MessageLog.openid))).scalars().all()
        keys = (await session.execute(select(InboundMessage.key))).scalars().all()
    assert len(keys) == 150
    assert sorted(logged) == sorted(f"o_many{i % 150}" for i in won)


async def test_long_checkpoint_rounds_are_followed_by_more_before_the_writer_pauses(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "CHECKPOINT_INTERVAL_S", 0.0)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rounds.sqlite3'}")
    engine = make_engine(settings)
    await ensure_schema(engine)
    await engine.dispose()
    backend = store_module._SQLite(settings)
    modes: list[str] = []

    def slow(mode: str) -> float:
        modes.append(mode)
        return 1.0  # as if each round had had a lot to copy

    backend._checkpoint = slow
    backend.written = True
    try:
        await backend.before_batch()
        while backend._bulk is not None:
            await backend._bulk
            await backend.before_batch()
        assert modes == ["PASSIVE"] * store_module.CHECKPOINT_ROUNDS + ["RESTART"]
        assert not backend.written
    finally:
        await backend.close()


@pytest.mark.parametrize("user_message", [True, False])
def test_unchanged_is_needless_without_building_the_write(user_message):
    """The webhook skips building a write the store would skip anyway: the two rules agree everywhere."""
    before = Speaker(openid="o1", region="陵川县", state={"pending": "x"})
    afters = [before, Speaker(openid="o1", region="罗山县", state={"pending": "x"}),
              Speaker(openid="o1", region="陵川县")]
    for fresh in (followers.STALE, followers.Fresh(True, False), followers.Fresh(True, True)):
        for after in afters:
            write = followers.speaker_write(after, NOW, user_message=user_message, before=before)
            assert followers.unchanged(before, after, fresh, user_message=user_message) == followers.needless(
                write, fresh
            ), (fresh, after)
