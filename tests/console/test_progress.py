"""The progress pages give the share of the target expected today and by the next cutoff (the figure the
township digests and the escalations give), with that cutoff's date from the notice's calendar."""

from __future__ import annotations

import datetime as dt

from bot.app import SESSIONS
from bot.rules.loader import PolicyRegistry
from tests.console.conftest import TODAY, Console
from tests.scheduler.helpers import Person, add_people


def linear(registry: PolicyRegistry, day: dt.date) -> str:
    """The notice's collection period elapsed by the end of `day`, as the pages print it."""
    c = registry.get("陵川县", 2025).collection
    return f"{100 * ((day - c.start).days + 1) / ((c.end - c.start).days + 1):.1f}%"


async def test_the_county_and_township_pages_give_the_share_expected_by_the_next_cutoff(
        console: Console, registry: PolicyRegistry) -> None:
    cutoff = dt.date(2024, 11, registry.get("陵川县", 2025).collection.monthly_window.last_day)
    assert await console.login("staff") == 303
    for path in ("/console/?region=陵川县", "/console/township/陵川县/崇文镇"):
        html = await (await console.client.get(path)).text()
        assert f"按时间进度应达 {linear(registry, TODAY.date())}" in html, path
        assert "2024年11月25日" in html and f"{(cutoff - TODAY.date()).days}天" in html, path
        assert f"届时应达 {linear(registry, cutoff)}" in html, path


async def test_the_campaigns_page_opens_on_the_county_the_progress_page_opens_on(console: Console) -> None:
    """With residents of one county only, both pages open on it (not on the first policy file's county)."""
    await add_people(console.app[SESSIONS], [Person("礼义镇"), Person("崇文镇", paid=True)])
    assert await console.login("staff") == 303
    progress = await (await console.client.get("/console/")).text()
    campaigns = await (await console.client.get("/console/campaigns")).text()
    assert "陵川县 2025年度 征缴进度" in progress and "陵川县 2025年度 提醒任务" in campaigns
