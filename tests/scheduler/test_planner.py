"""Planning writes outbox rows with deterministic keys, never twice; digests carry the right figures."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import TZ, Settings
from bot.rules.loader import PolicyRegistry
from bot.store.models import OutboxMessage
from scheduler.messages import message_data, render_text
from scheduler.planner import plan_job
from scheduler.timetable import find_job
from tests.scheduler.helpers import Person, add_contacts, add_people, add_targets

NOW = dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)


async def plan(sessions: async_sessionmaker, registry: PolicyRegistry, job_id: str, *, commit: bool = True,
               samples: int = 0):
    spec = find_job(registry, Settings(), job_id)
    assert spec is not None, job_id
    async with sessions.begin() as session:
        return await plan_job(session, registry, spec, commit=commit, planned_at=NOW, samples=samples)


async def outbox(sessions: async_sessionmaker) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.key))).scalars())


async def test_reminders_go_to_unpaid_followers_once(sessions, registry) -> None:
    people = await add_people(sessions, [
        Person("崇文镇"), Person("崇文镇"), Person("崇文镇", categories=("dibao",)),
        Person("崇文镇", paid=True), Person("崇文镇", follows=False),
        Person("崇文镇", subscribed=False), Person("崇文镇", unreachable=True),
        Person("礼义镇"), Person("礼义镇"),
    ])
    await add_people(sessions, [Person("铁铺镇")], region="罗山县", start=100)
    job = "lingchuan-2025:2024-11-25:reminder-5d"

    dry = await plan(sessions, registry, job, commit=False, samples=2)
    assert dry.counts == {"崇文镇": 3, "礼义镇": 2} and dry.inserted is None
    assert len(dry.samples) == 2
    assert await outbox(sessions) == []

    first = await plan(sessions, registry, job)
    again = await plan(sessions, registry, job)
    assert (first.inserted, again.inserted) == (5, 0)
    rows = await outbox(sessions)
    expected = {p.openid for p in people[:3] + people[7:9]}
    assert {r.openid for r in rows} == expected
    row = next(r for r in rows if r.openid == people[0].openid)
    assert row.key == f"{people[0].openid}:2025:2024-11-25:reminder-5d"
    assert (row.kind, row.stage, row.status, row.attempts) == ("reminder", "reminder-5d", "pending", 0)
    assert row.resident_id == people[0].resident_id and row.insurance_year == 2025
    assert row.cutoff == dt.date(2024, 11, 25)
    assert row.not_before == dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)
    assert row.not_after == dt.datetime(2024, 11, 26, 0, 0, tzinfo=TZ)
    assert row.payload == {"template": "reminder", "policy": "lingchuan-2025", "cutoff_kind": "monthly",
                           "who": None}

    # The next stage of the same cutoff is a different key: a second reminder, not a duplicate.
    assert (await plan(sessions, registry, "lingchuan-2025:2024-11-25:reminder-1d")).inserted == 5


async def test_extension_reminders_name_whom_the_extension_is_for(sessions, registry) -> None:
    await add_people(sessions, [Person("周集镇", "班台村"), Person("周集镇", "班台村", paid=True)], region="周集镇")
    result = await plan(sessions, registry, "zhouji-2025:2025-02-28:reminder-5d")
    assert result.inserted == 1
    (row,) = await outbox(sessions)
    assert row.payload["who"] == "春节返乡的外出务工人员" and row.payload["cutoff_kind"] == "extension_end"
    _template, data = message_data(registry, {"cutoff": row.cutoff, "payload": row.payload}, (), dt.date(2025, 2, 23))
    text = render_text("reminder", data)
    assert "延长缴费仅限春节返乡的外出务工人员" in text and "2025年2月28日" in text


async def _small_county(sessions, registry) -> dict[str, Person]:
    await add_targets(sessions, registry)
    chongwen = [Person("崇文镇", "东村", paid=True, follows=False) for _ in range(9)]
    chongwen.append(Person("崇文镇", "东村", categories=("dibao",), follows=False))
    liyi = [Person("礼义镇", "南村", paid=True, follows=False) for _ in range(2)]
    liyi += [Person("礼义镇", "南村", follows=False) for _ in range(3)]
    liyi += [Person("礼义镇", "北村", follows=False, categories=("tekun",)) for _ in range(5)]
    fucheng = [Person("附城镇", paid=True, follows=False) for _ in range(5)] + [Person("附城镇", follows=False)]
    await add_people(sessions, chongwen + liyi + fucheng)
    await add_contacts(sessions, "陵川县", [
        ("分管领导", "崇文镇", "甲", "o-chongwen-lead"),
        ("经办人", "崇文镇", "乙", None),
        ("经办人", "礼义镇", "丙", "o-liyi-clerk"),
        ("负责人", "", "丁", "o-bureau-head"),
        ("协调员", "", "戊", "o-bureau-coord"),
        ("分管领导", "", "己", "o-bureau-deputy"),
    ])
    return {}


async def test_digest_figures_per_township(sessions, registry) -> None:
    await _small_county(sessions, registry)
    result = await plan(sessions, registry, "lingchuan-2025:2024-11-25:digest")
    assert result.counts == {"崇文镇": 1, "礼义镇": 1} and result.inserted == 2
    rows = {r.openid: r for r in await outbox(sessions)}
    assert rows["o-chongwen-lead"].key == "o-chongwen-lead:2025:2024-11-25:digest:崇文镇"
    chongwen = rows["o-chongwen-lead"].payload
    assert (chongwen["paid"], chongwen["target"], chongwen["percent"], chongwen["rank"], chongwen["units"]) == (
        9, 10, 90.0, 1, 3)
    assert chongwen["expected_percent"] == 48.3  # 86 of 178 days by 11月25日
    assert chongwen["behind"] is False and chongwen["unpaid"] == 1
    assert chongwen["needy"] == [{"name": "低保", "listed": 1, "unpaid": 1}]
    liyi = rows["o-liyi-clerk"].payload
    assert (liyi["percent"], liyi["rank"], liyi["behind"], liyi["gap"], liyi["days_left"]) == (20.0, 3, True, 28.3, 3)
    assert liyi["villages"] == [{"name": "北村", "percent": 0.0, "unpaid": 5}, {"name": "南村", "percent": 40.0,
                                                                              "unpaid": 3}]
    assert liyi["needy"] == [{"name": "特困", "listed": 5, "unpaid": 5}]
    text = render_text(*message_data(registry, {"payload": liyi}, (), dt.date(2024, 11, 22)))
    assert "已缴2人，目标10人，完成20.0%，在3个乡镇（街道）中排第3名" in text
    assert "落后28.3个百分点" in text and "特困5人" in text and "北村（完成0.0%，未缴5人）" in text
    assert "11月25日缴费截止，还有3天" in text


async def test_escalation_names_the_lagging_townships_to_the_bureau(sessions, registry) -> None:
    await _small_county(sessions, registry)
    result = await plan(sessions, registry, "lingchuan-2025:2024-11-25:escalation")
    rows = await outbox(sessions)
    assert {r.openid for r in rows} == {"o-bureau-head", "o-bureau-coord"}  # not the county-level 分管领导
    assert result.counts == {"": 2}
    payload = rows[0].payload
    assert [u["name"] for u in payload["laggards"]] == ["礼义镇"]
    text = render_text(*message_data(registry, {"payload": payload}, (), dt.date(2024, 11, 24)))
    assert "礼义镇：完成20.0%（2/10人），还差8人" in text and "应完成48.3%" in text


async def test_no_escalation_when_every_township_is_on_track(sessions, registry) -> None:
    await add_targets(sessions, registry)
    await add_people(sessions, [Person(t, paid=True, follows=False) for t in ("崇文镇", "礼义镇", "附城镇")
                                for _ in range(6)])
    await add_contacts(sessions, "陵川县", [("负责人", "", "丁", "o-bureau-head")])
    result = await plan(sessions, registry, "lingchuan-2025:2024-11-25:escalation")
    assert result.inserted == 0 and result.note and await outbox(sessions) == []


async def test_luoshan_bulletin_incentive_deadline_and_phase(sessions, registry) -> None:
    await add_targets(sessions, registry)
    await add_people(sessions, [Person("铁铺镇", paid=True, follows=False), Person("山店乡", follows=False)],
                     region="罗山县")
    await add_contacts(sessions, "罗山县", [("分管领导", "铁铺镇", "甲", "o-tiepu"), ("负责人", "", "乙", "o-head")])

    await plan(sessions, registry, "luoshan-2025:2024-10-15:bulletin")  # the second week: 两周约谈后进
    bulletin = {r.openid: r.payload for r in await outbox(sessions)}
    assert set(bulletin) == {"o-tiepu", "o-head"}
    assert bulletin["o-tiepu"]["own"]["name"] == "铁铺镇" and bulletin["o-head"]["own"] is None
    assert bulletin["o-head"]["interview"] is True and bulletin["o-head"]["number"] == 2
    text = render_text(*message_data(registry, {"payload": bulletin["o-tiepu"]}, (), dt.date(2024, 10, 15)))
    assert "罗山县医保征缴第2期通报" in text and "两周约谈后进" in text and "铁铺镇：完成" in text

    await plan(sessions, registry, "luoshan-2025:2024-11-30:incentive")
    (incentive,) = [r for r in await outbox(sessions) if r.kind == "incentive"]
    assert incentive.openid == "o-tiepu"
    assert incentive.payload["rewards"] == [{"per_person": 2, "basis": "按照入库总人数"}]
    text = render_text(*message_data(registry, {"payload": incentive.payload}, (), dt.date(2024, 11, 27)))
    assert "按照入库总人数每人2元奖励代征手续费" in text and "还差11616人" in text
    assert "12月31日前完成的，每人奖励1元" in text

    await plan(sessions, registry, "luoshan-2025:2024-12-30:deadline")
    deadline = [r for r in await outbox(sessions) if r.kind == "deadline"]
    assert {r.openid for r in deadline} == {"o-tiepu", "o-head"}
    text = render_text(*message_data(registry, {"payload": deadline[0].payload}, (), dt.date(2024, 12, 27)))
    assert "12月30日前完成所有参保信息数据录入修改工作" in text and "还有3天" in text

    await plan(sessions, registry, "luoshan-2025:2024-12-01:phase")
    phase = [r for r in await outbox(sessions) if r.kind == "phase"]
    assert len(phase) == 2 and phase[0].payload["phases"][0]["name"] == "检查核对阶段"

    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 7
