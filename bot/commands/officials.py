"""`yibao qrcode` and `yibao contacts`: officials join by scanning their township's QR code.

    yibao qrcode 礼义镇 --region 陵川县 --role leader    a temporary parametric QR code (ticket, URL, expiry)
    yibao contacts [--region 陵川县]                     every contact, with or without a WeChat link

The code's scene is signed and expires with it (bot/store/signing.py); an official who scans it is asked for
their name and then bound as that township's contact (bot/handlers/outreach.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

from bot.commands.common import open_sessions, run_async, when
from bot.commands.text import CommandError, t
from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.wechat.client import WeChatClient

SHOW_QRCODE = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="
ROLE_KEYS = ("leader", "clerk", "area", "head", "coordinator")
# the bureau's own roles (docs/imports.md: no township); escalations go to them, never a township's digest
BUREAU_KEYS = ("head", "coordinator")


def register(sub: argparse._SubParsersAction) -> None:
    qr = sub.add_parser("qrcode", help=t("qrcode.help"), description=t("qrcode.description"))
    qr.add_argument("township", metavar="TOWNSHIP", help=t("qrcode.township"))
    qr.add_argument("--region", required=True, help=t("qrcode.region"))
    qr.add_argument("--role", choices=ROLE_KEYS, default="leader", help=t("qrcode.role"))
    qr.add_argument("--by", default=None, help=t("broadcast.by"))
    qr.set_defaults(func=lambda a: run_async(qrcode_command(Settings.from_env(), a)))
    contacts = sub.add_parser("contacts", help=t("contacts.help"), description=t("contacts.description"))
    contacts.add_argument("--region", help=t("qrcode.region"))
    contacts.set_defaults(func=lambda a: run_async(contacts_command(Settings.from_env(), a.region)))


@dataclass(frozen=True)
class QrCode:
    county: str
    township: str
    role: str
    scene: str
    ticket: str
    url: str  # what the code encodes
    image: str  # where WeChat serves the picture
    expires: dt.datetime


async def make_qrcode(sessions: async_sessionmaker, client: WeChatClient, settings: Settings, county: str,
                      township: str, role_key: str, actor: str, now: dt.datetime) -> QrCode:
    from bot.store import audit_log, officials
    from bot.store.signing import scene

    if role_key in BUREAU_KEYS:  # a county-level contact: a township's code would file them under it
        raise CommandError(t("qrcode.bureau_role", role=officials.ROLES[role_key]))
    async with sessions() as session:
        unit = await officials.find_unit(session, county, township)
        known = await officials.unit_names(session, county) if unit is None else []
    if unit is None:
        raise CommandError(t("qrcode.unknown_township", region=county, township=township,
                             known="、".join(known) or t("qrcode.no_townships", region=county)))
    expires = now + dt.timedelta(days=settings.qr_expire_days)
    value = scene(settings.link_key, unit.id, role_key, expires)
    answer = await client.create_qrcode(value, expire_s=settings.qr_expire_days * 86400)
    code = QrCode(unit.county, unit.township, officials.ROLES[role_key], value, answer["ticket"], answer["url"],
                  SHOW_QRCODE + quote(answer["ticket"]), expires)
    async with sessions.begin() as session:
        await audit_log.record(session, actor, "qrcode.create", county=unit.county, township=unit.township,
                               role=code.role, expires=expires.isoformat())
    return code


def describe(code: QrCode) -> str:
    return t("qrcode.made", county=code.county, township=code.township, role=code.role, url=code.url,
             image=code.image, ticket=code.ticket, expires=when(code.expires))


async def qrcode_command(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    import getpass

    from bot import config
    from bot.commands.broadcast import wechat_client
    from bot.commands.jobs import known_region
    from bot.rules.loader import load_registry
    from bot.wechat.errors import WeChatAPIError

    out = out or sys.stdout
    region = known_region(load_registry(settings.policy_dirs), args.region)
    async with open_sessions(settings) as sessions, wechat_client(settings, sessions) as client:
        try:
            code = await make_qrcode(sessions, client, settings, region, args.township, args.role,
                                     args.by or getpass.getuser(), config.now())
        except WeChatAPIError as exc:
            raise CommandError(t("qrcode.failed", code=exc.errcode, message=exc.errmsg)) from None
    print(describe(code), file=out)
    return 0


async def contacts_command(settings: Settings, region: str | None, out: TextIO | None = None) -> int:
    from bot.store import officials

    out = out or sys.stdout
    async with open_sessions(settings) as sessions, sessions() as session:
        rows = await officials.listing(session, region)
    if not rows:
        print(t("contacts.none"), file=out)
        return 0
    linked = [c for c in rows if c.openid]
    print(t("contacts.heading", total=len(rows), linked=len(linked), unlinked=len(rows) - len(linked)), file=out)
    for c in rows:
        print(t("contacts.row", county=c.county, township=c.township or t("contacts.bureau"), role=c.role,
                name=c.name, link=t("contacts.linked") if c.openid else t("contacts.unlinked")), file=out)
    return 0
