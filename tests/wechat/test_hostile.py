"""Hostile and odd input: each gets the right status or a sensible reply, and the server keeps answering."""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest

from bot.wechat.protocol import signature
from tests.wechat import samples
from tests.wechat.conftest import TOKEN
from tests.wechat.samples import fresh

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content>&lol3;</Content>
  <MsgId>1234567890123456</MsgId>
</xml>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content>&xxe;</Content>
  <MsgId>1234567890123456</MsgId>
</xml>"""

DTD_ONLY = """<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://example.invalid/wechat.dtd">
<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[交多少钱]]></Content>
  <MsgId>1234567890123456</MsgId>
</xml>"""


async def still_serving(bot) -> None:
    reply = await bot.ask(fresh(samples.TEXT, content="陵川县低保户交多少"))
    assert "80元" in reply


async def test_bad_signature_is_403(bot):
    resp = await bot.post(fresh(samples.TEXT), signature="da39a3ee5e6b4b0d3255bfef95601890afd80709")
    assert resp.status == 403
    await still_serving(bot)


async def test_missing_signature_is_403(bot):
    resp = await bot.client.post("/wechat", data=fresh(samples.TEXT).encode())
    assert resp.status == 403
    await still_serving(bot)


@pytest.mark.parametrize("offset", [-3600, 3600])
async def test_timestamp_outside_the_window_is_403(bot, offset):
    ts, nonce = str(int(time.time()) + offset), "4242"
    params = {"signature": signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}  # correctly signed
    resp = await bot.client.post("/wechat", params=params, data=fresh(samples.TEXT).encode())
    assert resp.status == 403
    await still_serving(bot)


@pytest.mark.parametrize(
    "body",
    [
        "<xml><ToUserName>toUser</ToUserName><FromUserName>fromUser",  # truncated
        "not xml at all",
        "",
        "<xml><ToUserName><![CDATA[toUser]]></ToUserName></xml>",  # no FromUserName / MsgType
        "<message><MsgType>text</MsgType></message>",  # wrong root
    ],
    ids=["truncated", "text", "empty", "incomplete", "wrong-root"],
)
async def test_malformed_xml_is_400(bot, body):
    resp = await bot.post_body(body)
    assert resp.status == 400
    await still_serving(bot)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY], ids=["entities", "external", "dtd"])
async def test_dtd_and_entities_are_400(bot, body):
    resp = await bot.post_body(body)  # encrypted in safe and compatible mode: refused after decryption
    assert resp.status == 400
    await still_serving(bot)


async def post_refused_as_too_large(bot, caplog, data) -> None:
    with caplog.at_level(logging.WARNING, logger="yibao.wechat.webhook"):
        try:
            params, _ = bot.signer().sign(fresh(samples.TEXT))  # the query of this mode: the body is read
            resp = await bot.client.post("/wechat", params=params, data=data)
            assert resp.status == 413
        except aiohttp.ClientOSError:  # the server may close the socket before the client has sent it all
            pass
    assert any(": 413 " in r.getMessage() for r in caplog.records)


async def test_a_3mb_body_is_413(bot, caplog):
    body = fresh(samples.TEXT, content="交" * (1024 * 1024)).encode()  # 3 MB of UTF-8
    assert len(body) > 3 * 1024 * 1024
    await post_refused_as_too_large(bot, caplog, body)
    await still_serving(bot)


async def test_a_3mb_chunked_body_is_413(bot, caplog):
    """Without Content-Length the cap is enforced while streaming."""

    async def chunks():
        for _ in range(48):
            yield b"x" * 65536

    await post_refused_as_too_large(bot, caplog, chunks())
    await still_serving(bot)


async def test_a_5000_character_message_gets_a_sensible_reply(bot):
    reply = await bot.ask(fresh(samples.TEXT, content="我想问一下医保的事情" * 500))
    assert "太长" in reply and "一句话" in reply
    await still_serving(bot)


async def test_a_long_but_reasonable_question_is_answered(bot):
    reply = await bot.ask(fresh(samples.TEXT, content="您好，" * 100 + "陵川县低保户交多少"))
    assert "80元" in reply


@pytest.mark.parametrize("text", ["陵川县低保户交多少💰🙏", "👍", "/::)"])
async def test_emoji_get_sensible_replies(bot, text):
    reply = await bot.ask(fresh(samples.TEXT, content=text))
    assert reply
    if "陵川" in text:
        assert "80元" in reply
    await still_serving(bot)


async def test_whitespace_only_message_gets_a_hint(bot):
    reply = await bot.ask(fresh(samples.TEXT, content="   "))
    assert "请用文字提问" in reply
