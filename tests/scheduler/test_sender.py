"""The sender against the fake WeChat, with a controlled clock: channels, the 48-hour rule, quiet hours,
paid-before-send, injected errors, retries, quota, rate, and concurrent senders."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
from collections import Counter
from dataclasses import replace

import aiohttp
import pytest
from sqlalchemy import select

from bot.commands.outbox import outbox_command
from bot.config import TZ, Settings
from bot.store.ids import id_hmac, make_id, mask
from bot.store.models import Follower, MessageLog, OutboxMessage, Payment, Resident
from bot.wechat.client import WeChatClient
from scheduler.planner import plan_job
from scheduler.sender import Sender, SenderOptions
from scheduler.timetable import find_job
from tests.scheduler.conftest import fake_state
from tests.scheduler.helpers import Person, add_contacts, add_people, add_targets
from tests.store.chat import say, use_binding_handlers

REMIND_5D = "lingchuan-2025:2024-11-25:reminder-5d"
REMIND_1D = "lingchuan-2025:2024-11-25:reminder-1d"


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def make_sender(settings, sessions, registry, http, clock):
    def make(settings: Settings = settings, **options) -> Sender:
        client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                              base=settings.wechat_api_base, sessions=sessions, retries=0)
        return Sender(sessions, client, registry, settings, clock=clock, options=SenderOptions(**options))

    return make


async def plan(sessions, registry, job_id: str, clock) -> int:
    async with sessions.begin() as session:
        result = await plan_job(session, registry, find_job(registry, Settings(), job_id), planned_at=clock())
    return result.inserted


async def rows(sessions) -> dict[str, OutboxMessage]:
    async with sessions() as session:
        return {r.openid: r for r in (await session.execute(select(OutboxMessage))).scalars()}


async def follower(sessions, openid: str) -> Follower:
    async with sessions() as session:
        return await session.get(Follower, openid)


def sends(fake, endpoint: str = "message/template/send") -> list[dict]:
    return [c for c in fake_state(fake).calls if c["endpoint"] == endpoint]


async def inject(http, fake, **spec) -> None:
    async with http.post(fake.make_url("/_fake/inject"), json=spec) as resp:
        assert resp.status == 200


async def test_template_message_by_default(sessions, registry, make_sender, fake, clock) -> None:
    people = await add_people(sessions, [Person("崇文镇"), Person("礼义镇", categories=("dibao",))])
    assert await plan(sessions, registry, REMIND_5D, clock) == 2
    stats = await make_sender().drain()
    assert stats == Counter(sent=2)
    calls = sends(fake)
    assert len(calls) == 2 and not sends(fake, "message/custom/send")
    body = next(c["body"] for c in calls if c["body"]["touser"] == people[1].openid)
    assert body["template_id"] == "yibao-payment-status"
    assert body["client_msg_id"] == f"{people[1].openid}:2025:2024-11-25:reminder-5d"
    assert body["data"] == {
        "thing1": {"value": "陵川县城乡居民医保"},
        "character_string2": {"value": "2025"},  # no Chinese in a character_string (WeChat: 47003)
        "amount3": {"value": "80元"},  # 低保: 400 - 320 (80%)
        "time4": {"value": "2024年11月25日 23:59"},
        "phrase5": {"value": "未缴费"},
    }
    row = (await rows(sessions))[people[1].openid]
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.wechat_msgid and row.sent_at is not None
    async with sessions() as session:
        logs = list((await session.execute(select(MessageLog))).scalars())
    assert sorted(log.intent for log in logs) == ["reminder:sent", "reminder:sent"]
    assert all(log.direction == "out" and log.msg_type == "template" for log in logs)


async def test_text_only_inside_the_48_hour_window(sessions, registry, make_sender, fake, clock) -> None:
    now = clock()
    inside, outside, used_up = await add_people(sessions, [
        Person("崇文镇", last_message_at=now - dt.timedelta(hours=47)),
        Person("崇文镇", last_message_at=now - dt.timedelta(hours=49)),
        Person("崇文镇", last_message_at=now - dt.timedelta(hours=1), window_sends=5),
    ])
    await plan(sessions, registry, REMIND_5D, clock)
    assert await make_sender().drain() == Counter(sent=3)
    texts = sends(fake, "message/custom/send")
    assert [c["body"]["touser"] for c in texts] == [inside.openid]
    content = texts[0]["body"]["text"]["content"]
    assert content.startswith("【医保缴费状态通知】") and "缴费状态：未缴费" in content and "应缴金额：400元" in content
    assert {c["body"]["touser"] for c in sends(fake)} == {outside.openid, used_up.openid}
    assert (await follower(sessions, inside.openid)).window_sends == 1


@pytest.mark.parametrize("errcode", [45015, 45047])
async def test_window_refusal_falls_back_to_the_template(sessions, registry, make_sender, fake, clock, http,
                                                         errcode) -> None:
    (person,) = await add_people(sessions, [Person("崇文镇", last_message_at=clock() - dt.timedelta(hours=2))])
    await plan(sessions, registry, REMIND_5D, clock)
    await inject(http, fake, endpoint="custom/send", errcode=errcode)
    assert await make_sender().drain() == Counter(sent=1)
    assert len(sends(fake, "message/custom/send")) == 1 and len(sends(fake)) == 1
    assert (await follower(sessions, person.openid)).window_sends == 5  # no more texts until they write again
    async with sessions() as session:
        intents = [log.intent for log in (await session.execute(select(MessageLog).order_by(MessageLog.id))).scalars()]
    assert intents == ["reminder:fallback", "reminder:sent"]


async def test_quiet_hours_defer_to_eight_or_drop_at_the_cutoff(sessions, registry, make_sender, fake, clock) -> None:
    early, late = await add_people(sessions, [Person("崇文镇"), Person("礼义镇")])
    await plan(sessions, registry, REMIND_5D, clock)
    clock.set(2024, 11, 20, 22, 30)
    assert await make_sender().drain() == Counter(pending=2)
    assert not sends(fake)
    row = (await rows(sessions))[early.openid]
    assert row.not_before == dt.datetime(2024, 11, 21, 8, 0, tzinfo=TZ) and row.attempts == 0
    assert row.last_error == "deferred: quiet hours"
    clock.set(2024, 11, 21, 7, 59)
    assert await make_sender().drain() == Counter()
    clock.set(2024, 11, 21, 8, 0)
    assert await make_sender().drain() == Counter(sent=2)

    # The evening of the cutoff: the next 08:00 is after it, so the reminder is dropped, never sent late.
    await plan(sessions, registry, REMIND_1D, clock)
    clock.set(2024, 11, 25, 21, 30)
    assert await make_sender().drain() == Counter(dropped=2)
    assert len(sends(fake)) == 2
    assert "past the cutoff" in (await rows(sessions))[late.openid].last_error


async def test_officials_are_not_bound_by_quiet_hours(sessions, registry, make_sender, fake, clock) -> None:
    await add_targets(sessions, registry)
    await add_contacts(sessions, "陵川县", [("分管领导", "崇文镇", "甲", "o-lead")])
    await plan(sessions, registry, "lingchuan-2025:2024-11-25:digest", clock)
    clock.set(2024, 11, 22, 22, 0)
    assert await make_sender().drain() == Counter(sent=1)
    (call,) = sends(fake)
    assert call["body"]["template_id"] == "yibao-progress-digest"
    assert call["body"]["data"]["thing2"] == {"value": "崇文镇"}


async def test_resident_who_paid_after_planning_is_skipped(sessions, registry, make_sender, fake, clock) -> None:
    payer, other = await add_people(sessions, [Person("崇文镇"), Person("崇文镇")])
    await plan(sessions, registry, REMIND_5D, clock)
    async with sessions.begin() as session:
        session.add(Payment(resident_id=payer.resident_id, insurance_year=2025, amount=400,
                            paid_on=dt.date(2024, 11, 20)))
    assert await make_sender().drain() == Counter(sent=1, skipped=1)
    assert [c["body"]["touser"] for c in sends(fake)] == [other.openid]
    row = (await rows(sessions))[payer.openid]
    assert (row.status, row.last_error, row.attempts) == ("skipped", "paid since planning", 0)


async def test_after_the_cutoff_nothing_is_sent(sessions, registry, make_sender, fake, clock) -> None:
    await add_people(sessions, [Person("崇文镇")])
    await plan(sessions, registry, REMIND_5D, clock)
    clock.set(2024, 11, 26, 0, 0)
    assert await make_sender().drain() == Counter(dropped=1)
    assert not sends(fake)


@pytest.mark.parametrize("errcode", [43004, 43101])
async def test_unreachable_followers_fail_without_retry(sessions, registry, make_sender, fake, clock, http,
                                                         errcode) -> None:
    (person,) = await add_people(sessions, [Person("崇文镇")])
    await plan(sessions, registry, REMIND_5D, clock)
    await inject(http, fake, endpoint="template/send", errcode=errcode)
    assert await make_sender().drain() == Counter(failed=1)
    row = (await rows(sessions))[person.openid]
    assert row.status == "failed" and row.last_error.startswith(f"unreachable: {errcode}")
    assert (await follower(sessions, person.openid)).unreachable is True
    clock.advance(hours=1)
    assert await make_sender().drain() == Counter() and len(sends(fake)) == 1
    assert await plan(sessions, registry, REMIND_1D, clock) == 0  # not planned for again


@pytest.mark.parametrize("failure", [{"errcode": -1}, {"errcode": 45009}, {"http_status": 503}])
async def test_busy_rate_limited_and_5xx_are_retried_with_backoff(sessions, registry, make_sender, fake, clock,
                                                                   http, failure) -> None:
    (person,) = await add_people(sessions, [Person("崇文镇")])
    await plan(sessions, registry, REMIND_5D, clock)
    await inject(http, fake, endpoint="template/send", **failure)
    sender = make_sender()
    assert await sender.drain() == Counter(pending=1)
    row = (await rows(sessions))[person.openid]
    assert row.attempts == 1 and row.last_error.startswith("retry in 30s")
    assert row.not_before == clock() + dt.timedelta(seconds=30)
    assert await sender.drain() == Counter()  # not due yet
    clock.advance(seconds=30)
    assert await sender.drain() == Counter(sent=1)
    row = (await rows(sessions))[person.openid]
    assert (row.status, row.attempts) == ("sent", 2)
    async with sessions() as session:
        intents = [log.intent for log in (await session.execute(select(MessageLog).order_by(MessageLog.id))).scalars()]
    assert intents == ["reminder:retry", "reminder:sent"]


async def test_gives_up_after_max_attempts(sessions, registry, make_sender, fake, clock, http) -> None:
    (person,) = await add_people(sessions, [Person("崇文镇")])
    await plan(sessions, registry, REMIND_5D, clock)
    await inject(http, fake, endpoint="template/send", errcode=-1, times=5)
    sender = make_sender(max_attempts=2)
    assert await sender.drain() == Counter(pending=1)
    clock.advance(minutes=5)
    assert await sender.drain() == Counter(failed=1)
    assert (await rows(sessions))[person.openid].last_error.startswith("gave up after 2 attempts: -1")


async def test_invalid_or_expired_token_is_refreshed_by_the_client(sessions, registry, make_sender, fake, clock,
                                                                   http) -> None:
    await add_people(sessions, [Person("崇文镇"), Person("崇文镇")])
    await plan(sessions, registry, REMIND_5D, clock)
    sender = make_sender(concurrency=1)
    await inject(http, fake, endpoint="template/send", errcode=40001)
    assert await sender.drain() == Counter(sent=2)
    assert [c["body"].get("force_refresh") for c in sends(fake, "stable_token")] == [None, None, True]
    await plan(sessions, registry, REMIND_1D, clock)
    clock.set(2024, 11, 24, 10, 0)
    async with http.post(fake.make_url("/_fake/expire")) as resp:
        assert resp.status == 200
    assert await sender.drain() == Counter(sent=2)
    assert [c["errcode"] for c in sends(fake)].count(42001) == 1


async def test_daily_template_quota(sessions, registry, make_sender, fake, clock, settings) -> None:
    await add_people(sessions, [Person("崇文镇") for _ in range(3)])
    await plan(sessions, registry, REMIND_5D, clock)
    sender = make_sender(replace(settings, daily_quota=2), concurrency=1)
    assert await sender.drain() == Counter(sent=2, pending=1)
    (waiting,) = [r for r in (await rows(sessions)).values() if r.status == "pending"]
    assert waiting.not_before == dt.datetime(2024, 11, 21, 8, 0, tzinfo=TZ)  # tomorrow, after the quiet hours
    clock.set(2024, 11, 21, 8, 0)
    assert await make_sender(replace(settings, daily_quota=2)).drain() == Counter(sent=1)


async def test_send_rate_is_limited(sessions, registry, make_sender, fake, clock, settings) -> None:
    await add_people(sessions, [Person("崇文镇") for _ in range(30)])
    await plan(sessions, registry, REMIND_5D, clock)
    started = time.monotonic()
    assert await make_sender(replace(settings, send_rate_per_s=20)).drain() == Counter(sent=30)
    assert time.monotonic() - started >= 0.45  # a burst of 20, then 10 more at 20 a second


async def test_concurrent_senders_never_send_a_row_twice(sessions, registry, make_sender, fake, clock) -> None:
    await add_people(sessions, [Person("崇文镇") for _ in range(300)])
    await plan(sessions, registry, REMIND_5D, clock)
    a, b = make_sender(batch=20, concurrency=4), make_sender(batch=20, concurrency=4)
    results = await asyncio.gather(a.drain(), b.drain())
    assert sum(r["sent"] for r in results) == 300
    keys = Counter(c["body"]["client_msg_id"] for c in sends(fake))
    assert len(keys) == 300 and set(keys.values()) == {1}


async def test_a_sender_that_lost_its_claim_cannot_overwrite_the_row(sessions, registry, make_sender, fake,
                                                                     clock) -> None:
    (person,) = await add_people(sessions, [Person("崇文镇")])
    await plan(sessions, registry, REMIND_5D, clock)
    slow = make_sender(lease_s=60)
    claim = await slow.claim()
    clock.advance(seconds=61)  # the lease passed: the row is in doubt and another sender takes it over
    assert await make_sender().drain() == Counter(sent=1)
    taken_over = (await rows(sessions))[person.openid]
    assert taken_over.attempts == 2 and "in doubt" in taken_over.last_error
    await slow.write([await slow.process(claim.rows[0], claim)])
    row = (await rows(sessions))[person.openid]
    assert (row.status, row.attempts, row.wechat_msgid) == ("sent", 2, taken_over.wechat_msgid)


async def test_binding_notice_reaches_the_followers_already_bound(sessions, registry, make_sender, fake, clock,
                                                                  settings, monkeypatch) -> None:
    """A second follower binds a resident: the first, inside its 48-hour window, gets a customer-service text;
    one whose window is closed gets it once they write again (a binding notice has no template)."""
    use_binding_handlers(monkeypatch)
    number = make_id("140524", dt.date(1950, 5, 6), 17)
    async with sessions.begin() as session:
        session.add(Resident(id_hmac=id_hmac(number, settings.id_hmac_key), id_masked=mask(number), name="郭秀兰",
                             county="陵川县", township="崇文镇"))
    day = clock().date()
    for openid, on in (("o-first", day - dt.timedelta(days=3)), ("o-second", day), ("o-third", day)):
        await say(settings, "绑定", openid=openid, on=on)
        assert "绑定成功" in await say(settings, f"郭秀兰 {number}", openid=openid, on=on)
    clock.set(2024, 11, 20, 12, 5)  # `say` speaks at noon
    sender = make_sender()
    assert await sender.drain() == Counter(sent=1, pending=2)
    (text,) = sends(fake, "message/custom/send")
    assert text["body"]["touser"] == "o-second"
    content = text["body"]["text"]["content"]
    assert "郭秀兰（140524********" in content and "又被另一个微信号绑定" in content and number not in content
    async with sessions() as session:
        waiting = (await session.execute(select(OutboxMessage).where(OutboxMessage.status == "pending"))).scalars()
        waiting = list(waiting)
    assert [r.openid for r in waiting] == ["o-first", "o-first"]
    assert all(r.last_error.startswith("deferred: outside the customer-service window") for r in waiting)
    await say(settings, "交多少钱", openid="o-first", on=day)  # o-first writes: the window opens
    clock.advance(hours=1)
    assert await sender.drain() == Counter(sent=2)
    assert sorted(c["body"]["touser"] for c in sends(fake, "message/custom/send")) == ["o-first", "o-first",
                                                                                       "o-second"]
    assert not sends(fake)  # never a template


async def test_binding_notice_is_dropped_when_the_window_never_opens(sessions, registry, make_sender, fake, clock,
                                                                     settings, monkeypatch) -> None:
    use_binding_handlers(monkeypatch)
    number = make_id("140524", dt.date(1950, 5, 6), 17)
    async with sessions.begin() as session:
        session.add(Resident(id_hmac=id_hmac(number, settings.id_hmac_key), id_masked=mask(number), name="郭秀兰",
                             county="陵川县", township="崇文镇"))
    for openid, on in (("o-first", dt.date(2024, 11, 10)), ("o-second", dt.date(2024, 11, 20))):
        await say(settings, "绑定", openid=openid, on=on)
        await say(settings, f"郭秀兰 {number}", openid=openid, on=on)
    clock.set(2024, 11, 20, 12, 5)
    assert await make_sender().drain() == Counter(pending=1)
    clock.advance(days=3)
    assert await make_sender().drain() == Counter(dropped=1)
    (row,) = (await rows(sessions)).values()
    assert row.kind == "bind_notice" and row.status == "dropped" and "never sent late" in row.last_error
    assert not sends(fake, "message/custom/send") and not sends(fake)


async def fan_out_with_delays(sessions, registry, settings, fake, clock, http, *, window: bool):
    """60 reminders; WeChat answers 12 of the first calls after the client gave up (0.5 s > 0.2 s) but acts
    on them all the same. Returns (the first drain's outcomes, deliveries per resident at the fake)."""
    now = clock()
    last = now - dt.timedelta(hours=1) if window else None
    await add_people(sessions, [Person("崇文镇", last_message_at=last) for _ in range(60)])
    assert await plan(sessions, registry, REMIND_5D, clock) == 60
    endpoint = "custom/send" if window else "template/send"
    await inject(http, fake, endpoint=endpoint, late_s=0.5, times=12)
    client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                          base=settings.wechat_api_base, sessions=sessions, timeout_s=0.2)
    sender = Sender(sessions, client, registry, settings, clock=clock, options=SenderOptions(concurrency=8))
    first = await sender.drain()
    for _ in range(6):
        clock.advance(minutes=2)
        await sender.drain()
    delivered = Counter(c["body"]["touser"] for c in sends(fake, "message/" + endpoint) if c["delivered"])
    return first, delivered


