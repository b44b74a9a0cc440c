"""Progress per township: paid vs target, percent, needy groups paid vs listed, ranked (every backend)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.store.imports import import_file
from bot.store.progress import township_progress
from bot.store.regions import known_units, load_targets
from tests.conftest import Store
from tests.store import rosters

TODAY = dt.date(2025, 1, 10)


async def _load(store: Store, tmp_path: Path) -> list[list]:
    async with store.sessions() as s, s.begin():
        await load_targets(s, store.registry)
    people = rosters.residents(40, townships=["崇文镇", "夺火乡"])  # 20 each, alternating
    await import_file(store.engine, store.registry, store.settings, "residents",
                      rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people), region="陵川县",
                      year=2025, today=TODAY)
    # 崇文镇 (even rows): the first 10 paid; 夺火乡 (odd rows): the first 15 paid; one of each paid in 2025.
    paid = [p for i, p in enumerate(people) if (i % 2 == 0 and i < 20) or (i % 2 == 1 and i < 30)]
    pays = rosters.payments(paid)
    for row in pays[:2]:
        row[3] = "2025-01-05"
    await import_file(store.engine, store.registry, store.settings, "payments",
                      rosters.write_csv(tmp_path / "p.csv", rosters.PAYMENT_HEADER, pays), today=TODAY)
    return people


async def test_progress_per_township(store: Store, tmp_path: Path) -> None:
    await _load(store, tmp_path)
    async with store.sessions() as s:
        rows = await township_progress(s, "陵川", 2025, TODAY, store.registry)
        earlier = await township_progress(s, "陵川县", 2025, dt.date(2024, 12, 31), store.registry)
    assert len(rows) == 11  # every township of the notice's table, with or without residents
    by_name = {r.name: r for r in rows}
    chongwen, duohuo, liquan = by_name["崇文镇"], by_name["夺火乡"], by_name["六泉乡"]
    assert (chongwen.target, chongwen.paid, chongwen.roster) == (51776, 10, 20)
    assert (duohuo.target, duohuo.paid, duohuo.percent) == (4173, 15, 0.4)
    assert (liquan.paid, liquan.percent, liquan.remaining) == (0, 0.0, 9842)
    assert [r.rank for r in rows] == list(range(1, 12)) and rows[0].name == "夺火乡"
    assert {r.name: r.paid for r in earlier}["崇文镇"] == 9

    # Needy groups: CATEGORY_CYCLE puts 低保 on people 2 and 6 of every 10, 特困 on 4, 监测对象 on 6, 脱贫户 on 9;
    # 崇文镇 has people 0, 2, ..., 38, and those below 20 paid.
    groups = {g.key: g for g in chongwen.groups}
    assert list(groups) == ["tekun", "dibao", "monitored", "tuopin"]
    assert (groups["dibao"].listed, groups["dibao"].paid) == (8, 4)
    assert (groups["tekun"].listed, groups["tekun"].paid) == (4, 2)
    assert (groups["tuopin"].listed, groups["tuopin"].paid) == (0, 0)  # 脱贫户 are odd: all in 夺火乡
    assert groups["dibao"].notice_listed is None  # 陵川县's table has no 低保 column
    assert groups["tekun"].percent == 50.0 and groups["tuopin"].percent is None


async def test_luoshan_groups_carry_the_notice_figures(store: Store) -> None:
    async with store.sessions() as s, s.begin():
        await load_targets(s, store.registry)
    async with store.sessions() as s:
        rows = await township_progress(s, "罗山县", 2025, TODAY, store.registry)
    tiepu = next(r for r in rows if r.name == "铁铺镇")
    assert tiepu.target == 11617 and tiepu.paid == 0
    groups = {g.key: g.notice_listed for g in tiepu.groups}
    assert groups == {"dibao": 1130, "tuopin": 1960}


async def test_village_table_of_a_town(store: Store) -> None:
    async with store.sessions() as s, s.begin():
        first = await load_targets(s, store.registry)
    async with store.sessions() as s, s.begin():
        again = await load_targets(s, store.registry)  # idempotent
    async with store.sessions() as s:
        rows = await township_progress(s, "周集镇", 2025, TODAY, store.registry)
        units = await known_units(s, store.registry, "周集镇")
    assert first.total == again.total > 0 and first.kept == 0 and again.kept == again.total
    assert len(rows) == 21 and {r.township for r in rows} == {"周集镇"}
    assert next(r for r in rows if r.village == "班台村").target == 2229
    assert units.town == "周集镇" and "班台村" in units.villages["周集镇"]


async def test_a_county_notices_village_table_names_its_town(store: Store) -> None:
    # 澄湾区 附件2 is 南塘镇's villages inside a district's notice: each village row is 南塘镇's, not a township
    # with no name (`yibao status` showed a blank row), beside the district's township table (附件1).
    from bot.rules.loader import load_registry

    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "policies"
    registry = load_registry([fixtures])
    async with store.sessions() as s, s.begin():
        await load_targets(s, registry, "澄湾区")
    async with store.sessions() as s:
        rows = await township_progress(s, "澄湾区", 2027, dt.date(2026, 11, 20), registry)
    villages = {r.village: r.township for r in rows if r.village}
    assert villages == dict.fromkeys(["南塘社区", "荷叶村", "石埠村", "柳港村", "新桥村"], "南塘镇")
    assert {r.township for r in rows if not r.village} == {"滨江街道", "澄西镇", "南塘镇", "芦湾镇"}
    assert all(r.township for r in rows)
