"""Attacks on the webhook not covered by test_hostile/test_crypto: odd query strings, methods, ciphertext cut
or padded, XML tricks, and header fields (openid, MsgId, ...) no WeChat push carries. Each is refused with a
4xx (never a 500 or a traceback), nothing is stored, and the server keeps answering."""

from __future__ import annotations

import base64
import logging
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.store.models import InboundMessage, MessageLog
from bot.wechat.protocol import signature
from tests.wechat import samples
from tests.wechat.conftest import AES_KEY, APPID, TOKEN, now_ts
from tests.wechat.samples import fresh
from tests.wechat.test_hostile import still_serving
from tests.wechat.test_retries import CountingResponder


def signed(ts: str, nonce: str = "4242") -> dict[str, str]:
    return {"signature": signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}


# -- the query string -------------------------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", ["²³", "１７００００００００", "9" * 5000, "+1700000000", " 1700000000"],
                         ids=["superscript", "full-width", "5000-digits", "plus", "space"])
async def test_a_timestamp_that_is_not_ascii_digits_is_403(bot, caplog, timestamp):
    """str.isdigit() is true for ² and full-width digits, and int() refuses 5000 digits: none may be a 500."""
    with caplog.at_level(logging.ERROR):
        resp = await bot.client.post("/wechat", params=signed(timestamp), data=fresh(samples.TEXT).encode())
        assert resp.status == 403
        resp = await bot.client.get("/wechat", params={**signed(timestamp), "echostr": "attacker-echo"})
        assert resp.status == 403 and "attacker-echo" not in await resp.text()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await still_serving(bot)


async def test_duplicated_query_parameters_do_not_mix_two_signatures(bot):
    """A good signature and a forged one side by side: what is checked is what is used."""
    params, body = bot.signer().sign(fresh(samples.TEXT, content="陵川县低保户交多少"))
    forged = {**params, "signature": "0" * 40, "msg_signature": "0" * 40}
    for first, second in ((forged, params), (params, forged)):
        pairs = [(k, first[k]) for k in params] + [(k, second[k]) for k in params]
        query = "&".join(f"{k}={v}" for k, v in pairs)
        resp = await bot.client.post(f"/wechat?{query}", data=body)
        assert resp.status == (403 if first is forged else 200)
    await still_serving(bot)


async def test_get_verification_with_a_bad_signature_echoes_nothing(bot):
    ts = now_ts()
    resp = await bot.client.get("/wechat", params={**signed(ts), "signature": "0" * 40, "echostr": "attacker-echo"})
    assert resp.status == 403 and "attacker-echo" not in await resp.text()
    resp = await bot.client.get("/wechat", params={"timestamp": ts, "nonce": "1", "echostr": "attacker-echo"})
    assert resp.status == 403 and "attacker-echo" not in await resp.text()
    resp = await bot.client.get("/wechat", params={**signed(ts), "echostr": "genuine"})
    assert resp.status == 200 and await resp.text() == "genuine"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"])
async def test_other_methods_are_405(bot, method):
    params, body = bot.signer().sign(fresh(samples.TEXT, openid="o_method", content="陵川县低保户交多少"))
    resp = await bot.client.request(method, "/wechat", params=params, data=body)
    assert resp.status == 405
    assert await bot.conversation("o_method") == []
    await still_serving(bot)


@pytest.mark.parametrize("mode", ["safe"])
async def test_safe_mode_plain_signature_without_msg_signature_is_refused(bot):
    """encrypt_type=aes with `signature` right and msg_signature missing (or the plain signature in its place)."""
    params, body = bot.signer().sign(fresh(samples.TEXT, openid="o_confused", content="我交了吗"))
    without = {k: v for k, v in params.items() if k != "msg_signature"}
    for query in (without, {**without, "msg_signature": params["signature"]}):
        resp = await bot.client.post("/wechat", params=query, data=body)
        assert resp.status == 403
    assert await bot.conversation("o_confused") == []


# -- the envelope -----------------------------------------------------------------------------------------


KEYED = pytest.mark.parametrize("mode", ["compatible", "safe"])