async def test_texts_in_doubt_are_never_sent_twice(sessions, registry, settings, fake, clock, http) -> None:
    first, delivered = await fan_out_with_delays(sessions, registry, settings, fake, clock, http, window=True)
    assert len(delivered) == 60 and max(delivered.values()) == 1  # before: 12 residents got it twice
    assert first == Counter(sent=48, in_doubt=12)
    async with sessions() as session:
        doubt = list((await session.execute(select(OutboxMessage).where(OutboxMessage.status == "in_doubt"))
                      ).scalars())
        logs = Counter((await session.execute(select(MessageLog.intent))).scalars())
    assert len(doubt) == 12 and all(r.attempts == 1 and r.in_doubt_at == r.planned_at for r in doubt)
    assert all("may have delivered it" in r.last_error for r in doubt)
    assert logs == Counter({"reminder:sent": 48, "reminder:in_doubt": 12})
    shown = io.StringIO()
    await outbox_command(settings, None, 20, out=shown)
    assert ("结果不明　居民缴费状态通知（截止前5天）：12条"
            "  （结果不明：微信未应答（超时或连接中断），可能已送达，不再重发）") in shown.getvalue()
    counts = shown.getvalue().split("最近的")[0]
    assert "in_doubt" not in counts and "reminder" not in counts  # Chinese names, not the table's keys
    assert "最近的失败、结果不明" in shown.getvalue()
    assert shown.getvalue().count("原因：结果不明（微信未应答）：TimeoutError；微信可能已送达：不再重发") == 12
    none_failed = io.StringIO()
    await outbox_command(settings, "failed", 20, out=none_failed)
    assert none_failed.getvalue().startswith("发件箱里没有状态为“失败”的消息。")


async def test_templates_in_doubt_are_sent_again_only_with_the_same_client_msg_id(
        sessions, registry, settings, fake, clock, http) -> None:
    first, delivered = await fan_out_with_delays(sessions, registry, settings, fake, clock, http, window=False)
    assert len(delivered) == 60 and max(delivered.values()) == 1  # WeChat dropped the repeats
    assert first == Counter(sent=48, pending=12)
    async with sessions() as session:
        statuses = Counter((await session.execute(select(OutboxMessage.status))).scalars())
    assert statuses == Counter(sent=60)
