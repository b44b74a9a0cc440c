"""The township page a digest links to: signed and expiring, only that township, refused in Chinese (403)
when tampered with or expired."""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import parse_qsl, urlencode, urlsplit

from bot.app import SESSIONS
from bot.config import TZ
from bot.store.signing import page_url
from tests.scheduler.helpers import Person, add_people
from tests.wechat.conftest import TODAY


def link(bot, township: str, expires: dt.datetime) -> str:
    url = page_url(bot.settings.public_url, bot.settings.link_key, "陵川县", township, 2025, expires)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_the_page_shows_that_township_only(bot):
    await add_people(bot.app[SESSIONS], [
        Person("礼义镇", "东村", paid=True), Person("礼义镇", "东村"), Person("礼义镇", "西村"),
        Person("礼义镇", "西村", categories=("dibao",)), Person("崇文镇", "南村", paid=True),
    ])
    resp = await bot.client.get(link(bot, "礼义镇", TODAY + dt.timedelta(days=7)))
    assert resp.status == 200
    html = await resp.text()
    assert "陵川县礼义镇 2025年度医保征缴进度" in html
    assert "花名册4人，尚未缴费3人" in html
    assert "西村" in html and "东村" in html and "南村" not in html  # another township's village
    assert "低保" in html and "陵政办函〔2024〕16号" in html
    assert resp.headers["Cache-Control"] == "no-store"


async def test_tampered_and_expired_links_are_refused(bot):
    good = link(bot, "礼义镇", TODAY + dt.timedelta(days=7))
    path, query = good.split("?")
    params = dict(parse_qsl(query))
    for changed in ({"t": "崇文镇"}, {"e": str(int(params["e"]) + 86400)}, {"s": "0" * 32}, {"y": "2023"}):
        resp = await bot.client.get(path + "?" + urlencode({**params, **changed}))
        assert resp.status == 403
        assert "链接无效" in await resp.text()
    resp = await bot.client.get(path)
    assert resp.status == 403
    expired = link(bot, "礼义镇", TODAY - dt.timedelta(seconds=1))
    resp = await bot.client.get(expired)
    assert resp.status == 403 and "链接已过期" in await resp.text()


async def test_a_link_made_with_another_key_is_refused(make_bot):
    bot = await make_bot(link_key="the-real-key")
    forged = page_url("http://x", "yibao-demo-link-key", "陵川县", "礼义镇", 2025,
                      dt.datetime(2030, 1, 1, tzinfo=TZ))
    resp = await bot.client.get("/township?" + urlsplit(forged).query)
    assert resp.status == 403


async def test_the_page_gives_the_next_cutoff_and_the_share_the_digest_expects_by_it(bot, registry):
    """The digest says "11月25日前应完成X%"; the page it links to gives the same cutoff, days and figure (from
    the notice's calendar: each month's 25th, the period 9月1日—2月25日) and how many must still pay."""
    await add_people(bot.app[SESSIONS], [Person("礼义镇", "东村", paid=True), Person("礼义镇", "西村")])
    resp = await bot.client.get(link(bot, "礼义镇", TODAY + dt.timedelta(days=7)))
    html = await resp.text()
    policy = registry.get("陵川县", 2025)
    start, end = policy.collection.start, policy.collection.end
    cutoff = dt.date(2024, 11, policy.collection.monthly_window.last_day)
    by_cutoff = round(100 * ((cutoff - start).days + 1) / ((end - start).days + 1), 1)
    today = round(100 * ((TODAY.date() - start).days + 1) / ((end - start).days + 1), 1)
    table = policy.targets[0]
    target = next(r for r in table.rows if r.name == "礼义镇").values[table.target_column]
    short = math.ceil(target * by_cutoff / 100) - 1  # less the one who paid
    assert f"按序时进度，截至今天应完成{today}%" in html
    assert f"2024年11月25日缴费截止（还有5天），届时应完成{by_cutoff}%，还需缴费{int(short)}人" in html
    assert "在11个乡镇（街道）中排第" in html and "单位" not in html