def envelope_post(encrypt: str) -> tuple[dict[str, str], bytes]:
    ts, nonce = now_ts(), "31337"
    body = f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return {**signed(ts, nonce), "encrypt_type": "aes", "msg_signature": signature(TOKEN, ts, nonce, encrypt)}, \
        body.encode()


def _tampered(raw: bytes, how: str) -> bytes:
    if how == "truncated-block":
        return raw[:-16]
    if how == "truncated-byte":
        return raw[:-1]
    if how == "extra-block":
        return raw + raw[-16:]
    if how == "empty":
        return b""
    raise AssertionError(how)


@KEYED
@pytest.mark.parametrize("how", ["truncated-block", "truncated-byte", "extra-block", "empty"])
async def test_cut_or_padded_ciphertext_is_refused(bot, caplog, how):
    """Correctly signed (msg_signature over the tampered Encrypt), so only the decryption can refuse it."""
    encrypt = bot.signer().encrypt(fresh(samples.TEXT, openid="o_cut", content="陵川县低保户交多少"))
    tampered = base64.b64encode(_tampered(base64.b64decode(encrypt), how)).decode()
    with caplog.at_level(logging.ERROR):
        params, body = envelope_post(tampered)
        resp = await bot.client.post("/wechat", params=params, data=body)
    assert resp.status in (400, 403)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await bot.conversation("o_cut") == []
    await still_serving(bot)


@KEYED
@pytest.mark.parametrize("declared", [None, 0, 10, 1 << 30, 0xFFFFFFFF], ids=["true", "0", "10", "1G", "4G"])
async def test_a_lying_length_inside_the_envelope_is_refused(bot, declared):
    """The 4-byte length inside the plaintext says more (or less) than there is; the true length (the same
    envelope built honestly) is answered, so the refusals are the length's doing."""
    key = base64.b64decode(AES_KEY + "=")
    xml = fresh(samples.TEXT, openid="o_len", content="陵川县低保户交多少").encode()
    length = len(xml) if declared is None else declared
    plain = b"0123456789abcdef" + length.to_bytes(4, "big") + xml + APPID.encode()
    pad = 32 - len(plain) % 32  # PKCS#7 to a multiple of 32, as WeChat pads
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypt = base64.b64encode(enc.update(plain + bytes([pad]) * pad) + enc.finalize()).decode()
    params, body = envelope_post(encrypt)
    resp = await bot.client.post("/wechat", params=params, data=body)
    if declared is None:
        assert resp.status == 200 and len(await bot.conversation("o_len")) == 1
    else:
        assert resp.status in (400, 403)
        assert await bot.conversation("o_len") == []


# -- the XML ----------------------------------------------------------------------------------------------


