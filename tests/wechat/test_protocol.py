"""The protocol edge's pure functions: signatures, timestamps, safe parsing, dedupe keys, replies."""

from __future__ import annotations

import hashlib
import time

import pytest

from bot.config import ConfigError, Settings
from bot.wechat.protocol import (
    BadRequest,
    Forbidden,
    open_message,
    parse_xml,
    signature,
    text_reply,
    verify_signature,
    verify_timestamp,
)
from tests.wechat import samples


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
    text = open_message(samples.TEXT.encode(), {}, "t", None)
    assert text.dedupe_key == "msg:1234567890123456"
    click = open_message(samples.CLICK.encode(), {}, "t", None)
    assert click.dedupe_key == "evt:FromUser:123456789:click"
    assert click.kind == "event:click"


def test_text_reply_survives_cdata_terminators():
    inbound = open_message(samples.TEXT.encode(), {}, "t", None)
    reply = parse_xml(text_reply(inbound, "a]]>b <&> 💰"))
    assert reply["Content"] == "a]]>b <&> 💰"
    assert (reply["ToUserName"], reply["FromUserName"]) == ("fromUser", "toUser")


def test_reply_budget_setting():
    assert Settings.from_env({"YIBAO_REPLY_BUDGET_S": "3.5"}).reply_budget_s == 3.5
    with pytest.raises(ConfigError, match="YIBAO_REPLY_BUDGET_S"):
        Settings.from_env({"YIBAO_REPLY_BUDGET_S": "6"})
    with pytest.raises(ConfigError, match="YIBAO_WECHAT_AES_KEY"):
        Settings.from_env({"YIBAO_WECHAT_AES_KEY": "tooshort"})
