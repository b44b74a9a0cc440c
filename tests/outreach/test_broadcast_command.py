"""`yibao broadcast`: the preview staff see (audience, monthly limit), the confirm step, the policy announcement."""

from __future__ import annotations

import argparse
import asyncio
import io
import re

import pytest

from bot.app import SESSIONS
from bot.commands.broadcast import list_command, new_command, send_command
from bot.commands.text import CommandError
from bot.store import broadcasts as store
from bot.store.models import MassCount
from tests.outreach.helpers import add_followers, wire
from tests.outreach.test_broadcast import NOW


def args(**kw) -> argparse.Namespace:
    base = {"text": None, "from_policy": None, "title": None, "audience": "all", "region": None, "township": None,
            "group": None, "year": None, "by": "张敏", "yes": False, "openid": None}
    return argparse.Namespace(**{**base, **kw})


async def test_preview_counts_those_at_the_monthly_limit_and_send_asks_first(bot, fake):
    state = wire(bot, fake)
    await add_followers(bot, [(f"o{i}", "陵川县", "礼义镇") for i in range(5)])
    async with bot.app[SESSIONS].begin() as session:
        for i in range(2):
            session.add(MassCount(openid=f"o{i}", month=store.month_of(NOW), count=4))
    out = io.StringIO()
    code = await new_command(bot.settings, args(from_policy=["陵川", "2025"], audience="county", region="陵川县"), out)
    text = out.getvalue()
    assert code == 0
    assert "共5人；其中2人本月已收满4条群发，将收不到这条；将发送给3人" in text
    assert "个人缴费标准：每人每年400元" in text and "陵政办函〔2024〕16号" in text
    assert "2024年9月1日至2025年2月25日，每月1—25日可缴" in text
    (number,) = re.findall(r"草稿已保存。下一步：yibao broadcast send (\d+)", text)
    declined = io.StringIO()
    assert await send_command(bot.settings, args(id=int(number)), declined, confirm=io.StringIO("no\n")) == 1
    assert "已取消" in declined.getvalue() and not state.calls
    sent = io.StringIO()
    assert await send_command(bot.settings, args(id=int(number)), sent, confirm=io.StringIO("yes\n")) == 0
    assert "已发送：3人（2人本月群发已满，未发送）" in sent.getvalue()
    # The receipt is pushed to the webhook; on a loaded machine its answer may go past the reply budget and be
    # recorded just after the push returned: wait for it a while (30 s at most: a hang guard, not a timing).
    for _ in range(300):
        await state.settle()
        listing = io.StringIO()
        await list_command(bot.settings, 5, listing)
        if "回执" in listing.getvalue():
            break
        await asyncio.sleep(0.1)
    assert "回执1/1批：送达3人，失败0人" in listing.getvalue(), state.pushed


async def test_a_township_audience_needs_its_township(bot):
    with pytest.raises(CommandError, match="请指明乡镇"):
        await new_command(bot.settings, args(text="通知", audience="township", region="陵川县"), io.StringIO())


async def test_preview_to_the_authors_own_wechat(bot, fake):
    from sqlalchemy import select

    from bot.commands.broadcast import preview_command
    from bot.store.models import AuditLog

    state = wire(bot, fake)
    await add_followers(bot, [(f"o{i}", "陵川县", "礼义镇") for i in range(3)])
    out = io.StringIO()
    await new_command(bot.settings, args(text="礼义镇居民：本月25日前请缴纳医保。", audience="township",
                                         region="陵川县", township="礼义镇"), out)
    (number,) = re.findall(r"yibao broadcast send (\d+)", out.getvalue())
    shown = io.StringIO()
    assert await preview_command(bot.settings, args(id=int(number), openid="o-author"), shown) == 0
    assert "共3人；将发送给3人" in shown.getvalue() and "预览已发送到 o-author 的微信" in shown.getvalue()
    (call,) = [c for c in state.calls if c["endpoint"] == "message/mass/preview"]
    assert call["body"]["touser"] == "o-author" and call["body"]["text"]["content"].startswith("礼义镇居民")
    assert not [c for c in state.calls if c["endpoint"].startswith("message/mass/send")]
    async with bot.app[SESSIONS]() as session:
        actions = list((await session.execute(select(AuditLog.action).order_by(AuditLog.id))).scalars())
    assert actions == ["broadcast.create", "broadcast.preview"]


async def test_the_audience_is_what_the_options_name_and_a_wrong_name_is_refused(bot):
    """--township or --region without --audience used to make a draft for every follower; a misspelt township
    or an unknown group made a draft that reached nobody. Now the options decide the audience, options the
    audience would not use are refused, and names are checked against the county's notice."""
    await add_followers(bot, [("o1", "陵川县", "礼义镇"), ("o2", "陵川县", "崇文镇"), ("o3", "罗山县", None)])
    out = io.StringIO()
    await new_command(bot.settings, args(text="礼义镇居民：请缴医保。", audience=None, region="陵川县",
                                         township="礼义"), out)
    assert "受众：陵川县礼义镇的关注者" in out.getvalue() and "共1人；将发送给1人" in out.getvalue()
    out = io.StringIO()
    await new_command(bot.settings, args(text="陵川县居民：请缴医保。", audience=None, region="陵川县"), out)
    assert "受众：陵川县的关注者" in out.getvalue() and "共2人" in out.getvalue()
    out = io.StringIO()
    await new_command(bot.settings, args(text="低保户：请缴医保。", audience=None, region="陵川县", group="低保",
                                         year=2025), out)
    assert "尚未缴费的困难群体（城乡低保对象）" in out.getvalue() and "dibao" not in out.getvalue()
    with pytest.raises(CommandError, match="受众是全部关注者时用不到 --region"):
        await new_command(bot.settings, args(text="通知", audience="all", region="陵川县"), io.StringIO())
    with pytest.raises(CommandError) as refused:
        await new_command(bot.settings, args(text="通知", audience="township", region="陵川县", township="礼仪镇"),
                          io.StringIO())
    assert str(refused.value).startswith("陵川县没有“礼仪镇”这个乡镇（街道）。可选：崇文镇、礼义镇")
    with pytest.raises(CommandError, match=r"不认识的困难群体“低保保”.*dibao（城乡低保对象）"):
        await new_command(bot.settings, args(text="通知", audience=None, region="陵川县", group="低保保", year=2025),
                          io.StringIO())
