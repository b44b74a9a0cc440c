"""绑定 / 我交了吗 / 解绑 end to end through bot.pipeline.respond, as `yibao ask --openid` runs it, on every
database backend: the follower's state lives in the database between messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot.handlers.binding import handle_bind, handle_my_status
from bot.nlu.query import Intent, Query
from bot.render import render
from bot.store.imports import import_file
from bot.store.models import BindFailure, Follower, OutboxMessage
from bot.types import Context, Speaker
from tests.store import rosters
from tests.store.chat import say, use_binding_handlers

if TYPE_CHECKING:
    from tests.conftest import Store

DAY = dt.date(2024, 11, 20)


@pytest.fixture
async def people(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list]:
    """Three residents of 陵川县: [0] paid 400 yuan, [2] is 低保 and has not paid."""
    use_binding_handlers(monkeypatch)
    rows = rosters.residents(3)
    await import_file(store.engine, store.registry, store.settings, "residents",
                      rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows), region="陵川县",
                      year=2025, today=DAY)
    pays = [[rows[0][2], 2025, 400, "2024-10-08", "微信"]]
    await import_file(store.engine, store.registry, store.settings, "payments",
                      rosters.write_csv(tmp_path / "p.csv", rosters.PAYMENT_HEADER, pays), today=DAY)
    return rows


def _wrong(number: str) -> str:
    """Another well-formed ID number (valid checksum) that is not in the roster."""
    from bot.store.ids import make_id

    return make_id(number[:6], dt.date(1951, 3, 3), 999)


async def test_bind_then_paid_status(store: Store, people: list[list]) -> None:
    name, number = people[0][1], people[0][2]
    asked = await say(store.settings, "绑定")
    assert "姓名" in asked and "身份证号" in asked
    bound = await say(store.settings, f"{name} {number}")
    assert "绑定成功" in bound and f"{number[:6]}********{number[-4:]}" in bound
    status = await say(store.settings, "我交了吗")
    assert "已缴费：400元，2024年10月8日，微信" in status and "2025年度" in status
    for reply in (asked, bound, status):
        assert number not in reply
    async with store.sessions() as s:
        follower = await s.get(Follower, "o-test-1")
    assert follower.resident_id is not None and follower.county == "陵川县" and follower.state == {}


async def test_name_first_then_number_and_unpaid_dibao(store: Store, people: list[list]) -> None:
    name, number = people[2][1], people[2][2]
    await say(store.settings, "绑定")
    assert name in await say(store.settings, f"我叫{name}")
    assert "绑定成功" in await say(store.settings, number)
    status = await say(store.settings, "我的缴费状态")
    assert "未查到缴费记录" in status and "城乡低保对象" in status and "个人应缴80元" in status
    assert "本月截止11月25日" in status


async def test_six_wrong_ids_are_refused(store: Store, people: list[list]) -> None:
    name, number = people[1][1], people[1][2]
    await say(store.settings, "绑定")
    replies = [await say(store.settings, f"{name} {_wrong(number)}") for _ in range(4)]
    replies.append(await say(store.settings, f"{name} {number[:17]}{'0' if number[17] != '0' else '1'}"))
    assert [("还可尝试" in r) for r in replies] == [True, True, True, True, False]
    assert "还可尝试4次" in replies[0] and "尝试次数已用完" in replies[4]
    sixth = await say(store.settings, f"{name} {number}")  # even the right one, on the 6th attempt
    assert "今天已核对5次未通过" in sixth and "11月21日" in sixth and "医保经办机构" in sixth
    async with store.sessions() as s:
        follower = await s.get(Follower, "o-test-1")
        counted = await s.get(BindFailure, (DAY, "f:o-test-1"))
    assert follower.resident_id is None and counted.failures == 6
    tomorrow = DAY + dt.timedelta(days=1)
    await say(store.settings, "绑定", on=tomorrow)
    assert "绑定成功" in await say(store.settings, f"{name} {number}", on=tomorrow)


async def test_cancel_unbind_and_not_bound(store: Store, people: list[list]) -> None:
    assert "先绑定" in await say(store.settings, "我交了吗")
    await say(store.settings, "绑定")
    assert "已取消" in await say(store.settings, "取消")
    assert "还没有绑定" in await say(store.settings, "解绑")
    await say(store.settings, "绑定")
    await say(store.settings, f"{people[0][1]} {people[0][2]}")
    assert "您已绑定" in await say(store.settings, "绑定")
    assert "已解除绑定" in await say(store.settings, "解绑")
    assert "先绑定" in await say(store.settings, "我交了吗")


@pytest.mark.parametrize("text", ["我已经交了怎么查", "钱交了怎么知道成功没", "交过了在哪看交没交上"])
async def test_paid_and_asking_how_to_check_is_the_own_record(store: Store, people: list[list], text: str) -> None:
    unbound = await say(store.settings, text)  # 陵川县's notice does not say how to check: whom to ask
    assert "先绑定" in unbound and "通知没有写明缴费后怎么查询缴费结果" in unbound and "您是想问" not in unbound
    await say(store.settings, "绑定")
    await say(store.settings, f"{people[0][1]} {people[0][2]}")
    status = await say(store.settings, text)
    assert "已缴费：400元，2024年10月8日，微信" in status and "2025年度" in status


async def test_status_when_the_coming_year_is_unpublished(store: Store, people: list[list]) -> None:
    await say(store.settings, "绑定")
    await say(store.settings, f"{people[0][1]} {people[0][2]}")
    after = await say(store.settings, "我交了吗", on=dt.date(2025, 10, 1))
    assert "2025年度" in after and "已缴费：400元" in after and "2026年度的缴费通知尚未公布" in after
    later = await say(store.settings, "我交了吗", on=dt.date(2026, 10, 1))
    assert "2027年度的缴费通知尚未公布" in later and "2025年度已缴费：400元" in later


async def test_without_a_database(registry) -> None:
    ctx = Context(today=DAY, registry=registry, speaker=Speaker(openid=None, region="陵川县"))
    for handler in (handle_bind, handle_my_status):
        answer = await handler(Query(Intent.BIND, "绑定"), ctx)
        assert "暂未接入" in render(answer)


async def test_name_mismatch_counts_as_a_failure(store: Store, people: list[list]) -> None:
    await say(store.settings, "绑定")
    reply = await say(store.settings, f"王某某 {people[0][2]}")
    assert "不一致" in reply and "还可尝试4次" in reply
    async with store.sessions() as s:
        assert (await s.execute(select(Follower.resident_id))).scalar_one() is None


# -- binding limits (issue 12): the attacks, through `yibao ask --openid` as a resident would -----------------


def _guesses(number: str, n: int) -> list[str]:
    """`n` well-formed ID numbers of the same area and birth date, none of them `number`."""
    from bot.store.ids import make_id

    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    made = (make_id(number[:6], born, seq) for seq in range(1, 999))
    return [g for g in made if g != number][:n]


async def bind(store: Store, name: str, number: str, openid: str, on: dt.date = DAY) -> str:
    """绑定, then name and number, as a resident sends them."""
    await say(store.settings, "绑定", openid=openid, on=on)
    return await say(store.settings, f"{name} {number}", openid=openid, on=on)


def _checked(reply: str) -> bool:
    """The bot compared the guess with the roster (rather than refusing to look)."""
    return "不一致" in reply


async def test_binding_ones_own_identity_and_unbinding_buys_no_more_guesses(store: Store, people: list[list]) -> None:
    own, target = people[0], people[1]
    guesses = iter(_guesses(target[2], 20))
    checked, own_refused = 0, False
    for _ in range(4):  # before: each round of bind own + unbind reset the count, 16+ guesses a day
        own_reply = await bind(store, own[1], own[2], openid="o-attacker")
        own_refused = own_refused or "绑定成功" not in own_reply
        await say(store.settings, "解绑", openid="o-attacker")
        for _ in range(5):
            checked += _checked(await bind(store, target[1], next(guesses), openid="o-attacker"))
    assert checked == 5 and own_refused
    assert "今天已核对5次未通过" in await bind(store, target[1], target[2], openid="o-attacker")
    tomorrow = DAY + dt.timedelta(days=1)
    assert "绑定成功" in await bind(store, own[1], own[2], openid="o-attacker", on=tomorrow)


async def test_many_followers_guessing_one_resident_stop_at_the_resident_limit(store: Store,
                                                                                people: list[list]) -> None:
    name, number = people[1][1], people[1][2]
    limit = store.settings.bind_max_fails_per_resident
    guesses = iter(_guesses(number, 40))
    replies = [await bind(store, name, next(guesses), openid=f"o-sybil-{i}")
               for i in range(8) for _ in range(5)]
    assert sum(map(_checked, replies)) == limit == 8  # before: 40
    assert all("暂停绑定此人" in r for r in replies[limit:])
    # the resident's record stays locked for the day, even for the right ID number from a new follower ...
    assert "暂停绑定此人" in await bind(store, name, number, openid="o-family")
    # ... and opens again the next day
    tomorrow = DAY + dt.timedelta(days=1)
    assert "绑定成功" in await bind(store, name, number, openid="o-family", on=tomorrow)


async def test_many_followers_guessing_names_for_one_id_number_stop_at_the_resident_limit(
        store: Store, people: list[list]) -> None:
    number = people[2][2]
    names = iter(f"{family}{given}" for family in "王李张刘" for given in "伟芳娜敏静")
    replies = [await bind(store, next(names), number, openid=f"o-sybil-{i}") for i in range(4) for _ in range(5)]
    assert sum(map(_checked, replies)) == store.settings.bind_max_fails_per_resident
    assert "暂停绑定此人" in await bind(store, people[2][1], number, openid="o-family")


async def test_a_few_family_members_may_bind_one_resident(store: Store, people: list[list]) -> None:
    name, number = people[0][1], people[0][2]
    limit = store.settings.bind_max_followers_per_resident
    assert limit == 3
    replies = [await bind(store, name, number, openid=f"o-family-{i}") for i in range(limit + 1)]
    assert all("绑定成功" in r for r in replies[:limit])
    assert "此前已绑定其他微信号，我们已通知对方" in replies[1] and "已通知" not in replies[0]
    assert "已绑定3个微信号，不能再绑定" in replies[limit]
    assert "先绑定" in await say(store.settings, "我交了吗", openid=f"o-family-{limit}")
    async with store.sessions() as s:
        notices = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        counted = (await s.execute(select(BindFailure))).scalars().all()
    # o-family-1 told o-family-0; o-family-2 told both; the refused one told nobody
    assert sorted(n.openid for n in notices) == ["o-family-0", "o-family-0", "o-family-1"]
    assert {n.kind for n in notices} == {"bind_notice"} and {n.status for n in notices} == {"pending"}
    assert all(number not in str(n.payload) and name == n.payload["name"] for n in notices)
    assert all(c.failures == 0 for c in counted)  # right identities are no failures
    assert "已解除绑定" in await say(store.settings, "解绑", openid="o-family-0")
    assert "绑定成功" in await bind(store, name, number, openid=f"o-family-{limit}")
