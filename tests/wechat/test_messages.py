"""WeChat's documented messages and events in, reply XML out, through the real pipeline."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.store.models import Follower, MessageLog
from bot.wechat.protocol import signature
from tests.wechat import samples
from tests.wechat.conftest import TODAY, TOKEN, now_ts
from tests.wechat.samples import fresh


async def test_get_verification_echoes_echostr(bot):
    ts, nonce = now_ts(), "1514711492"
    params = {"signature": signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    params["echostr"] = "5838479218127813673"
    resp = await bot.client.get("/wechat", params=params)
    assert resp.status == 200
    assert await resp.text() == "5838479218127813673"

    resp = await bot.client.get("/wechat", params={**params, "signature": "0" * 40})
    assert resp.status == 403


async def test_text_reply_is_wechat_xml_with_the_answer(bot):
    resp = await bot.post(fresh(samples.TEXT, content="陵川县低保户交多少"))
    assert resp.status == 200
    reply = await bot.reply_fields(resp)
    assert reply["ToUserName"] == "fromUser"
    assert reply["FromUserName"] == "toUser"
    assert reply["MsgType"] == "text"
    assert reply["CreateTime"].isdigit()
    assert "80元" in reply["Content"]
    assert "陵政办函〔2024〕16号" in reply["Content"]


async def test_voice_uses_recognition(bot):
    reply = await bot.ask(fresh(samples.VOICE, content="陵川县低保户交多少钱。"))
    assert "80元" in reply


async def test_voice_without_recognition_gets_a_hint(bot):
    reply = await bot.ask(fresh(samples.VOICE_UNRECOGNISED))
    assert "语音" in reply and "交多少钱" in reply


async def test_subscribe_welcomes_and_asks_county_and_township(bot):
    reply = await bot.ask(fresh(samples.SUBSCRIBE, openid="o_new"))
    assert "欢迎关注" in reply
    assert "哪个县、哪个乡镇" in reply
    assert "陵川县" in reply
    row = (await bot.rows(select(Follower).where(Follower.openid == "o_new")))[0][0]
    assert row.subscribed is True
    assert row.subscribed_at == TODAY


async def test_welcome_back_names_the_bound_region(bot):
    await bot.ask(fresh(samples.TEXT, openid="o_back", content="我是陵川县礼义镇的"))
    reply = await bot.ask(fresh(samples.SUBSCRIBE, openid="o_back"))
    assert "陵川县礼义镇" in reply and "切换地区" in reply


async def test_unsubscribe_is_recorded(bot):
    await bot.ask(fresh(samples.SUBSCRIBE, openid="o_gone"))
    assert await bot.ask(fresh(samples.UNSUBSCRIBE, openid="o_gone")) is None  # "success"
    row = (await bot.rows(select(Follower).where(Follower.openid == "o_gone")))[0][0]
    assert row.subscribed is False
    assert row.unsubscribed_at == TODAY


@pytest.mark.parametrize(
    ("key", "expected"),
    [("FEE", "400元"), ("DEADLINE", "2025年2月25日"), ("CHANNELS", "陵川县"), ("MY_STATUS", "")],
)
async def test_menu_clicks_ask_their_question(bot, key, expected):
    await bot.ask(fresh(samples.TEXT, openid="o_menu", content="我是陵川县的"))
    reply = await bot.ask(fresh(samples.CLICK, openid="o_menu", key=key))
    assert reply and expected in reply


async def test_unknown_menu_key_gets_a_hint(bot):
    reply = await bot.ask(fresh(samples.CLICK, key="NO_SUCH_KEY"))
    assert "菜单" in reply


async def test_location_event_gets_success(bot):
    resp = await bot.post(fresh(samples.LOCATION))
    assert resp.status == 200
    assert await resp.text() == "success"


@pytest.mark.parametrize("sample", [samples.IMAGE, samples.LINK])
async def test_other_messages_get_a_polite_hint(bot, sample):
    reply = await bot.ask(fresh(sample))
    assert "只能看懂文字" in reply


async def test_region_binding_is_remembered(bot):
    reply = await bot.ask(fresh(samples.TEXT, openid="o_bind", content="我是陵川县礼义镇的"))
    assert "陵川县" in reply
    reply = await bot.ask(fresh(samples.TEXT, openid="o_bind", content="低保户交多少"))
    assert "80元" in reply
    row = (await bot.rows(select(Follower).where(Follower.openid == "o_bind")))[0][0]
    assert (row.county, row.township) == ("陵川县", "礼义镇")
    assert row.last_message_at == TODAY and row.last_interaction_at == TODAY
    assert row.window_sends == 0


async def test_a_question_without_region_is_completed_by_the_next_message(bot):
    reply = await bot.ask(fresh(samples.TEXT, openid="o_pending", content="低保户交多少"))
    assert "哪个县" in reply
    state = await bot.scalar(select(Follower.state).where(Follower.openid == "o_pending"))
    assert state.get("pending")
    reply = await bot.ask(fresh(samples.TEXT, openid="o_pending", content="陵川"))
    assert "80元" in reply
    state = await bot.scalar(select(Follower.state).where(Follower.openid == "o_pending"))
    assert not state.get("pending")


async def test_menu_click_is_an_interaction_not_a_message(bot):
    await bot.ask(fresh(samples.CLICK, openid="o_click", key="FEE"))
    row = (await bot.rows(select(Follower).where(Follower.openid == "o_click")))[0][0]
    assert row.last_interaction_at == TODAY
    assert row.last_message_at is None


async def test_message_log_masks_id_and_phone_numbers(bot):
    text = "我的身份证140524199001011234，电话13812345678，交多少"
    reply = await bot.ask(fresh(samples.TEXT, openid="o_log", content=text))
    assert await bot.count(MessageLog) == 1  # the reply is inbound_messages.reply, named by reply_key
    rows = await bot.rows(
        select(MessageLog.direction, MessageLog.content, MessageLog.created_at, MessageLog.intent)
        .where(MessageLog.openid == "o_log")
        .order_by(MessageLog.id)
    )
    assert [(r.direction, r.intent) for r in rows] == [("in", "fee")]
    assert (await bot.conversation("o_log"))[0][2] == reply
    logged = rows[0].content
    assert "140524199001011234" not in logged and "13812345678" not in logged
    assert "140524" in logged and "1234" in logged and "138****5678" in logged
    assert rows[0].created_at == TODAY.astimezone(dt.UTC)
