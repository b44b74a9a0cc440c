"""The officials' side of 澄湾区 2027 (tests/fixtures/policies/chengwan-2027.yaml): no monthly window, a 补缴期
for every resident who has not paid (no `who`), reminders before each end."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.rules.loader import load_registry
from scheduler.describe import describe_job
from scheduler.timetable import all_jobs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "policies"


def test_a_late_period_for_everyone_is_described_without_a_group() -> None:
    jobs = all_jobs(load_registry([FIXTURES]), Settings(), region="澄湾区")
    late = [describe_job(j) for j in jobs if j.cutoff_kind == "extension_end"]
    assert late and all("4月30日" in d and "未缴费的居民均可缴" in d for d in late), late
    assert not any("None" in describe_job(j) for j in jobs)
    assert not any(j.cutoff_kind == "monthly" for j in jobs)
