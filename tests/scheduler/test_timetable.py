"""The schedule follows each notice's calendar: exact run times, Asia/Shanghai-aware, stable ids."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.config import TZ, Settings
from bot.rules.loader import PolicyRegistry
from scheduler.timetable import all_jobs, find_job, next_cutoff_jobs, policy_jobs, upcoming

SETTINGS = Settings()


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def jobs_of(registry: PolicyRegistry, policy_id: str, settings: Settings = SETTINGS):
    return policy_jobs(next(p for p in registry.policies if p.id == policy_id), settings)


def test_lingchuan_monthly_cutoffs_september_to_february(builtin: PolicyRegistry) -> None:
    jobs = jobs_of(builtin, "lingchuan-2025")
    cutoffs = sorted({(j.cutoff, j.cutoff_kind) for j in jobs})
    assert cutoffs == [
        (dt.date(2024, 9, 25), "monthly"),
        (dt.date(2024, 10, 25), "monthly"),
        (dt.date(2024, 11, 25), "monthly"),
        (dt.date(2024, 12, 25), "monthly"),
        (dt.date(2025, 1, 25), "monthly"),
        (dt.date(2025, 2, 25), "period_end"),
    ]
    assert len(jobs) == 6 * 4  # two reminders, a digest and an escalation per cutoff


def test_lingchuan_november_stages_at_exact_times(builtin: PolicyRegistry) -> None:
    nov = {j.stage: j for j in jobs_of(builtin, "lingchuan-2025") if j.cutoff == dt.date(2024, 11, 25)}
    assert nov["reminder-5d"].run_at == at(2024, 11, 20, 10, 0)
    assert nov["reminder-1d"].run_at == at(2024, 11, 24, 10, 0)
    assert nov["digest"].run_at == at(2024, 11, 22, 9, 0)
    assert nov["escalation"].run_at == at(2024, 11, 24, 9, 0)
    assert nov["reminder-5d"].run_at.isoformat() == "2024-11-20T10:00:00+08:00"
    assert nov["reminder-5d"].id == "lingchuan-2025:2024-11-25:reminder-5d"
    # Never sent late: the grace ends with the cutoff day (payments are taken all day on the 25th).
    assert nov["reminder-1d"].not_after == at(2024, 11, 26, 0, 0)
    assert nov["reminder-1d"].grace_s == 38 * 3600  # 11-24 10:00 to the end of 11-25


def test_every_run_time_is_aware_and_every_id_unique(builtin: PolicyRegistry) -> None:
    jobs = all_jobs(builtin, SETTINGS)
    assert all(j.run_at.utcoffset() == dt.timedelta(hours=8) for j in jobs)
    assert len({j.id for j in jobs}) == len(jobs)
    assert jobs == sorted(jobs, key=lambda j: (j.run_at, j.id))
    for j in jobs:
        assert find_job(builtin, SETTINGS, j.id) == j


def test_zhouji_extension_end_for_returning_migrant_workers(builtin: PolicyRegistry) -> None:
    jobs = jobs_of(builtin, "zhouji-2025")
    ext = [j for j in jobs if j.cutoff_kind == "extension_end"]
    assert {j.cutoff for j in ext} == {dt.date(2025, 2, 28)}
    assert {j.who for j in ext} == {"春节返乡的外出务工人员"}
    assert {j.stage: j.run_at for j in ext} == {
        "reminder-5d": at(2025, 2, 23, 10, 0),
        "reminder-1d": at(2025, 2, 27, 10, 0),
        "digest": at(2025, 2, 25, 9, 0),
        "escalation": at(2025, 2, 27, 9, 0),
    }
    period = [j for j in jobs if j.cutoff_kind == "period_end"]
    assert {j.cutoff for j in period} == {dt.date(2024, 12, 31)}


def test_luoshan_weekly_bulletin(builtin: PolicyRegistry) -> None:
    bulletins = [j for j in jobs_of(builtin, "luoshan-2025") if j.kind == "bulletin"]
    assert [j.run_at for j in bulletins] == [at(2024, 10, 1, 9, 0) + dt.timedelta(days=7 * k) for k in range(1, 14)]
    assert bulletins[-1].run_at == at(2024, 12, 31, 9, 0)
    # a bulletin is stale when the next one is due
    assert all(j.not_after == j.run_at + dt.timedelta(days=7) for j in bulletins)


def test_luoshan_phases_incentives_and_data_entry_deadline(builtin: PolicyRegistry) -> None:
    jobs = jobs_of(builtin, "luoshan-2025")
    incentives = {j.cutoff: j.run_at for j in jobs if j.kind == "incentive"}
    assert incentives == {dt.date(2024, 11, 30): at(2024, 11, 27, 9, 0), dt.date(2024, 12, 31): at(2024, 12, 28, 9, 0)}
    deadlines = {j.cutoff: j.run_at for j in jobs if j.kind == "deadline"}
    assert deadlines[dt.date(2024, 12, 30)] == at(2024, 12, 27, 9, 0)  # 参保信息数据录入修改
    phases = {j.cutoff: j for j in jobs if j.kind == "phase"}
    assert set(phases) == {dt.date(2024, 10, 1), dt.date(2024, 12, 1)}  # 集中征收, 检查核对 (宣传发动 has no start)
    assert phases[dt.date(2024, 12, 1)].run_at == at(2024, 12, 1, 9, 0)
    # no monthly window: one payment cutoff, the period end
    assert {j.cutoff for j in jobs if j.kind == "reminder"} == {dt.date(2024, 12, 31)}


def test_offsets_and_times_are_settings(builtin: PolicyRegistry) -> None:
    settings = replace(SETTINGS, reminder_days=(7, 3, 0), reminder_time=dt.time(18, 30),
                       digest_days=2, digest_time=dt.time(8, 15), escalation_days=2, escalation_time=dt.time(16))
    nov = {j.stage: j.run_at for j in jobs_of(builtin, "lingchuan-2025", settings)
           if j.cutoff == dt.date(2024, 11, 25)}
    assert nov == {
        "reminder-7d": at(2024, 11, 18, 18, 30),
        "reminder-3d": at(2024, 11, 22, 18, 30),
        "reminder-0d": at(2024, 11, 25, 18, 30),
        "digest": at(2024, 11, 23, 8, 15),
        "escalation": at(2024, 11, 23, 16, 0),
    }


def test_upcoming_and_the_stages_before_the_next_cutoff(builtin: PolicyRegistry) -> None:
    jobs = all_jobs(builtin, SETTINGS, "陵川县")
    later = upcoming(jobs, at(2024, 11, 22, 9, 0))
    assert later[0].id == "lingchuan-2025:2024-11-25:escalation"
    with pytest.raises(ValueError):
        upcoming(jobs, dt.datetime(2024, 11, 22, 9, 0))
    stages = next_cutoff_jobs(jobs, dt.date(2024, 11, 20))
    assert [j.stage for j in stages] == ["reminder-5d", "digest", "escalation", "reminder-1d"]
    assert {j.cutoff for j in stages} == {dt.date(2024, 11, 25)}
    assert [j.stage for j in next_cutoff_jobs(jobs, dt.date(2024, 11, 23))] == ["escalation", "reminder-1d"]
    assert {j.cutoff for j in next_cutoff_jobs(jobs, dt.date(2024, 11, 25))} == {dt.date(2024, 12, 25)}
