"""Speak to the webhook the way WeChat's servers do: message XML, signed query, AES envelope.

Used by `yibao chat`, the demo, the benchmark and the tests (which also post literal XML samples).
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import to_text

from bot.wechat.protocol import SUCCESS, parse_xml, signature

ACCOUNT = "gh_yibao0000001"  # the official account's own id (ToUserName)
_MSG_IDS = itertools.count(int(time.time() * 1000) * 100)
NUMERIC = {"MsgId", "Latitude", "Longitude", "Precision", "Location_X", "Location_Y", "Scale"}


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(openid: str, msg_type: str, fields: dict[str, str], *, create_time: int | None = None) -> str:
    """`<xml>` with the common header and `fields`, numbers bare and text in CDATA, as WeChat sends them."""
    parts = [
        f"<ToUserName>{_cdata(ACCOUNT)}</ToUserName>",
        f"<FromUserName>{_cdata(openid)}</FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType>{_cdata(msg_type)}</MsgType>",
    ]
    for name, value in fields.items():
        text = escape(value) if name in NUMERIC else _cdata(value)
        parts.append(f"<{name}>{text}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(openid: str, content: str, msg_id: int | None = None) -> str:
    return message_xml(openid, "text", {"Content": content, "MsgId": str(msg_id or next(_MSG_IDS))})


def voice_xml(openid: str, recognition: str | None, msg_id: int | None = None) -> str:
    fields = {"MediaId": "media_" + secrets.token_hex(8), "Format": "amr"}
    if recognition is not None:
        fields["Recognition"] = recognition
    fields["MsgId"] = str(msg_id or next(_MSG_IDS))
    return message_xml(openid, "voice", fields)


def event_xml(openid: str, event: str, key: str | None = None, *, create_time: int | None = None) -> str:
    fields = {"Event": event}
    if key is not None:
        fields["EventKey"] = key
    return message_xml(openid, "event", fields, create_time=create_time)


@dataclass(frozen=True)
class Signer:
    """Signs (and in safe mode encrypts) a message like WeChat's servers, and opens the reply."""

    token: str
    appid: str
    aes_key: str | None = None
    compatible: bool = False  # with aes_key: send the plaintext fields next to Encrypt

    def sign(self, xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> tuple[dict[str, str], bytes]:
        """The query parameters and body of the POST WeChat would make for `xml`."""
        ts, nonce = str(timestamp or int(time.time())), nonce or secrets.token_hex(5)
        fields = parse_xml(xml)
        params = {"signature": signature(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        params["openid"] = fields.get("FromUserName") or ""
        if not self.aes_key:
            return params, xml.encode()
        encrypt = self.encrypt(xml)
        inner = xml[len("<xml>") : -len("</xml>")] if self.compatible else ""
        to_user = f"<ToUserName>{_cdata(fields.get('ToUserName') or ACCOUNT)}</ToUserName>"
        body = "<xml>" + (inner or to_user) + f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
        params |= {"encrypt_type": "aes", "msg_signature": signature(self.token, ts, nonce, encrypt)}
        return params, body.encode()

    def encrypt(self, xml: str, appid: str | None = None) -> str:
        crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
        return to_text(PrpCrypto(crypto.key).encrypt(xml, appid or self.appid))

    def open_reply(self, body: str) -> str | None:
        """The reply's text content, decrypting a safe-mode reply; None for "success" or an empty body."""
        if body.strip() in ("", SUCCESS):
            return None
        fields = parse_xml(body)
        if "Encrypt" in fields:
            crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
            plain = crypto.decrypt_message(fields, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
            fields = parse_xml(plain)
        return fields.get("Content") or ""
