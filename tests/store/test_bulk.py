"""`execute_many` (bot/store/db.py) writes what `conn.execute(stmt, rows)` writes, on SQLite and PostgreSQL:
the same types' conversions (timezone-aware datetimes as UTC, JSON, booleans) and the columns' defaults."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select

from bot.config import TZ
from bot.store.db import execute_many
from bot.store.followers import FollowerWrite, apply_writes
from bot.store.models import Follower, MessageLog

NOW = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)
_F = Follower.__table__
_LOG = MessageLog.__table__


def _rows(prefix: str) -> list[dict]:
    return [{"openid": f"{prefix}{i}", "county": "陵川县", "township": None, "resident_id": None,
             "state": {"pending": "交多少钱"} if i else {}, "last_interaction_at": NOW + dt.timedelta(minutes=i),
             "subscribed": True} for i in range(3)]


async def test_execute_many_writes_what_core_writes(engine):
    async with engine.begin() as conn:
        await conn.execute(insert(_F), _rows("core"))
        await conn.run_sync(execute_many, insert(_F), _rows("bulk"))
        got = {row.openid: row for row in (await conn.execute(select(_F))).all()}
    for i in range(3):
        core, bulk = got[f"core{i}"], got[f"bulk{i}"]
        assert bulk._asdict() | {"openid": core.openid} == core._asdict()
    assert got["bulk1"].last_interaction_at == NOW + dt.timedelta(minutes=1)  # the instant, back as aware UTC
    assert (got["bulk0"].window_sends, got["bulk0"].unreachable) == (0, False)  # the columns' defaults


async def test_follower_upserts_and_log_rows_in_bulk(engine):
    write = FollowerWrite("o1", {"subscribed": True, "county": "罗山县", "state": {}, "last_interaction_at": NOW},
                          ("county", "last_interaction_at"))
    later = FollowerWrite("o1", {"subscribed": True, "county": "乐至县", "state": {"x": 1},
                                 "last_interaction_at": NOW + dt.timedelta(hours=1)}, ("last_interaction_at",))
    async with engine.begin() as conn:
        await conn.run_sync(apply_writes, [write])
        await conn.run_sync(apply_writes, [later])  # an existing row: only the columns named change
        await conn.run_sync(execute_many, insert(_LOG), [
            {"reply_key": None, "openid": "o1", "direction": "in", "msg_type": "text", "content": "你好",
             "intent": None, "created_at": NOW}])
        follower = (await conn.execute(select(_F).where(_F.c.openid == "o1"))).one()
        logged = (await conn.execute(select(_LOG.c.content, _LOG.c.created_at))).one()
    assert (follower.county, follower.state, follower.last_interaction_at) == (
        "罗山县", {}, NOW + dt.timedelta(hours=1))
    assert tuple(logged) == ("你好", NOW)


async def test_a_left_out_column_without_a_constant_default_is_refused(engine):
    async with engine.begin() as conn:
        with pytest.raises(ValueError, match="state"):
            await conn.run_sync(execute_many, insert(_F), [{"openid": "o2", "county": "陵川县"}])
