"""The stage kinds: each names its templates, its audience and its timing once."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import TZ, Settings
from bot.render import TEMPLATE_DIR
from scheduler.kinds import DIGEST, KINDS, PHASE, REMINDER, RESIDENT_KINDS


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_every_kind_has_its_text_and_fields_templates(kind):
    for part in ("text", "fields"):
        assert (TEMPLATE_DIR / f"{kind.template}_{part}.j2").is_file()


def test_only_reminders_go_to_residents():
    assert {"reminder"} == RESIDENT_KINDS
    assert REMINDER.for_residents and not DIGEST.for_residents


def test_runs_follow_the_settings():
    settings = Settings(reminder_days=(5, 1), digest_days=3)
    cutoff = dt.date(2024, 11, 25)
    assert REMINDER.runs(cutoff, settings) == [
        ("reminder-5d", dt.datetime(2024, 11, 20, 10, 0, tzinfo=TZ)),
        ("reminder-1d", dt.datetime(2024, 11, 24, 10, 0, tzinfo=TZ)),
    ]
    assert DIGEST.runs(cutoff, settings) == [("digest", dt.datetime(2024, 11, 22, 9, 0, tzinfo=TZ))]
    assert PHASE.runs(cutoff, settings) == [("phase", dt.datetime(2024, 11, 25, 9, 0, tzinfo=TZ))]
