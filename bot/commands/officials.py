"""`yibao qrcode` and `yibao contacts`: officials join by scanning their township's QR code.

    yibao qrcode 礼义镇 --region 陵川县 --role leader    a temporary parametric QR code (ticket, URL, expiry)
    yibao qrcode --region 陵川县 --role head            the bureau's own code (负责人, 协调员: escalations)
    yibao contacts [--region 陵川县]                     every contact, with or without a WeChat link
    yibao contacts --region 陵川县 --unlink 礼义镇 秦秀文  release a contact's WeChat link (a changed account)

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


def register(sub: argparse._SubParsersAction) -> None:
    qr = sub.add_parser("qrcode", help=t("qrcode.help"), description=t("qrcode.description"))
    qr.add_argument("township", metavar="TOWNSHIP", nargs="?", default="", help=t("qrcode.township"))
    qr.add_argument("--region", required=True, help=t("qrcode.region"))
    qr.add_argument("--role", choices=ROLE_KEYS, default="leader", help=t("qrcode.role"))
    qr.add_argument("--by", default=None, help=t("broadcast.by"))
    qr.set_defaults(func=lambda a: run_async(qrcode_command(Settings.from_env(), a)))
    contacts = sub.add_parser("contacts", help=t("contacts.help"), description=t("contacts.description"))
    contacts.add_argument("--region", help=t("qrcode.region"))
    contacts.add_argument("--unlink", nargs=2, metavar=("TOWNSHIP", "NAME"), help=t("contacts.unlink_help"))
    contacts.set_defaults(func=lambda a: run_async(
        unlink_command(Settings.from_env(), a.region, *a.unlink) if a.unlink
        else contacts_command(Settings.from_env(), a.region)))


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

    bureau = role_key in officials.BUREAU_ROLE_KEYS  # the county's own: its code names no township
    if bureau and township:  # a township's code would file them under it, and escalations would miss them
        raise CommandError(t("qrcode.bureau_role", role=officials.ROLES[role_key], township=township))
    async with sessions() as session:
        if bureau:
            unit = await officials.county_unit(session, county)
            known = []
        else:
            unit = await officials.find_unit(session, county, township) if township else None
            known = await officials.unit_names(session, county) if unit is None else []
    if unit is None:
        listed = "、".join(known) or t("qrcode.no_townships", region=county)
        if bureau:
            raise CommandError(t("qrcode.no_townships", region=county))
        if not township:
            raise CommandError(t("qrcode.need_township", role=officials.ROLES[role_key], known=listed))
        raise CommandError(t("qrcode.unknown_township", region=county, township=township, known=listed))
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
    return t("qrcode.made", county=code.county, township=code.township or t("contacts.bureau"), role=code.role,
             url=code.url,
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
            raise CommandError(t("qrcode.failed", why=exc.for_staff())) from None
    print(describe(code), file=out)
    return 0


async def contacts_command(settings: Settings, region: str | None, out: TextIO | None = None) -> int:
    from bot.commands.jobs import known_region
    from bot.rules.loader import load_registry
    from bot.store import officials

    out = out or sys.stdout
    region = known_region(load_registry(settings.policy_dirs), region)  # 陵川 is 陵川县; 陵川市 is refused
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


async def unlink_command(settings: Settings, region: str | None, township: str, name: str,
                         out: TextIO | None = None, actor: str | None = None) -> int:
    """Release the WeChat link of a contact, so an official who changed account can scan their code again."""
    import getpass

    from bot.commands.jobs import known_region
    from bot.rules.loader import load_registry
    from bot.store import audit_log, officials

    out = out or sys.stdout
    if not region:
        raise CommandError(t("contacts.unlink_region"))
    county = known_region(load_registry(settings.policy_dirs), region)
    bureau = township in ("", "-", t("contacts.bureau"))
    async with open_sessions(settings) as sessions:
        async with sessions() as session:
            unit = None if bureau else await officials.find_unit(session, county, township)
        place = "" if bureau else (unit.township if unit else township)
        async with sessions.begin() as session:
            released = await officials.unlink(session, county, place, name)
            for c in released:
                await audit_log.record(session, actor or getpass.getuser(), "contact.unlink", county=c.county,
                                       township=c.township, role=c.role, name=c.name)
    if not released:
        raise CommandError(t("contacts.unlink_none", county=county, township=place or t("contacts.bureau"),
                             name=name))
    for c in released:
        print(t("contacts.unlinked_row", county=c.county, township=c.township or t("contacts.bureau"),
                role=c.role, name=c.name), file=out)
    return 0
