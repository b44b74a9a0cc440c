"""parse_xml straight on expat gives what the ElementTree walk over defusedxml gave, and refuses the same."""

from __future__ import annotations

from typing import Any

import pytest
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.wechat.protocol import BadRequest, Inbound, parse_xml, text_reply
from bot.wechat.simulate import Signer, message_xml
from tests.wechat import samples

SAMPLES = [samples.TEXT, samples.VOICE, samples.VOICE_UNRECOGNISED, samples.IMAGE, samples.LINK, samples.SUBSCRIBE,
           samples.UNSUBSCRIBE, samples.CLICK, samples.LOCATION]
NESTED = ("<xml><ToUserName><![CDATA[gh]]></ToUserName><Event>MASSSENDJOBFINISH</Event><CopyrightCheckResult>"
          "<Count>2</Count><ResultList><item><ArticleIdx>1</ArticleIdx></item></ResultList><CheckState>2</CheckState>"
          "</CopyrightCheckResult><Empty></Empty><Spaces>  </Spaces>"
          "<Mixed>a&amp;b&#20320;<![CDATA[<c>]]></Mixed></xml>")


def reference(body: str) -> dict[str, Any]:
    """The parser this one replaced: defusedxml's ElementTree, walked the same way."""

    def value(el):
        return {child.tag: value(child) for child in el} if len(el) else el.text

    root = fromstring(body.encode(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    return {child.tag: value(child) for child in root}


@pytest.mark.parametrize("body", [*SAMPLES, NESTED, "<xml/>", "<xml>text only</xml>"])
def test_the_fields_are_what_the_elementtree_walk_gave(body):
    assert parse_xml(body.encode()) == reference(body)
    assert parse_xml(body) == reference(body)


def test_text_with_every_kind_of_character():
    content = "交多少钱？<&>\"' ]]> 💰 \u3000"
    fields = parse_xml(message_xml("o1", "text", {"Content": content, "MsgId": "1"}).encode())
    assert fields["Content"] == content


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE xml [<!ENTITY a "b">]><xml><Content>&a;</Content></xml>',
        '<!DOCTYPE xml SYSTEM "x.dtd"><xml/>',
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % p SYSTEM "http://x/">%p;]><xml/>',
        '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><C>&e;</C></xml>',
        "<xml><C>&undefined;</C></xml>",
        "<xml><a></xml>",
        "<xml>",
        "",
    ],
)
def test_refused_as_defusedxml_refused_it(body):
    with pytest.raises(BadRequest):
        parse_xml(body.encode())
    with pytest.raises((DefusedXmlException, SyntaxError)):
        reference(body)


def test_the_reply_reads_back_as_wechatpy_would_render_it():
    inbound_fields = parse_xml(samples.TEXT.encode())
    reply = text_reply(Inbound(inbound_fields, False), "答：400元", now=1700000000)
    fields = parse_xml(reply)
    assert fields == {"ToUserName": "fromUser", "FromUserName": "toUser", "CreateTime": "1700000000",
                      "MsgType": "text", "Content": "答：400元"}
    assert Signer("t", "wx").open_reply(reply) == "答：400元"
