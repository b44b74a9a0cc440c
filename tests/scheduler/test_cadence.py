"""The officials' cadence and the reminders of a next-year notice (青禾县 2027) come from its policy file:
weekly bulletins through the late period, 约谈 of who stayed in the bottom, reminders before each of its
cutoffs that name the make-up period and its waiting period."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import insert

from bot.config import Settings
from bot.rules.loader import PolicyRegistry
from bot.store.models import Region, Target
from bot.store.progress import TownshipProgress
from scheduler import digests
from scheduler.messages import message_data, render_fields, render_text
from scheduler.timetable import find_job, policy_jobs
from tests.scheduler.helpers import Person, add_contacts, add_people
from tests.scheduler.test_planner import outbox, plan

TOWNSHIPS = ["城关街道", "青禾镇", "石桥镇", "柳河乡", "白沙乡"]


def _qinghe(registry: PolicyRegistry):
    policy = registry.get("青禾县", 2027)
    assert policy is not None
    return policy


def test_bulletins_run_weekly_through_the_late_period(registry: PolicyRegistry) -> None:
    jobs = policy_jobs(_qinghe(registry), Settings())
    bulletins = [j.cutoff for j in jobs if j.kind == "bulletin"]
    assert bulletins[0] == dt.date(2026, 9, 8) and bulletins[1] == dt.date(2026, 9, 15)
    assert bulletins[-1] == dt.date(2027, 2, 23)  # the last one on or before 2月28日 (延长缴费期)
    assert all((b - a).days == 7 for a, b in itertools.pairwise(bulletins))


def test_reminders_follow_the_notices_cutoffs(registry: PolicyRegistry) -> None:
    jobs = policy_jobs(_qinghe(registry), Settings())
    cutoffs = sorted({(j.cutoff, j.cutoff_kind) for j in jobs if j.kind == "reminder"})
    assert cutoffs == [(dt.date(2026, 12, 31), "period_end"), (dt.date(2027, 2, 28), "extension_end"),
                       (dt.date(2027, 6, 30), "extension_end")]
    assert {j.run_at.date() for j in jobs if j.kind == "reminder" and j.cutoff == dt.date(2027, 6, 30)} == {
        dt.date(2027, 6, 25), dt.date(2027, 6, 29)}


def _reminder(registry: PolicyRegistry, job_id: str, today: dt.date) -> str:
    spec = find_job(registry, Settings(), job_id)
    assert spec is not None, job_id
    row = {"cutoff": spec.cutoff, "payload": {"template": "reminder", "policy": spec.policy_id,
                                              "cutoff_kind": spec.cutoff_kind, "who": spec.who}}
    return render_text(*message_data(registry, row, (), today))


def test_reminder_texts_name_the_late_periods_and_the_wait(registry: PolicyRegistry) -> None:
    end = _reminder(registry, "qinghe-2027:2026-12-31:reminder-5d", dt.date(2026, 12, 26))
    assert "缴费截止：2026年12月31日（还有5天）" in end
    assert "12月31日以后：延长缴费期（1月1日至2月28日）仅限春节返乡的外出务工人员" in end
    assert "补缴期（3月1日至6月30日）未缴费的居民可缴，缴费后设待遇等待期3个月" in end
    late = _reminder(registry, "qinghe-2027:2027-02-28:reminder-1d", dt.date(2027, 2, 27))
    assert "延长缴费期仅限春节返乡的外出务工人员、退役军人、刑满释放人员，从缴费次日起享受待遇" in late
    assert "2月28日以后：补缴期（3月1日至6月30日）" in late
    makeup = _reminder(registry, "qinghe-2027:2027-06-30:reminder-5d", dt.date(2027, 6, 25))
    assert "补缴期截止2027年6月30日" in makeup and "待遇等待期3个月" in makeup and "每断保1年再加1个月" in makeup
    assert "None" not in end + late + makeup


def test_the_template_fields_stay_within_wechats_limit(registry: PolicyRegistry) -> None:
    spec = find_job(registry, Settings(), "qinghe-2027:2027-02-28:reminder-1d")
    assert spec is not None
    row = {"cutoff": spec.cutoff, "payload": {"template": "reminder", "policy": spec.policy_id,
                                              "cutoff_kind": spec.cutoff_kind, "who": spec.who}}
    fields = render_fields(*message_data(registry, row, (), dt.date(2027, 2, 27)))
    assert fields["thing6"].startswith("延长缴费期仅限春节返乡") and len(fields["thing6"]) <= 20


def _unit(name: str, paid: int, rank: int) -> TownshipProgress:
    return TownshipProgress(township=name, village="", target=100, paid=paid, roster=100, rank=rank)


def _ranked(paid: dict[str, int]) -> list[TownshipProgress]:
    order = sorted(paid, key=lambda n: -paid[n])
    return [_unit(n, paid[n], i) for i, n in enumerate(order, start=1)]


def test_interview_names_who_stayed_in_the_bottom(registry: PolicyRegistry) -> None:
    policy = _qinghe(registry)
    spec = find_job(registry, Settings(), "qinghe-2027:2026-09-15:bulletin")
    assert spec is not None
    week1 = _ranked({"城关街道": 50, "青禾镇": 40, "石桥镇": 30, "柳河乡": 20, "白沙乡": 10})
    week2 = _ranked({"城关街道": 60, "青禾镇": 70, "石桥镇": 35, "柳河乡": 80, "白沙乡": 15})
    payload = digests.bulletin(policy, spec, week2, None, [week1])
    assert payload["number"] == 2 and payload["interview"] is True
    assert payload["interviewed"] == ["石桥镇", "白沙乡"]  # bottom three both weeks; 柳河乡 moved up
    text = render_text(*message_data(registry, {"payload": payload}, (), spec.cutoff))
    assert "按“一周一通报、两期一约谈”制度" in text
    assert "连续2期排名后3位的石桥镇、白沙乡，由县政府分管负责同志约谈其主要负责同志" in text
    first = find_job(registry, Settings(), "qinghe-2027:2026-09-08:bulletin")
    assert first is not None
    assert digests.bulletin(policy, first, week1, None, [])["interview"] is False  # one bulletin is not two


async def test_planned_bulletin_reads_the_earlier_ranking(sessions, registry) -> None:
    async with sessions.begin() as session:
        for name in TOWNSHIPS:
            region_id = (await session.execute(insert(Region).values(
                level="township", county="青禾县", township=name, village="").returning(Region.id))).scalar_one()
            await session.execute(insert(Target).values(region_id=region_id, insurance_year=2027,
                                                        policy_id="qinghe-2027", target=2, extra={}))
    early, late = dt.date(2026, 9, 5), dt.date(2026, 9, 12)
    payers = [("城关街道", early), ("城关街道", early), ("青禾镇", early), ("青禾镇", late), ("柳河乡", late),
              ("柳河乡", late)]
    for i, (township, paid_on) in enumerate(payers):
        await add_people(sessions, [Person(township, paid=True, follows=False)], region="青禾县", year=2027,
                         paid_on=paid_on, start=i)
    await add_contacts(sessions, "青禾县", [("负责人", "", "甲", "o-head")])
    await plan(sessions, registry, "qinghe-2027:2026-09-15:bulletin")
    (row,) = [r for r in await outbox(sessions) if r.kind == "bulletin"]
    # Week 1 (9月8日): 城关 100%, 青禾 50%, 柳河、白沙、石桥 0%. Week 2 (9月15日): 城关、柳河 100%, 青禾 50%,
    # 白沙、石桥 0%. In the bottom three both times: 白沙乡 and 石桥镇, in this week's order.
    assert row.payload["interviewed"] == ["白沙乡", "石桥镇"]
