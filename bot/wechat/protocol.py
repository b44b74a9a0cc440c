"""The inbound protocol: signatures, the timestamp window, safe XML parsing, AES envelopes, passive replies.

Pure functions with no I/O, so the webhook, `yibao chat`, the tests and the benchmark share them. Bodies are
parsed by defusedxml with DTDs and entities forbidden, once: the resulting field dict is what the rest of
the bot reads (wechatpy's parse_message would parse the same XML a second time, through xmltodict, for
typed objects nothing here needs). wechatpy does the AES envelope and renders the reply.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply

SUCCESS = "success"  # the passive reply that means "nothing to say now"


class ProtocolError(Exception):
    """A request refused at the edge; `status` is the HTTP status to answer with."""

    status = 400


class BadRequest(ProtocolError):
    status = 400


class Forbidden(ProtocolError):
    status = 403


class TooLarge(ProtocolError):
    status = 413


def signature(*parts: str) -> str:
    """WeChat's signature: sha1 over the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def verify_signature(token: str, params: Mapping[str, str]) -> None:
    """Check `signature` (token, timestamp, nonce) and raise Forbidden on a mismatch."""
    expected = signature(token, params.get("timestamp", ""), params.get("nonce", ""))
    if not hmac.compare_digest(expected, params.get("signature", "")):
        raise Forbidden("bad signature")


def verify_timestamp(params: Mapping[str, str], window_s: int, now: float | None = None) -> None:
    """A replayed or forged request carries an old timestamp: refuse one outside the window."""
    raw = params.get("timestamp", "")
    if not raw.isdigit():
        raise Forbidden("timestamp missing or not a number")
    if window_s and abs((time.time() if now is None else now) - int(raw)) > window_s:
        raise Forbidden(f"timestamp {raw} outside the {window_s}-second window")


def _element_value(el: Element) -> Any:
    if len(el):
        return {child.tag: _element_value(child) for child in el}
    return el.text


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """The children of `<xml>` as a dict (like xmltodict), refusing DTDs, entities and malformed XML."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadRequest(f"XML refused: {type(exc).__name__}") from None
    except (ParseError, ValueError) as exc:
        raise BadRequest(f"malformed XML: {exc}") from None
    if root.tag != "xml":
        raise BadRequest(f"unexpected XML root <{root.tag}>")
    return {child.tag: _element_value(child) for child in root}


@dataclass(frozen=True)
class Inbound:
    """One message or event as WeChat pushed it (after decryption)."""

    fields: dict[str, Any]  # the children of <xml>: ToUserName, FromUserName, MsgType, Content, ...
    encrypted: bool  # arrived in safe/compatible mode: the reply must be encrypted too

    @property
    def openid(self) -> str:
        return self.fields.get("FromUserName") or ""

    @property
    def account(self) -> str:
        return self.fields.get("ToUserName") or ""

    @property
    def msg_type(self) -> str:
        return (self.fields.get("MsgType") or "").lower()

    @property
    def event(self) -> str:
        return (self.fields.get("Event") or "").lower()

    @property
    def kind(self) -> str:
        """`text`, `voice`, ... for messages; `event:subscribe`, `event:click`, ... for events."""
        return f"event:{self.event}" if self.msg_type == "event" else self.msg_type

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    def text(self, name: str) -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""

    @property
    def dedupe_key(self) -> str:
        """WeChat retries carry the same MsgId; events have none, so FromUserName + CreateTime + Event."""
        msg_id = self.text("MsgId") or self.text("MsgID")
        if msg_id and not self.is_event:
            return f"msg:{msg_id}"
        return f"evt:{self.openid}:{self.text('CreateTime')}:{self.event}"


def _inbound(fields: dict[str, Any], encrypted: bool) -> Inbound:
    for name in ("ToUserName", "FromUserName", "MsgType"):
        if not isinstance(fields.get(name), str) or not fields[name]:
            raise BadRequest(f"missing {name}")
    return Inbound(fields=fields, encrypted=encrypted)


def make_crypto(token: str, aes_key: str | None, appid: str) -> WeChatCrypto | None:
    return WeChatCrypto(token, aes_key, appid) if aes_key else None


def open_message(body: bytes, params: Mapping[str, str], token: str, crypto: WeChatCrypto | None) -> Inbound:
    """Parse a POST body; in safe and compatible mode (`encrypt_type=aes`) check msg_signature and decrypt.

    The plain `signature` is checked by the caller before the body is read.
    """
    outer = parse_xml(body)
    if params.get("encrypt_type", "raw").lower() != "aes":
        return _inbound(outer, encrypted=False)
    encrypt = outer.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise BadRequest("encrypt_type=aes without an Encrypt element")
    expected = signature(token, params.get("timestamp", ""), params.get("nonce", ""), encrypt)
    if not hmac.compare_digest(expected, params.get("msg_signature", "")):
        raise Forbidden("bad msg_signature")
    if crypto is None:
        if "MsgType" in outer:  # compatible mode, but no EncodingAESKey configured: use the plaintext copy
            return _inbound(outer, encrypted=False)
        raise BadRequest("safe-mode message but YIBAO_WECHAT_AES_KEY is not set")
    try:
        xml = crypto.decrypt_message(
            {"Encrypt": encrypt}, params["msg_signature"], params["timestamp"], params["nonce"]
        )
    except (InvalidSignatureException, InvalidAppIdException):
        raise Forbidden("ciphertext not for this AppID") from None
    except Exception as exc:  # bad base64, padding or length: garbage, not an attack on us
        raise BadRequest(f"cannot decrypt: {type(exc).__name__}") from None
    return _inbound(parse_xml(xml), encrypted=True)


def text_reply(inbound: Inbound, text: str) -> str:
    """A passive text reply; `]]>` in the text would end the CDATA section, so it is split."""
    content = text.replace("]]>", "]]]]><![CDATA[>")
    return TextReply(source=inbound.account, target=inbound.openid, content=content).render()


def seal(reply_xml: str, crypto: WeChatCrypto, nonce: str, timestamp: str | None = None) -> str:
    """The encrypted reply envelope: Encrypt, MsgSignature, TimeStamp, Nonce."""
    return crypto.encrypt_message(reply_xml, nonce, timestamp or str(int(time.time())))
