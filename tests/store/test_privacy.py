"""No full ID number anywhere in the database: every table, every column, after imports, demo data and
binding (including failed attempts), on every backend; and no ID or mobile number in clear, however it was
written, in the database, the logs, the replies or the import reports."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import logging
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from bot.app import create_app
from bot.cli import main
from bot.config import TZ
from bot.store import digits, ids
from bot.store.demo import load_demo_data
from bot.store.imports import import_file
from bot.store.models import Base
from bot.wechat.fake import create_fake_app
from bot.wechat.simulate import Signer
from tests.conftest import HMAC_KEY, Store
from tests.store import rosters
from tests.store.chat import say, use_binding_handlers
from tests.store.variants import id_variants, id_with_x, phone_variants
from tests.wechat import samples
from tests.wechat.samples import fresh

APPID = "wx1234567890abcdef"

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
                                                                        # the console's: no resident data
                                                                        "users", "login_attempts",
                                                                        "published_policies", "campaign_pauses",
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


# -- every variant, every way in: chat (the webhook), logs, imports ----------------------------------------


# Not inside a longer alphanumeric token (the hex of an HMAC in a debug log holds long runs of digits).
_PLAIN_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])")
_PLAIN_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:86)?1[3-9][0-9]{9}(?![0-9A-Za-z])")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_PLAIN_GAP = re.compile(r"(?<=[0-9])[\s.\-–—·\u200b]{1,3}(?=[0-9X])")


def clear_numbers(text: str, known: set[str]) -> list[str]:
    """Every ID or mobile number in `text` in clear, found three ways: the normaliser itself, a plain regex
    over NFKC text with the usual separators removed (both skip digits inside a hex or other alphanumeric
    token), and the known numbers anywhere in the text's digits."""
    found = []
    for m in digits.numbers_in(text):
        number = digits.fold(m[0])
        in_token = _ASCII_LETTER.match(text, m.end()) or (m.start() and _ASCII_LETTER.match(text, m.start() - 1))
        if (digits.is_id_shaped(number) or digits.mobile(number)) and not in_token:
            found.append(m[0])
    plain = _PLAIN_GAP.sub("", unicodedata.normalize("NFKC", text).upper())
    found += _PLAIN_ID.findall(plain) + _PLAIN_MOBILE.findall(plain)
    all_digits = "".join(ch for ch in digits.fold(text) if ch.isdigit() or ch == "X")
    found += [number for number in known if number in all_digits]
    return found


def test_the_scanner_sees_every_variant() -> None:
    number, phone = ids.make_id("140524", dt.date(1970, 2, 3), 9), "13912345678"
    written = [*id_variants(number).values(), *phone_variants(phone).values()]
    for typed in written:
        assert clear_numbers(f"留言：{typed}。", {number, phone}), typed
        assert not clear_numbers(ids.mask_text(f"留言：{typed}。"), {number, phone}), typed
    assert clear_numbers(f"sfz{number}", {number}) == [number]  # in a token: only the known numbers see it


async def test_no_number_in_clear_after_every_variant_through_chat_logs_and_imports(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str], aiohttp_client: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("YIBAO_DATABASE_URL", store.settings.database_url)
    monkeypatch.setenv("YIBAO_ID_HMAC_KEY", HMAC_KEY)
    people = rosters.residents(12)
    people[1][2] = id_with_x()
    phones = ["13912345678", "15800001111"]
    known = {p[2] for p in people} | set(phones) | {ids.make_id("140524", dt.date(1960, 5, 5), 7)}

    # Imports: a good roster, then one with numbers (every variant) in the wrong columns, through `yibao import`.
    good = rosters.write_csv(tmp_path / "good.csv", rosters.RESIDENT_HEADER, people)
    options = ["--region", "陵川县", "--year", "2025"]
    assert await asyncio.to_thread(main, ["import", "residents", str(good), *options]) == 0
    bad_rows = []
    for i, (kind, written) in enumerate([*(("id", v) for v in id_variants(people[0][2]).values()),
                                         *(("phone", v) for v in phone_variants(phones[0]).values())]):
        row = list(rosters.residents(60)[20 + i])
        row[1 if kind == "id" else 4] = written  # in 姓名, or in 村(社区)
        row[6] = written if kind == "phone" else row[6]  # and in 手机号 (a masked malformed phone, or fine)
        bad_rows.append(row)
    bad_rows.append([*people[2][:2], people[2][2][:17], *people[2][3:]])  # 17 characters
    bad = rosters.write_csv(tmp_path / "bad.csv", rosters.RESIDENT_HEADER, bad_rows)
    assert await asyncio.to_thread(main, ["import", "residents", str(bad), *options]) == 1
    console = capsys.readouterr().out
    report = (tmp_path / "bad.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert "未导入任何数据" in console
    assert {int(line[0]) for line in csv.reader(report.splitlines()[1:])} == set(range(2, len(bad_rows) + 2))

    # Chat: every variant, while binding and not, signed XML POSTs to the webhook.
    fake = await aiohttp_client(create_fake_app(APPID, "s"))
    settings = replace(store.settings, wechat_token="t", wechat_appid=APPID, wechat_secret="s",
                       wechat_api_base=str(fake.make_url("")).rstrip("/"))
    client = await aiohttp_client(create_app(settings, registry=store.registry, scheduler=False,
                                             clock=lambda: dt.datetime(2024, 11, 20, 10, tzinfo=TZ)))
    signer = Signer(settings.wechat_token, APPID)

    async def say(openid: str, text: str) -> str:
        params, body = signer.sign(fresh(samples.TEXT, openid=openid, content=text))
        resp = await client.post("/wechat", params=params, data=body)
        assert resp.status == 200
        return await resp.text()

    replies = []
    for n, person in enumerate(people[:2]):
        for k, written in enumerate(id_variants(person[2]).values()):
            openid = f"o-{n}-{k}"
            replies += [await say(openid, "绑定"), await say(openid, f"{person[1]} {written}"),
                        await say(openid, f"我的身份证号是{written}，帮我查一下")]
    for k, written in enumerate(phone_variants(phones[1]).values()):
        replies.append(await say(f"o-phone-{k}", f"我的电话是{written}，请回电"))
        replies.append(await say(f"o-ask-{k}", f"我电话{written}，今年交多少钱"))  # kept while asking the region
    replies.append(await say("o-x", f"绑定 王某 {ids.make_id('140524', dt.date(1960, 5, 5), 7)}"))  # not in roster
    logged = await _every_value(store)
    assert sum(1 for t, c, _v in logged if (t, c) == ("message_log", "content")) > 80
    assert any(t == "followers" and c == "resident_id" for t, c, _v in logged)  # some bindings succeeded
    assert any(t == "followers" and "pending" in v for t, _c, v in logged)  # questions waiting for a region

    places = [(f"{t}.{c}", v) for t, c, v in logged if (t, c) != ("residents", "id_hmac")]
    places += [("console", console), ("errors.csv", report), ("log", caplog.text)]
    places += [(f"log record {r.name}", r.getMessage()) for r in caplog.records]
    places += [("reply", r) for r in replies]
    leaks = [(where, clear_numbers(value, known)) for where, value in places]
    assert not [leak for leak in leaks if leak[1]]
