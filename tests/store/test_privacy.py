"""No full ID number anywhere in the database: every table, every column, after imports, demo data and
binding (including failed attempts), on every backend."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.store import ids
from bot.store.demo import load_demo_data
from bot.store.imports import import_file
from bot.store.models import Base
from tests.store import rosters
from tests.store.backends import Store
from tests.store.chat import say, use_binding_handlers

_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9Xx])")
DAY = dt.date(2024, 11, 20)


async def _every_value(store: Store) -> list[tuple[str, str, str]]:
    """(table, column, text) for every non-null value of every table in the database."""
    async with store.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: {t: [col["name"] for col in inspect(c).get_columns(t)]
                                                for t in inspect(c).get_table_names()})
        out = []
        for table, columns in tables.items():
            for row in await conn.execute(text(f"SELECT * FROM {table}")):
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
                        out.append((table, column, shown))
    return out


async def test_no_full_id_number_is_stored_anywhere(store: Store, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    use_binding_handlers(monkeypatch)
    people = rosters.residents(50)
    await import_file(store.engine, store.registry, store.settings, "residents",
                      rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people), region="陵川县",
                      year=2025, today=DAY)
    await import_file(store.engine, store.registry, store.settings, "payments",
                      rosters.write_csv(tmp_path / "p.csv", rosters.PAYMENT_HEADER, rosters.payments(people[:20])),
                      today=DAY)
    contacts = [["经办人", "崇文镇", "虚构甲", "13800000001", "demo-openid-1"]]
    await import_file(store.engine, store.registry, store.settings, "contacts",
                      rosters.write_csv(tmp_path / "c.csv", [*rosters.CONTACT_HEADER, "openid"], contacts),
                      region="陵川县", today=DAY)
    await load_demo_data(store.sessions, store.registry, "周集镇", 0.01, settings=store.settings)

    typed = [people[0][2], people[1][2], ids.make_id("140524", dt.date(1960, 5, 5), 7)]
    await say(store.settings, "绑定", openid="o-a")
    await say(store.settings, f"王某 {typed[2]}", openid="o-a")  # not in the roster
    await say(store.settings, f"{people[1][1]} {typed[1][:-1]}", openid="o-a")  # 17 characters
    await say(store.settings, f"绑定 {people[0][1]} {typed[0]}", openid="o-b")  # in one message
    await say(store.settings, "我交了吗", openid="o-b")
    await say(store.settings, "绑定", openid="o-c")
    await say(store.settings, people[1][1], openid="o-c")  # the name is kept while waiting for the number
    await say(store.settings, typed[1], openid="o-c")

    assert _ID_LIKE.findall(f"张三{typed[0]}。") == [typed[0]]  # the scan would see one
    values = await _every_value(store)
    assert {t for t, _c, _v in values} >= set(Base.metadata.tables) - {"inbound_messages", "access_tokens",
                                                                        "message_log", "outbox", "targets",
                                                                        "follower_changes",  # SQLite only
                                                                        # outreach: no binding fills these
                                                                        "broadcasts", "broadcast_batches",
                                                                        "mass_counts", "delivery_receipts",
                                                                        "follower_tags", "wechat_tags"}
    known = {p[2] for p in people} | set(typed)
    for table, column, value in values:
        assert not any(number in value for number in known), f"{table}.{column} holds an ID number"
        if (table, column) == ("residents", "id_hmac"):
            assert re.fullmatch(r"[0-9a-f]{64}", value)
            continue
        for match in _ID_LIKE.findall(value):
            assert not ids.is_valid(match), f"{table}.{column} holds something that is an ID number"