def text_message(openid: str = "o_xml", content: str = "陵川县低保户交多少", **fields: str) -> str:
    parts = {"ToUserName": "<![CDATA[toUser]]>", "FromUserName": f"<![CDATA[{openid}]]>",
             "CreateTime": str(int(time.time())), "MsgType": "<![CDATA[text]]>",
             "Content": f"<![CDATA[{content}]]>", "MsgId": str(time.time_ns() // 1000), **fields}
    return "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in parts.items()) + "</xml>"


@pytest.mark.parametrize(
    "body",
    [
        '<xml xmlns:xi="http://www.w3.org/2001/XInclude"><ToUserName>t</ToUserName><FromUserName>o_xml</FromUserName>'
        '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content><xi:include href="file:///etc/passwd" '
        'parse="text"/></Content><MsgId>1</MsgId></xml>',
        "<xml" + ' a="' + "x" * 200_000 + '"' + "><ToUserName>t</ToUserName></xml>",
        "<xml>" + "<a>" * 50_000 + "</a>" * 50_000 + "</xml>",
        text_message().replace("陵川县", "\x00"),
        text_message().encode("utf-8").replace("陵川县".encode(), b"\xff\xfe\xc3").decode("latin-1"),
        '<?xml version="1.0" encoding="gbk"?>' + text_message(),
        text_message().replace("<![CDATA[toUser]]>", "<![CDATA[toUser]]]]><![CDATA[>"),
    ],
    ids=["xinclude", "huge-attribute", "deep-nesting", "nul", "invalid-utf8", "declared-gbk", "cdata-split"],
)
async def test_xml_tricks_never_reach_a_500(bot, caplog, body):
    with caplog.at_level(logging.ERROR):
        data = body.encode("latin-1") if "\xff" in body else body
        if bot.mode == "plain":
            resp = await bot.client.post("/wechat", params=signed(now_ts()), data=data)
        else:
            resp = await bot.post_body(data if isinstance(data, str) else data.decode("latin-1"))
    assert resp.status in (200, 400, 413), resp.status
    assert "/etc/passwd" not in await resp.text() and "root:" not in await resp.text()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await still_serving(bot)


async def test_a_utf16_body_with_its_bom_is_read(bot):
    """UTF-16 with a BOM is well-formed XML: read as such (never garbled, never a 500)."""
    xml = text_message(openid="o_utf16")
    ts = now_ts()
    if bot.mode != "plain":
        pytest.skip("the envelope carries UTF-8 by construction")
    resp = await bot.client.post("/wechat", params=signed(ts), data=xml.encode("utf-16"))
    assert resp.status == 200
    assert "80元" in await resp.text()


# -- the header fields ------------------------------------------------------------------------------------


ODD_FIELDS = {
    "openid-newline": {"FromUserName": "<![CDATA[o_evil\nINFO forged log line]]>"},
    "openid-markup": {"FromUserName": "<![CDATA[o_<b>x</b>]]>"},
    "openid-long": {"FromUserName": "<![CDATA[" + "o" * 300 + "]]>"},
    "openid-chinese": {"FromUserName": "<![CDATA[张三]]>"},
    "account-long": {"ToUserName": "<![CDATA[" + "g" * 300 + "]]>"},
    "msgid-text": {"MsgId": "abc;DROP TABLE"},
    "msgid-long": {"MsgId": "9" * 300},
    "msgtype-long": {"MsgType": "<![CDATA[" + "t" * 300 + "]]>"},
    "createtime-text": {"CreateTime": "yesterday"},
    "createtime-long": {"CreateTime": "9" * 300},
}


@pytest.mark.parametrize("fields", ODD_FIELDS.values(), ids=ODD_FIELDS.keys())
async def test_header_fields_no_wechat_push_carries_are_400(bot, caplog, fields):
    """WeChat's openids are 28 characters of [A-Za-z0-9_-], MsgId and CreateTime digits: anything else is not
    from WeChat (a replayed signature in plain or compatible mode), and must neither be stored nor make a 500
    (the database refuses an openid over 64 characters)."""
    with caplog.at_level(logging.ERROR):
        resp = await bot.post(text_message(**fields))
    assert resp.status == 400, (resp.status, await resp.text())
    assert await bot.count(MessageLog) == 0 and await bot.count(InboundMessage) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await still_serving(bot)


async def test_an_event_with_a_long_event_name_is_400(bot):
    xml = samples.SUBSCRIBE.replace("<![CDATA[subscribe]]>", "<![CDATA[" + "s" * 300 + "]]>")
    resp = await bot.post(fresh(xml))
    assert resp.status == 400
    assert await bot.count(InboundMessage) == 0


@pytest.mark.parametrize(
    "content",
    ["陵川县\u202e低保户交多少", "陵川县\u200b低保户\u200d交多少", "陵川县低保户交多少\ufeff",
     "𠀀陵川县低保户交多少🧧"],
    ids=["rtl-override", "zero-width", "bom", "astral"],
)
async def test_invisible_and_astral_characters_still_get_the_answer(bot, content):
    reply = await bot.ask(fresh(samples.TEXT, content=content))
    assert reply and "80元" in reply


@pytest.mark.parametrize("mode", ["plain"])
async def test_a_refusal_is_one_short_log_line_whatever_the_body(bot, caplog):
    """The reason logged for a refused body names the element, not 200 KB of it."""
    with caplog.at_level(logging.WARNING, logger="yibao.wechat.webhook"):
        resp = await bot.client.post("/wechat", params=signed(now_ts()), data=f"<{'a' * 200_000}/>".encode())
    assert resp.status == 400
    (line,) = [r.getMessage() for r in caplog.records]
    assert len(line) < 300 and len(await resp.text()) < 300


@pytest.mark.parametrize("mode", ["plain"])
async def test_a_flood_of_headers_is_refused(bot):
    headers = {f"X-Junk-{i}": "x" * 100 for i in range(500)}
    params, body = bot.signer().sign(fresh(samples.TEXT, openid="o_headers", content="陵川县低保户交多少"))
    resp = await bot.client.post("/wechat", params=params, data=body, headers=headers)
    assert 400 <= resp.status < 500
    assert await bot.conversation("o_headers") == []
    await still_serving(bot)


ODD_BODIES = {
    "text without Content": text_message().replace("<Content><![CDATA[陵川县低保户交多少]]></Content>", ""),
    "Content with children": text_message().replace("<![CDATA[陵川县低保户交多少]]>", "<a>陵川</a><b>交多少</b>"),
    "Content empty": text_message().replace("<![CDATA[陵川县低保户交多少]]>", ""),
    "an unknown MsgType": text_message(MsgType="<![CDATA[hologram]]>"),
    "an unknown event": fresh(samples.CLICK).replace("<![CDATA[CLICK]]>", "<![CDATA[teleport]]>"),
    "a click without EventKey": fresh(samples.CLICK).replace("<EventKey><![CDATA[EVENTKEY]]></EventKey>", ""),
    "a click with a nested EventKey": fresh(samples.CLICK).replace("<![CDATA[EVENTKEY]]>", "<x>FEE</x>"),
    "a location that is not numbers": fresh(samples.LOCATION).replace("23.137466", "north").replace(
        "113.352425", "<x/>"),
    "a subscribe with a huge EventKey": fresh(samples.SUBSCRIBE).replace(
        "</Event>", "</Event><EventKey><![CDATA[qrscene_" + "q" * 100_000 + "]]></EventKey>"),
    "a voice whose Recognition has children": fresh(samples.VOICE).replace("<![CDATA[腾讯微信团队]]>", "<a/>"),
}


@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=ODD_BODIES.keys())
async def test_odd_but_well_formed_messages_get_an_answer_not_a_500(bot, caplog, body):
    with caplog.at_level(logging.ERROR):
        resp = await bot.post(body)
    assert resp.status == 200, (resp.status, await resp.text())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await still_serving(bot)


# -- what a browser makes of an answer ---------------------------------------------------------------------


def plain_and_not_sniffed(resp, content_type: str = "text/plain") -> None:
    assert resp.content_type == content_type and resp.charset == "utf-8"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


async def test_the_echoed_echostr_is_plain_text_a_browser_may_not_sniff_as_html(bot):
    """echostr is not covered by the signature: a signed URL with any echostr reflects it. Sent as text/plain
    with nosniff, a browser shows markup in it as text and never runs it."""
    reflected = "<html><script>alert(document.cookie)</script></html>"
    resp = await bot.client.get("/wechat", params={**signed(now_ts()), "echostr": reflected})
    assert resp.status == 200 and await resp.text() == reflected
    plain_and_not_sniffed(resp)


async def test_every_other_answer_of_the_webhook_is_not_sniffed_either(make_bot):
    bot = await make_bot()
    resp = await bot.post(fresh(samples.UNSUBSCRIBE, openid="o_sniff"))  # "success"
    assert resp.status == 200 and await resp.text() == "success"
    plain_and_not_sniffed(resp)
    resp = await bot.post(fresh(samples.TEXT, openid="o_sniff", content="陵川县低保户交多少"))  # the reply XML
    assert resp.status == 200
    plain_and_not_sniffed(resp, "application/xml")
    resp = await bot.client.get("/wechat", params={**signed(now_ts()), "signature": "0" * 40,
                                                   "echostr": "<b>x</b>"})  # a refusal quoting its reason
    assert resp.status == 403
    plain_and_not_sniffed(resp)
    resp = await bot.client.request("PUT", "/wechat", params=signed(now_ts()))  # aiohttp's own answer
    assert resp.status == 405 and resp.headers.get("X-Content-Type-Options") == "nosniff"
    failing = await make_bot(responder=CountingResponder(fail=True))
    resp = await failing.post(fresh(samples.TEXT, openid="o_sniff2", content="陵川县低保户交多少"))
    assert resp.status == 500 and resp.headers.get("X-Content-Type-Options") == "nosniff"
