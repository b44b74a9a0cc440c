"""The protocol edge's pure functions: signatures, timestamps, safe parsing, dedupe keys, replies."""

from __future__ import annotations

import hashlib
import time

import pytest

from bot.config import ConfigError, Settings
from bot.wechat.protocol import (
    BadRequest,
    Forbidden,
    make_crypto,
    open_message,
    parse_xml,
    signature,
    text_reply,
    verify_signature,
    verify_timestamp,
)
from tests.wechat import samples
from tests.wechat.conftest import AES_KEY


def test_signature_is_sha1_of_the_sorted_parts():
    # sorted: "1409735669" < "1514711492" < "token": concatenated and hashed
    expected = hashlib.sha1(b"14097356691514711492token").hexdigest()
    assert signature("token", "1409735669", "1514711492") == expected
    assert signature("1514711492", "token", "1409735669") == expected


def test_verify_signature():
    params = {"timestamp": "1409735669", "nonce": "1514711492"}
    verify_signature("token", {**params, "signature": signature("token", *params.values())})
    with pytest.raises(Forbidden):
        verify_signature("token", {**params, "signature": signature("other", *params.values())})
    with pytest.raises(Forbidden):
        verify_signature("token", params)


def test_timestamp_window():
    now = time.time()
    verify_timestamp({"timestamp": str(int(now) - 299)}, 300, now)
    for bad in (str(int(now) - 301), str(int(now) + 301), "", "12ab", "-5"):
        with pytest.raises(Forbidden):
            verify_timestamp({"timestamp": bad}, 300, now)
    verify_timestamp({"timestamp": "1"}, 0, now)  # 0 switches the window off


def test_parse_xml_gives_the_fields():
    fields = parse_xml(samples.LOCATION.encode())
    assert fields["Event"] == "LOCATION"
    assert fields["Latitude"] == "23.137466"


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE xml [<!ENTITY a "b">]><xml><Content>&a;</Content></xml>',
        '<!DOCTYPE xml SYSTEM "x.dtd"><xml/>',
        "<xml><a></xml>",
        "<notxml/>",
        "",
    ],
)
def test_parse_xml_refuses(body):
    with pytest.raises(BadRequest):
        parse_xml(body.encode())


def test_dedupe_keys():
    text = open_message(samples.TEXT.encode(), {}, "t", None, "plain")
    assert text.dedupe_key == "msg:1234567890123456"
    click = open_message(samples.CLICK.encode(), {}, "t", None, "plain")
    assert click.dedupe_key == "evt:FromUser:123456789:click"
    assert click.kind == "event:click"


def test_text_reply_survives_cdata_terminators():
    inbound = open_message(samples.TEXT.encode(), {}, "t", None, "plain")
    reply = parse_xml(text_reply(inbound, "a]]>b <&> 💰"))
    assert reply["Content"] == "a]]>b <&> 💰"
    assert (reply["ToUserName"], reply["FromUserName"]) == ("fromUser", "toUser")


def test_reply_budget_setting():
    assert Settings.from_env({"YIBAO_REPLY_BUDGET_S": "3.5"}).reply_budget_s == 3.5
    with pytest.raises(ConfigError, match="YIBAO_REPLY_BUDGET_S"):
        Settings.from_env({"YIBAO_REPLY_BUDGET_S": "6"})
    with pytest.raises(ConfigError, match="YIBAO_WECHAT_AES_KEY"):
        Settings.from_env({"YIBAO_WECHAT_AES_KEY": "tooshort"})


def test_wechat_mode_setting():
    assert Settings.from_env({}).wechat_mode == "plain"
    assert Settings.from_env({"YIBAO_WECHAT_AES_KEY": AES_KEY}).wechat_mode == "safe"  # a key: safe by default
    compatible = {"YIBAO_WECHAT_AES_KEY": AES_KEY, "YIBAO_WECHAT_MODE": "Compatible"}
    assert Settings.from_env(compatible).wechat_mode == "compatible"
    assert Settings.from_env({"YIBAO_WECHAT_AES_KEY": AES_KEY, "YIBAO_WECHAT_MODE": "plain"}).wechat_mode == "plain"
    for mode in ("safe", "compatible"):
        with pytest.raises(ConfigError) as refused:
            Settings.from_env({"YIBAO_WECHAT_MODE": mode})
        assert (refused.value.name, refused.value.problem) == ("YIBAO_WECHAT_MODE", "mode_needs_key")
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"YIBAO_WECHAT_MODE": "secure"})
    assert refused.value.problem == "wechat_mode"


def test_a_mode_without_its_key_stops_the_command_in_chinese(monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("YIBAO_WECHAT_MODE", "safe")
    monkeypatch.delenv("YIBAO_WECHAT_AES_KEY", raising=False)
    assert main(["ask", "--region", "陵川县", "交多少钱"]) == 2
    err = capsys.readouterr().err
    assert "YIBAO_WECHAT_MODE=safe 需要 YIBAO_WECHAT_AES_KEY" in err and "EncodingAESKey" in err


def test_edge_settings():
    settings = Settings.from_env({"YIBAO_READ_TIMEOUT_S": "2.5", "YIBAO_IDLE_TIMEOUT_S": "10",
                                  "YIBAO_MAX_CONNECTIONS": "500"})
    assert (settings.read_timeout_s, settings.idle_timeout_s, settings.max_connections) == (2.5, 10, 500)
    with pytest.raises(ConfigError, match="YIBAO_IDLE_TIMEOUT_S"):
        Settings.from_env({"YIBAO_IDLE_TIMEOUT_S": "0"})


def test_safe_mode_refuses_a_plaintext_body_whatever_its_signature():
    crypto = make_crypto("t", AES_KEY, "wx1234567890abcdef")
    with pytest.raises(Forbidden, match="safe mode"):
        open_message(samples.TEXT.encode(), {}, "t", crypto, "safe")
    assert not open_message(samples.TEXT.encode(), {}, "t", crypto, "compatible").encrypted
