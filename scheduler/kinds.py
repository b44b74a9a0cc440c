"""The stage kinds of the collection timetable, each defined once: when it runs, who gets it, its template.

A kind runs before a date: a payment cutoff (reminder, digest, escalation: one job per cutoff, a reminder one
per day of `YIBAO_REMINDER_DAYS`) or a date the notice names (a bulletin's, a deadline, an incentive deadline,
the start of a work phase). `days` and `time` name the settings of how long before and at what time of day.
Residents' kinds are template messages to followers who have not paid; officials' kinds go to the registered
contacts, with the townships' progress where `progress` says so. `template` is the pair
templates/messages/<template>_text.j2 and <template>_fields.j2.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from bot.catalogue import t
from bot.config import TZ, Settings

Audience = Literal["residents", "officials"]


@dataclass(frozen=True)
class StageKind:
    name: str  # the job id's stage (with the days before, for reminders) and the outbox rows' kind
    audience: Audience
    template: str
    days: str | None  # the setting of how many days before its date it runs (None: on the day)
    time: str  # the setting of the time of day it runs at
    progress: bool = False  # its messages carry the townships' progress
    villages: bool = False  # ... and the laggard villages of each township

    @property
    def label(self) -> str:
        """What `yibao jobs`, `yibao remind plan` and the console call it (templates/cli/zh.toml [jobs.stages])."""
        return t(f"jobs.stages.{self.name}")

    @property
    def for_residents(self) -> bool:
        return self.audience == "residents"

    def runs(self, day: dt.date, settings: Settings) -> list[tuple[str, dt.datetime]]:
        """(stage, when) of each job of this kind about `day`."""
        at = getattr(settings, self.time)
        if self.days is None:
            return [(self.name, dt.datetime.combine(day, at, TZ))]
        days = getattr(settings, self.days)
        if isinstance(days, int):
            return [(self.name, dt.datetime.combine(day - dt.timedelta(days=days), at, TZ))]
        return [(f"{self.name}-{n}d", dt.datetime.combine(day - dt.timedelta(days=n), at, TZ)) for n in days]


REMINDER = StageKind("reminder", "residents", "reminder", "reminder_days", "reminder_time")
DIGEST = StageKind("digest", "officials", "digest", "digest_days", "digest_time",
                   progress=True, villages=True)
ESCALATION = StageKind("escalation", "officials", "escalation", "escalation_days",
                       "escalation_time", progress=True)
BULLETIN = StageKind("bulletin", "officials", "bulletin", None, "digest_time", progress=True)
DEADLINE = StageKind("deadline", "officials", "phase_deadline", "digest_days", "digest_time")
INCENTIVE = StageKind("incentive", "officials", "phase_incentive", "digest_days", "digest_time",
                      progress=True)
PHASE = StageKind("phase", "officials", "phase_start", None, "digest_time")

KINDS = {k.name: k for k in (REMINDER, DIGEST, ESCALATION, BULLETIN, DEADLINE, INCENTIVE, PHASE)}
PAYMENT_KINDS = (REMINDER, DIGEST, ESCALATION)  # the kinds planned for every payment cutoff
RESIDENT_KINDS = frozenset(k.name for k in KINDS.values() if k.for_residents)
