"""The inbound protocol: signatures, the timestamp window, safe XML parsing, AES envelopes, passive replies.

Pure functions with no I/O, so the webhook, `yibao chat`, the tests and the benchmark share them. Bodies are
parsed once, on expat with DTDs and entities forbidden (as defusedxml does): the resulting field dict is what
the rest of the bot reads (wechatpy's parse_message would parse the same XML a second time, through xmltodict,
for typed objects nothing here needs). wechatpy does the AES envelope; the passive reply is rendered here in
wechatpy's TextReply format.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

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


_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits: str.isdigit() takes ² and １, int() refuses 5000 digits


def verify_timestamp(params: Mapping[str, str], window_s: int, now: float | None = None) -> None:
    """A replayed or forged request carries an old timestamp: refuse one outside the window."""
    raw = params.get("timestamp", "")
    if not _TIMESTAMP.fullmatch(raw):
        raise Forbidden("timestamp missing or not a number")
    if window_s and abs((time.time() if now is None else now) - int(raw)) > window_s:
        raise Forbidden(f"timestamp {raw} outside the {window_s}-second window")


def _refuse(what: str) -> Callable[..., None]:
    def refuse(*_: object) -> None:
        raise _Refused(what)

    return refuse


class _Refused(Exception):
    pass


_REFUSE_DTD = _refuse("DTDForbidden")
_REFUSE_ENTITY = _refuse("EntitiesForbidden")
_REFUSE_EXTERNAL = _refuse("ExternalReferenceForbidden")


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """The children of `<xml>` as a dict (like xmltodict: a leaf's text, or a dict of its children),
    refusing DTDs, entities and malformed XML: straight on expat, as defusedxml does it (a DOCTYPE, an entity
    declaration or an external reference stops the parse)."""
    stack: list[list[Any]] = []  # [tag, children dict or None, text parts]
    root: list[tuple[str, Any]] = []

    def start(tag: str, _attrs: Any) -> None:
        stack.append([tag, None, []])

    def data(text: str) -> None:
        stack[-1][2].append(text)

    def end(_tag: str) -> None:
        tag, children, parts = stack.pop()
        value = children if children is not None else ("".join(parts) or None)
        if stack:
            parent = stack[-1]
            if parent[1] is None:
                parent[1] = {}
            parent[1][tag] = value
        else:
            root.append((tag, value))

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _REFUSE_DTD
    parser.EntityDeclHandler = _REFUSE_ENTITY
    parser.UnparsedEntityDeclHandler = _REFUSE_ENTITY
    parser.ExternalEntityRefHandler = _REFUSE_EXTERNAL
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(body, True)
    except _Refused as exc:
        raise BadRequest(f"XML refused: {exc}") from None
    except (expat.ExpatError, ValueError, LookupError) as exc:  # LookupError: an unknown declared encoding
        raise BadRequest(f"malformed XML: {exc}") from None
    if not root:
        raise BadRequest("malformed XML: no element found")
    tag, value = root[0]
    if tag != "xml":
        raise BadRequest(f"unexpected XML root <{tag}>")
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Inbound:
    """One message or event as WeChat pushed it (after decryption), with its derived fields worked out once.
    (Plain fields set in __post_init__: functools.cached_property takes a lock on every first access.)"""

    fields: dict[str, Any]  # the children of <xml>: ToUserName, FromUserName, MsgType, Content, ...
    encrypted: bool  # arrived in safe/compatible mode: the reply must be encrypted too
    openid: str = field(init=False)
    account: str = field(init=False)
    msg_type: str = field(init=False)
    event: str = field(init=False)
    kind: str = field(init=False)  # `text`, `voice`, ... for messages; `event:subscribe`, `event:click`, ...
    is_event: bool = field(init=False)
    # WeChat retries carry the same MsgId; events have none, so FromUserName + CreateTime + Event
    dedupe_key: str = field(init=False)

    def __post_init__(self) -> None:
        get, put = self.fields.get, object.__setattr__
        openid = get("FromUserName") or ""
        msg_type = (get("MsgType") or "").lower()
        event = (get("Event") or "").lower()
        is_event = msg_type == "event"
        msg_id = self.text("MsgId") or self.text("MsgID")
        put(self, "openid", openid)
        put(self, "account", get("ToUserName") or "")
        put(self, "msg_type", msg_type)
        put(self, "event", event)
        put(self, "kind", f"event:{event}" if is_event else msg_type)
        put(self, "is_event", is_event)
        put(self, "dedupe_key", f"msg:{msg_id}" if msg_id and not is_event
            else f"evt:{openid}:{self.text('CreateTime')}:{event}")

    def text(self, name: str) -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""

    @property
    def log_name(self) -> str:
        """The message as logs name it: its MsgId, or an event's kind and time; never the openid."""
        return self.dedupe_key if self.dedupe_key.startswith("msg:") else f"{self.kind}@{self.text('CreateTime')}"


# The shape of the fields that become keys and columns (followers.openid and message_log are 64 characters,
# inbound_messages.key 128): what WeChat sends, with room. An openid is 28 characters of [A-Za-z0-9_-], an
# account's id gh_ and 12 hex digits, MsgId a 64-bit number. Anything else is not from WeChat (a replayed
# signature in plain or compatible mode) and is refused before it is logged, stored or used as a key.
_HEADER_SHAPES = {
    "ToUserName": re.compile(r"[A-Za-z0-9_.-]{1,64}"),
    "FromUserName": re.compile(r"[A-Za-z0-9_.-]{1,64}"),  # `yibao chat`: o_chat_$USER
    "MsgType": re.compile(r"[A-Za-z_]{1,32}"),
    "CreateTime": re.compile(r"[0-9]{1,12}"),
}
_OPTIONAL_SHAPES = {
    "MsgId": re.compile(r"[0-9]{1,24}"),
    "MsgID": re.compile(r"[0-9]{1,24}"),
    "Event": re.compile(r"[A-Za-z0-9_]{1,40}"),
}


def _inbound(fields: dict[str, Any], encrypted: bool) -> Inbound:
    for name, shape in _HEADER_SHAPES.items():
        value = fields.get(name)
        if not isinstance(value, str) or not value:
            raise BadRequest(f"missing {name}")
        if not shape.fullmatch(value):
            raise BadRequest(f"{name} is not as WeChat sends it")
    for name, shape in _OPTIONAL_SHAPES.items():
        value = fields.get(name)
        if value is not None and not (isinstance(value, str) and shape.fullmatch(value)):
            raise BadRequest(f"{name} is not as WeChat sends it")
    return Inbound(fields=fields, encrypted=encrypted)


def make_crypto(token: str, aes_key: str | None, appid: str) -> WeChatCrypto | None:
    return WeChatCrypto(token, aes_key, appid) if aes_key else None


def is_encrypted(params: Mapping[str, str]) -> bool:
    """The request says it carries an AES envelope (`encrypt_type=aes`: compatible or safe mode)."""
    return params.get("encrypt_type", "raw").lower() == "aes"


def check_mode(params: Mapping[str, str], mode: str) -> None:
    """In safe mode WeChat sends only ciphertext: a plaintext POST is not from WeChat (a replayed signature
    with a body of the sender's choosing), refused before its body is read."""
    if mode == "safe" and not is_encrypted(params):
        raise Forbidden("plaintext message refused in safe mode")


def open_message(
    body: bytes, params: Mapping[str, str], token: str, crypto: WeChatCrypto | None, mode: str
) -> Inbound:
    """Parse a POST body as `mode` allows; an AES envelope (`encrypt_type=aes`) has its msg_signature checked
    and is decrypted.

    safe: only envelopes. compatible: either, each answered in its own mode. plain (`crypto` is None): plain
    bodies, and the plaintext copy of a compatible-mode envelope; an envelope without one cannot be read.
    The plain `signature` is checked by the caller before the body is read.
    """
    check_mode(params, mode)
    outer = parse_xml(body)
    if not is_encrypted(params):
        return _inbound(outer, encrypted=False)
    encrypt = outer.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise BadRequest("encrypt_type=aes without an Encrypt element")
    expected = signature(token, params.get("timestamp", ""), params.get("nonce", ""), encrypt)
    if not hmac.compare_digest(expected, params.get("msg_signature", "")):
        raise Forbidden("bad msg_signature")
    if crypto is None:
        if "MsgType" in outer:  # plain mode, WeChat in compatible mode: the plaintext copy
            return _inbound(outer, encrypted=False)
        raise BadRequest("encrypted message in plain mode: set YIBAO_WECHAT_AES_KEY and YIBAO_WECHAT_MODE")
    try:
        xml = crypto.decrypt_message(
            {"Encrypt": encrypt}, params["msg_signature"], params["timestamp"], params["nonce"]
        )
    except (InvalidSignatureException, InvalidAppIdException):
        raise Forbidden("ciphertext not for this AppID") from None
    except Exception as exc:  # bad base64, padding or length: garbage, not an attack on us
        raise BadRequest(f"cannot decrypt: {type(exc).__name__}") from None
    return _inbound(parse_xml(xml), encrypted=True)


def _cdata(text: str) -> str:
    """`]]>` in the text would end the CDATA section, so it is split."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(inbound: Inbound, text: str, now: float | None = None) -> str:
    """A passive text reply, as wechatpy's TextReply renders it (its fields in the documented order)."""
    return (
        f"<xml>\n<ToUserName>{_cdata(inbound.openid)}</ToUserName>\n"
        f"<FromUserName>{_cdata(inbound.account)}</FromUserName>\n"
        f"<CreateTime>{int(time.time() if now is None else now)}</CreateTime>\n"
        f"<MsgType><![CDATA[text]]></MsgType>\n<Content>{_cdata(text)}</Content>\n</xml>"
    )


def seal(reply_xml: str, crypto: WeChatCrypto, nonce: str, timestamp: str | None = None) -> str:
    """The encrypted reply envelope: Encrypt, MsgSignature, TimeStamp, Nonce."""
    return crypto.encrypt_message(reply_xml, nonce, timestamp or str(int(time.time())))
