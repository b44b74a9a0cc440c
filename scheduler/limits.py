"""WeChat's sending limits on our side: a token bucket for the call rate, the daily template quota, quiet hours."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from bot.config import TZ


class TokenBucket:
    """At most `rate` calls a second on average, bursts of up to `rate` (rate 0: no limit)."""

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self._tokens = self.capacity
        self._at = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


class DailyQuota:
    """Template messages a day (WeChat: 100,000 by default), counted per Asia/Shanghai day.

    The count starts from what the outbox already records as sent today (`used`), so a restart does not
    reset it; several sender processes each read the outbox at the start of the day and may together overshoot
    by what they send between reads (WeChat then answers 45009, which is retried later).
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.day: dt.date | None = None
        self.used = 0

    def reset(self, day: dt.date, used: int) -> None:
        self.day, self.used = day, used

    def needs_reset(self, now: dt.datetime) -> bool:
        return self.day != now.astimezone(TZ).date()

    def take(self) -> bool:
        if self.limit and self.used >= self.limit:
            return False
        self.used += 1
        return True

    def give_back(self) -> None:
        self.used = max(self.used - 1, 0)


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), TZ)


def quiet_until(now: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime | None:
    """The end of the quiet hours `now` falls in (e.g. 21:00-08:00 -> the next 08:00), or None."""
    local = now.astimezone(TZ)
    t = local.time()
    if start == end:
        return None
    inside = start <= t < end if start < end else t >= start or t < end  # the latter across midnight
    if not inside:
        return None
    day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, TZ)
