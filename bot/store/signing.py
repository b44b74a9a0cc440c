"""Signed, expiring tokens for links and QR scenes that need no password: an HMAC-SHA256 (keyed with
YIBAO_LINK_KEY) over the fields and the expiry, so a link shows only what it was made for, until it expires.

A township page link: `/township?c=陵川县&t=礼义镇&y=2025&e=EXPIRY&s=SIG`. An official's QR scene:
`o.<township id>.<role>.<expiry base36>.<signature>` within WeChat's 64 characters.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from urllib.parse import urlencode

PAGE_SIG_CHARS = 32  # hex characters of a page link's signature (128 bits)
SCENE_SIG_CHARS = 16  # base32 characters of a QR scene's signature (80 bits), so the scene fits in 64


class BadSignature(ValueError):
    """Tampered, malformed or expired."""


def _mac(key: str, *parts: str) -> bytes:
    return hmac.new(key.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()


def page_query(key: str, county: str, township: str, year: int, expires: dt.datetime) -> str:
    e = str(int(expires.timestamp()))
    sig = _mac(key, "page", county, township, str(year), e).hex()[:PAGE_SIG_CHARS]
    return urlencode({"c": county, "t": township, "y": year, "e": e, "s": sig})


def page_url(base: str, key: str, county: str, township: str, year: int, expires: dt.datetime) -> str:
    return f"{base.rstrip('/')}/township?{page_query(key, county, township, year, expires)}"


def check_page(key: str, query: dict[str, str], now: dt.datetime) -> tuple[str, str, int]:
    """(county, township, year) of a page link's query, or BadSignature."""
    try:
        county, township, year, e, sig = (query[k] for k in ("c", "t", "y", "e", "s"))
        expiry = int(e)
        year_n = int(year)
    except (KeyError, ValueError):
        raise BadSignature("malformed link") from None
    good = _mac(key, "page", county, township, year, e).hex()[:PAGE_SIG_CHARS]
    if not hmac.compare_digest(good, sig):
        raise BadSignature("bad signature")
    if expiry < now.timestamp():
        raise BadSignature("expired")
    return county, township, year_n


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def scene(key: str, township_id: int, role: str, expires: dt.datetime) -> str:
    """A QR scene naming a township (by its regions.id) and a role key, signed, expiring."""
    body = f"o.{township_id}.{role}.{_b36(int(expires.timestamp()))}"
    sig = base64.b32encode(_mac(key, "scene", body)).decode().lower()[:SCENE_SIG_CHARS]
    return f"{body}.{sig}"


def check_scene(key: str, value: str, now: dt.datetime) -> tuple[int, str]:
    """(township id, role) of a scene made by `scene`, or BadSignature."""
    parts = value.split(".")
    if len(parts) != 5 or parts[0] != "o":
        raise BadSignature("not an official's scene")
    body, sig = ".".join(parts[:4]), parts[4]
    good = base64.b32encode(_mac(key, "scene", body)).decode().lower()[:SCENE_SIG_CHARS]
    if not hmac.compare_digest(good, sig):
        raise BadSignature("bad signature")
    try:
        township_id, expiry = int(parts[1]), int(parts[3], 36)
    except ValueError:
        raise BadSignature("malformed scene") from None
    if expiry < now.timestamp():
        raise BadSignature("expired")
    return township_id, parts[2]
