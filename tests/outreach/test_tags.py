"""Region tags on WeChat follow the follower's region: tagged in the background, moved when the region
changes, 50 openids per call, and never more than WeChat's 100 tags."""

from __future__ import annotations

from sqlalchemy import update

from bot.app import SESSIONS
from bot.store.models import Follower
from scheduler.tags import sync_tags
from tests.outreach.helpers import add_followers, wechat, wire


def tag_calls(state, endpoint: str) -> list[dict]:
    return [c for c in state.calls if c["endpoint"] == f"tags/members/{endpoint}"]


async def test_tags_are_batched_and_follow_a_move(bot, fake):
    state = wire(bot, fake)
    await add_followers(bot, [(f"o{i:03d}", "陵川县", "礼义镇") for i in range(120)])
    async with wechat(bot) as client:
        assert (await sync_tags(bot.app[SESSIONS], client))["followers"] == 120
        assert [len(c["body"]["openid_list"]) for c in tag_calls(state, "batchtagging")] == [50, 50, 20] * 2
        assert (await sync_tags(bot.app[SESSIONS], client))["followers"] == 0  # nothing lags now
        async with bot.app[SESSIONS].begin() as session:
            await session.execute(update(Follower).where(Follower.openid == "o000").values(township="崇文镇"))
        assert (await sync_tags(bot.app[SESSIONS], client))["followers"] == 1
    names = {i: n for i, n in state.tags.items()}
    assert {names[t] for t in state.user_tags["o000"]} == {"陵川县", "陵川县崇文镇"}
    assert {names[t] for t in state.user_tags["o001"]} == {"陵川县", "陵川县礼义镇"}


async def test_no_tag_beyond_the_accounts_hundred(bot, fake):
    state = wire(bot, fake)
    for i in range(99):
        state.tags[1000 + i] = f"别的标签{i}"
    await add_followers(bot, [("o-a", "陵川县", "礼义镇")])
    async with wechat(bot) as client:
        await sync_tags(bot.app[SESSIONS], client)
    assert len(state.tags) == 100
    assert {state.tags[t] for t in state.user_tags["o-a"]} == {"陵川县"}
