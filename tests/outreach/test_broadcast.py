"""Broadcasts end to end against the fake WeChat: a township's tagged followers get it exactly once, however
the send call is retried; followers at the monthly limit are skipped and counted; the receipt comes back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import SESSIONS
from bot.store import broadcasts as store
from bot.store.broadcasts import Audience, BroadcastError
from bot.store.models import AuditLog, BroadcastBatch, MassCount
from bot.wechat.fake import Injection
from scheduler.broadcasts import IN_DOUBT_TRIES, send
from scheduler.tags import sync_tags
from tests.outreach.helpers import add_followers, wechat, wire

NOW = dt.datetime.now(dt.UTC)
LIYI = [f"o-liyi-{i}" for i in range(6)]
OTHERS = [("o-chongwen-1", "陵川县", "崇文镇"), ("o-chongwen-2", "陵川县", "崇文镇"),
          ("o-luoshan", "罗山县", "龙山街道"), ("o-none", None, None)]


async def compose(bot, audience: Audience, author: str = "张敏") -> int:
    async with bot.app[SESSIONS].begin() as session:
        b = await store.create(session, title="缴费提醒", content="礼义镇居民请于11月25日前缴纳城乡居民医保。",
                               audience=audience, author=author)
        return b.id


def mass_calls(state):
    return [c for c in state.calls if c["endpoint"].startswith("message/mass/send")]


async def test_a_township_broadcast_reaches_its_tagged_followers_once_though_retried(bot, fake):
    state = wire(bot, fake)
    await add_followers(bot, [(o, "陵川县", "礼义镇") for o in LIYI] + OTHERS)
    async with wechat(bot, retries=3, timeout_s=0.3) as client:
        assert (await sync_tags(bot.app[SESSIONS], client))["followers"] == len(LIYI) + 3
        tag = next(i for i, name in state.tags.items() if name == "陵川县礼义镇")
        tagged = {o for o, tags in state.user_tags.items() if tag in tags}
        assert tagged == set(LIYI)
        # WeChat accepts the first call but its answer never arrives: the client gives up waiting, tries again
        state.injections.append(Injection("mass/send", late_s=0.6))
        broadcast = await compose(bot, Audience("township", "陵川县", "礼义镇"))
        result = await send(bot.app[SESSIONS], client, bot.settings, broadcast, "张敏", NOW)
    assert (result.status, result.recipients, result.over_limit) == ("sent", len(LIYI), 0)
    await state.settle()
    delivered = [c for c in mass_calls(state) if c["delivered"]]
    assert len(mass_calls(state)) == 2 and len(delivered) == 1
    assert sorted(delivered[0]["recipients"]) == sorted(tagged)
    assert all(state.mass_received[(o, state.month())] == 1 for o in LIYI)


async def test_a_send_interrupted_after_wechat_accepted_it_is_not_sent_again(bot, fake):
    state = wire(bot, fake)
    await add_followers(bot, [(o, "陵川县", "礼义镇") for o in LIYI])
    broadcast = await compose(bot, Audience("township", "陵川县", "礼义镇"))
    async with wechat(bot, retries=0, timeout_s=0.3) as client:
        # every answer is late, so often that the send gives up (as a crash would leave it): WeChat has it
        state.injections.append(Injection("mass/send", late_s=0.6, times=IN_DOUBT_TRIES))
        first = await send(bot.app[SESSIONS], client, bot.settings, broadcast, "张敏", NOW)
        assert (first.status, first.batches_left) == ("sending", 1) and "第1批" in first.error
        await state.settle()
        again = await send(bot.app[SESSIONS], client, bot.settings, broadcast, "张敏", NOW)
        assert again.status == "sent"
        with pytest.raises(BroadcastError):
            await send(bot.app[SESSIONS], client, bot.settings, broadcast, "张敏", NOW)
    assert [c["errcode"] for c in mass_calls(state)] == [0] + [45065] * IN_DOUBT_TRIES
    assert sum(c["delivered"] for c in mass_calls(state)) == 1
    async with bot.app[SESSIONS]() as session:
        counts = dict((await session.execute(select(MassCount.openid, MassCount.count))).all())
    assert counts == dict.fromkeys(LIYI, 1)


async def test_followers_at_the_monthly_limit_are_skipped_and_counted(bot, fake):
    state = wire(bot, fake)
    await add_followers(bot, [(o, "陵川县", "礼义镇") for o in LIYI])
    async with bot.app[SESSIONS].begin() as session:
        session.add(MassCount(openid=LIYI[0], month=store.month_of(NOW), count=4))
        session.add(MassCount(openid=LIYI[1], month=store.month_of(NOW), count=3))
    broadcast = await compose(bot, Audience("township", "陵川县", "礼义镇"))
    async with wechat(bot) as client:
        result = await send(bot.app[SESSIONS], client, bot.settings, broadcast, "张敏", NOW)
    assert (result.recipients, result.over_limit) == (len(LIYI) - 1, 1)
    (call,) = mass_calls(state)
    assert LIYI[0] not in call["body"]["touser"] and LIYI[1] in call["body"]["touser"]
    await state.settle()
    async with bot.app[SESSIONS]() as session:
        batch = (await session.execute(select(BroadcastBatch))).scalar_one()
        assert (batch.total_count, batch.sent_count, batch.error_count) == (5, 5, 0)  # MASSSENDJOBFINISH
        assert batch.msg_id == str(state._mass[batch.clientmsgid][0])
        full = (await session.execute(select(MassCount.count).where(MassCount.openid == LIYI[1]))).scalar()
        actions = list((await session.execute(select(AuditLog.action).order_by(AuditLog.id))).scalars())
    assert full == 4
    assert actions == ["broadcast.create", "broadcast.send", "broadcast.sent"]


async def test_approval_by_a_second_staff_member(make_bot, fake):
    bot = await make_bot(broadcast_approval=True)
    wire(bot, fake)
    await add_followers(bot, [(o, "陵川县", "礼义镇") for o in LIYI])
    broadcast = await compose(bot, Audience("county", "陵川县"))
    async with wechat(bot) as client:
        with pytest.raises(BroadcastError, match="尚未审核"):
            await send(bot.app[SESSIONS], client, bot.settings, broadcast, "张敏", NOW)
        async with bot.app[SESSIONS].begin() as session:
            b = await store.get(session, broadcast)
            with pytest.raises(BroadcastError, match="另一位"):
                await store.approve(session, b, "张敏")
            await store.approve(session, b, "李强")
        assert (await send(bot.app[SESSIONS], client, bot.settings, broadcast, "张敏", NOW)).status == "sent"


async def test_a_needy_group_audience_is_its_unpaid_residents(bot, fake):
    from tests.scheduler.helpers import Person, add_people

    people = await add_people(bot.app[SESSIONS], [
        Person("礼义镇", categories=("dibao",)), Person("礼义镇", categories=("dibao",), paid=True),
        Person("崇文镇", categories=("dibao",)), Person("崇文镇"),
    ])
    async with bot.app[SESSIONS]() as session:
        reach = await store.reach(session, Audience("group", "陵川县", group="dibao", year=2025), NOW, 4)
    assert reach.openids == sorted([people[0].openid, people[2].openid])


def test_batches_stay_within_two_and_ten_thousand():
    sizes = [len(b) for b in store.split([f"o{i}" for i in range(20_001)])]
    assert sizes == [6667, 6667, 6667] and all(2 <= s <= 10_000 for s in sizes)
    assert [len(b) for b in store.split(["a", "b"])] == [2]


async def test_a_mass_receipt_pushed_before_the_send_is_recorded_still_reaches_its_batch(bot, fake):
    """WeChat may push MASSSENDJOBFINISH before its answer to the send has reached us (and been recorded): the
    receipt's counts are kept with it, and reach the batch when the send is recorded."""
    state = wire(bot, fake)
    await add_followers(bot, [(o, "陵川县", "礼义镇") for o in LIYI])
    broadcast = await compose(bot, Audience("township", "陵川县", "礼义镇"))
    state.injections.append(Injection("mass/send", late_s=0.5))  # the receipt goes out, then the answer
    async with wechat(bot) as client:
        result = await send(bot.app[SESSIONS], client, bot.settings, broadcast, "张敏", NOW)
    assert result.status == "sent"
    await state.settle()
    assert state.pushed and state.pushed[0]["status"] == 200  # answered before the send was recorded
    async with bot.app[SESSIONS]() as session:
        batch = (await session.execute(select(BroadcastBatch))).scalar_one()
    assert (batch.total_count, batch.sent_count, batch.error_count) == (len(LIYI), len(LIYI), 0)
    assert batch.receipt_at is not None
