"""Safe and compatible mode: encrypted messages in, encrypted replies out, and what is refused."""

from __future__ import annotations

import time

import pytest
from wechatpy.crypto import WeChatCrypto

from bot.wechat.protocol import Forbidden, open_message, parse_xml, signature
from bot.wechat.simulate import Signer
from tests.wechat import samples
from tests.wechat.conftest import AES_KEY, APPID, TOKEN
from tests.wechat.samples import fresh

# A published test vector (wechatpy's tests of the same AES scheme): independent of our own encryption.
VECTOR_TOKEN = "123456"
VECTOR_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
VECTOR_APPID = "wx49f0ab532d5d035a"
VECTOR_BODY = b"""<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>
<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>
<AgentID><![CDATA[1]]></AgentID>
</xml>"""
VECTOR_PARAMS = {
    "encrypt_type": "aes",
    "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
    "timestamp": "1411525903",
    "nonce": "461056294",
}


def test_published_vector_decrypts():
    crypto = WeChatCrypto(VECTOR_TOKEN, VECTOR_KEY, VECTOR_APPID)
    inbound = open_message(VECTOR_BODY, VECTOR_PARAMS, VECTOR_TOKEN, crypto, "safe")
    assert inbound.encrypted
    assert (inbound.openid, inbound.msg_type, inbound.text("Content")) == ("messense", "text", "test")


def test_published_vector_refused_for_another_appid():
    crypto = WeChatCrypto(VECTOR_TOKEN, VECTOR_KEY, "wx_some_other_app")
    with pytest.raises(Forbidden):
        open_message(VECTOR_BODY, VECTOR_PARAMS, VECTOR_TOKEN, crypto, "safe")


def _decrypt_reply(body: str) -> dict:
    """Check the reply envelope as WeChat would, and return the decrypted reply's fields."""
    envelope = parse_xml(body)
    assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert envelope["MsgSignature"] == signature(TOKEN, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)  # checks the AppID at the end of the plaintext
    plain = crypto.decrypt_message(envelope, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
    return parse_xml(plain)


KEYED = pytest.mark.parametrize("mode", ["compatible", "safe"])  # the modes that read envelopes


@KEYED
@pytest.mark.parametrize("compatible", [False, True], ids=["safe-envelope", "compatible-envelope"])
async def test_encrypted_message_gets_an_encrypted_reply(bot, compatible):
    resp = await bot.post(fresh(samples.TEXT, content="陵川县低保户交多少"), aes=True, compatible=compatible)
    assert resp.status == 200
    body = await resp.text()
    assert "80元" not in body  # nothing in clear
    reply = _decrypt_reply(body)
    assert reply["MsgType"] == "text"
    assert reply["ToUserName"] == "fromUser"
    assert "80元" in reply["Content"]


def test_safe_mode_body_has_only_encrypt():
    params, body = Signer(TOKEN, APPID, AES_KEY).sign(fresh(samples.TEXT))
    fields = parse_xml(body)
    assert set(fields) == {"ToUserName", "Encrypt"}
    assert "signature" in params and "msg_signature" in params


@KEYED
async def test_safe_mode_event_success_is_not_encrypted(bot):
    resp = await bot.post(fresh(samples.LOCATION), aes=True)
    assert resp.status == 200
    assert await resp.text() == "success"


@KEYED
async def test_ciphertext_for_another_appid_is_refused(bot):
    signer = bot.signer(aes=True)
    encrypt = signer.encrypt(fresh(samples.TEXT, content="交多少钱"), appid="wx_not_our_app")
    ts, nonce = str(int(time.time())), "12345"
    body = f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    params = {
        "signature": signature(TOKEN, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": signature(TOKEN, ts, nonce, encrypt),
    }
    resp = await bot.client.post("/wechat", params=params, data=body.encode())
    assert resp.status == 403
    assert "80元" in await bot.ask(fresh(samples.TEXT, content="陵川县低保户交多少"), aes=True)


@KEYED
async def test_bad_msg_signature_is_refused(bot):
    resp = await bot.post(fresh(samples.TEXT), aes=True, msg_signature="0" * 40)
    assert resp.status == 403
    assert "80元" in await bot.ask(fresh(samples.TEXT, content="陵川县低保户交多少"), aes=True)


@KEYED
async def test_garbage_ciphertext_is_a_bad_request(bot):
    ts, nonce, encrypt = str(int(time.time())), "777", "bm90IGEgY2lwaGVydGV4dA=="
    body = f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    params = {
        "signature": signature(TOKEN, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": signature(TOKEN, ts, nonce, encrypt),
    }
    resp = await bot.client.post("/wechat", params=params, data=body.encode())
    assert resp.status == 400


@pytest.mark.parametrize("mode", ["plain"])
async def test_plain_mode_reads_the_plaintext_copy_of_a_compatible_message(bot):
    resp = await bot.post(fresh(samples.TEXT, content="陵川县低保户交多少"), aes=True, compatible=True)
    assert resp.status == 200
    assert "80元" in parse_xml(await resp.text())["Content"]  # answered in plain: it has no key


@pytest.mark.parametrize("mode", ["plain"])
async def test_plain_mode_refuses_an_envelope_it_cannot_read(bot, caplog):
    resp = await bot.post(fresh(samples.TEXT, content="陵川县低保户交多少"), aes=True)
    assert resp.status == 400
    assert "YIBAO_WECHAT_AES_KEY" in await resp.text()


@pytest.mark.parametrize("mode", ["safe"])
async def test_safe_mode_refuses_plaintext_with_a_replayed_signature(bot):
    """The attack: a signature read from a log (or any valid one within the window) with a plaintext body
    of the attacker's choosing, speaking as a follower to read their data."""
    genuine, _ = bot.signer().sign(fresh(samples.TEXT, openid="o_victim"))
    forged = fresh(samples.TEXT, openid="o_victim", content="我交了吗")
    replayed = {k: genuine[k] for k in ("signature", "timestamp", "nonce", "openid")}
    resp = await bot.client.post("/wechat", params=replayed, data=forged.encode())
    assert resp.status == 403
    resp = await bot.client.post("/wechat", params={**replayed, "encrypt_type": "raw"}, data=forged.encode())
    assert resp.status == 403
    assert await bot.conversation("o_victim") == []  # nothing was read, nothing written


@pytest.mark.parametrize("mode", ["safe"])
async def test_safe_mode_answers_every_message_encrypted(bot):
    for xml in (fresh(samples.TEXT, content="陵川县低保户交多少"), fresh(samples.SUBSCRIBE), fresh(samples.IMAGE)):
        resp = await bot.post(xml)
        assert resp.status == 200
        body = await resp.text()
        assert body == "success" or set(parse_xml(body)) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}


@pytest.mark.parametrize("mode", ["compatible"])
async def test_compatible_mode_answers_in_the_mode_of_the_request(bot):
    plain = await bot.post(fresh(samples.TEXT, content="陵川县低保户交多少"), aes=False)
    assert "80元" in parse_xml(await plain.text())["Content"]
    encrypted = await bot.post(fresh(samples.TEXT, content="陵川县低保户交多少"), aes=True)
    assert "80元" in _decrypt_reply(await encrypted.text())["Content"]
