"""`yibao broadcast`: compose, preview, approve and send a mass message (群发) within WeChat's limits.

    yibao broadcast new --text "..." --audience township --region 陵川县 --township 礼义镇
    yibao broadcast new --from-policy 陵川县 2025 --audience county --region 陵川县
    yibao broadcast preview 3 [--openid OPENID]    who it reaches; with --openid, mass/preview to that WeChat
    yibao broadcast approve 3 --by 李四             when YIBAO_BROADCAST_APPROVAL=1: a second staff member
    yibao broadcast send 3 [--yes]                  asks for confirmation unless --yes
    yibao broadcast list
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TextIO

from bot.commands.common import open_sessions, run_async, when
from bot.commands.text import CommandError, section, t
from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.store.broadcasts import Reach
    from bot.store.models import Broadcast
    from bot.wechat.client import WeChatClient


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("broadcast", help=t("broadcast.help"), description=t("broadcast.description"))
    actions = p.add_subparsers(dest="broadcast_command", metavar="ACTION", required=True)
    new = actions.add_parser("new", help=t("broadcast.new"), description=t("broadcast.new_description"))
    what = new.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help=t("broadcast.text"))
    what.add_argument("--from-policy", nargs=2, metavar=("REGION", "YEAR"), help=t("broadcast.from_policy"))
    new.add_argument("--title", help=t("broadcast.title"))
    new.add_argument("--audience", choices=["all", "county", "township", "group"], default=None,
                     help=t("broadcast.audience"))
    new.add_argument("--region", help=t("broadcast.region"))
    new.add_argument("--township", help=t("broadcast.township"))
    new.add_argument("--group", help=t("broadcast.group"))
    new.add_argument("--year", type=int, help=t("broadcast.year"))
    new.add_argument("--by", default=None, help=t("broadcast.by"))
    new.set_defaults(func=lambda a: run_async(new_command(Settings.from_env(), a)))
    for name in ("preview", "approve", "send"):
        action = actions.add_parser(name, help=t(f"broadcast.{name}"), description=t(f"broadcast.{name}_description"))
        action.add_argument("id", type=int, help=t("broadcast.id"))
        action.add_argument("--by", default=None, help=t("broadcast.by"))
        if name == "preview":
            action.add_argument("--openid", help=t("broadcast.openid"))
        if name == "send":
            action.add_argument("--yes", action="store_true", help=t("broadcast.yes"))
        action.set_defaults(func=lambda a, name=name: run_async(ACTIONS[name](Settings.from_env(), a)))
    listing = actions.add_parser("list", help=t("broadcast.list"), description=t("broadcast.list_description"))
    listing.add_argument("--limit", type=int, default=20, help=t("broadcast.limit"))
    listing.set_defaults(func=lambda a: run_async(list_command(Settings.from_env(), a.limit)))


def _actor(args: argparse.Namespace) -> str:
    return args.by or getpass.getuser()


@contextlib.asynccontextmanager
async def wechat_client(settings: Settings, sessions: async_sessionmaker) -> AsyncIterator[WeChatClient]:
    import aiohttp

    from bot.wechat.client import WeChatClient

    async with aiohttp.ClientSession() as http:
        yield WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                           base=settings.wechat_api_base, sessions=sessions, retries=3)


def describe_audience(audience: dict) -> str:
    kind = audience.get("kind")
    if kind == "all":
        return t("broadcast.all")
    if kind == "county":
        return t("broadcast.county", county=audience["county"])
    if kind == "township":
        return t("broadcast.in_township", county=audience["county"], township=audience["township"])
    where = audience["county"] + (audience.get("township") or "")
    return t("broadcast.needy", where=where, year=audience["year"], group=_group_name(audience))


def _group_name(audience: dict) -> str:
    """A needy group as the county's notice names it (城乡低保对象), not its key (dibao)."""
    from bot.rules.loader import load_registry

    policy = load_registry().get(audience["county"], audience["year"])
    category = policy.category(audience["group"]) if policy is not None else None
    return category.name if category is not None else audience["group"]


def render_preview(settings: Settings, b: Broadcast, reach: Reach) -> str:
    from bot.render import environment
    from bot.store.broadcasts import split

    text = environment().get_template("broadcast_preview.j2").render(
        b=b, reach=reach, audience=describe_audience(b.audience), status_names=section("broadcast.status"),
        limit=settings.mass_monthly_limit, batches=len(split(reach.openids)),
        subscription=settings.account_type == "subscription")
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def _audience(registry, args: argparse.Namespace, region: str | None):
    """The audience asked for: --audience, or the narrowest the other options name (--group, --township,
    --region; none: every follower). Options the audience would ignore, a township the county's table lacks and
    a group no notice names are refused, so a draft never reaches more people than the command said."""
    from bot.store.broadcasts import Audience

    kind = args.audience or ("group" if args.group else "township" if args.township else
                             "county" if region else "all")
    ignored = {"all": ["--region", "--township", "--group"], "county": ["--township", "--group"],
               "township": ["--group"], "group": []}[kind]
    given = [o for o in ignored if getattr(args, o.removeprefix("--"))]
    if given:
        raise CommandError(t("broadcast.ignored_options", options="、".join(given),
                             audience=section("broadcast.audience_names")[kind]))
    township = args.township
    if township and region:
        known = registry.townships(region)
        township = next((n for n in (township, *(township + x for x in ("镇", "乡", "街道", "村", "社区")))
                         if n in known), None)
        if township is None:
            raise CommandError(t("broadcast.unknown_township", region=region, township=args.township,
                                 known="、".join(known)))
    group = args.group
    if group:
        aliases = registry.category_aliases()
        keys = set(aliases.values())
        group = group if group in keys else aliases.get(group)
        if group is None:
            policies = registry.for_region(region) if region else []
            policy = next((p for p in policies if p.insurance_year == args.year), policies[-1] if policies else None)
            known = ([f"{c.key}（{c.name}）" for c in policy.categories] if policy is not None
                     else sorted(keys))
            raise CommandError(t("broadcast.unknown_group", group=args.group, known="、".join(known)))
    return Audience(kind, region, township, group, args.year)


async def new_command(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Save a draft and show its preview; a refusal is a CommandError (printed by `yibao`, status 2)."""
    from bot.commands.jobs import known_region
    from bot.rules.loader import load_registry
    from bot.store import broadcasts as store
    from bot.store.broadcasts import BroadcastError
    from scheduler.broadcasts import announcement, check_text, preview_reach

    out = out or sys.stdout
    registry = load_registry(settings.policy_dirs)
    region = known_region(registry, args.region)
    source = ""
    if args.from_policy:
        policy_region = known_region(registry, args.from_policy[0])
        try:
            year = int(args.from_policy[1])
        except ValueError:
            raise CommandError(t("broadcast.bad_year", text=args.from_policy[1])) from None
        policy = registry.get(policy_region, year)
        if policy is None:
            raise CommandError(t("broadcast.no_policy", region=policy_region, year=year))
        title, content = announcement(policy)
        source = policy.id
    else:
        content = args.text.strip()
        title = args.title or content.splitlines()[0][:30] if content else ""
    audience = _audience(registry, args, region)
    try:
        check_text(content, args.title or title)
        async with open_sessions(settings) as sessions:
            async with sessions.begin() as session:
                b = await store.create(session, title=args.title or title, content=content, audience=audience,
                                       author=_actor(args), source=source)
            reach = await preview_reach(sessions, settings, b, _now())
    except BroadcastError as exc:
        raise CommandError(str(exc)) from None
    print(render_preview(settings, b, reach), file=out)
    step = "yibao broadcast approve" if settings.broadcast_approval else "yibao broadcast send"
    print("\n" + t("broadcast.saved", step=step, id=b.id), file=out)
    return 0


def _now():
    from bot import config

    return config.now()


async def preview_command(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    from bot.store import broadcasts as store
    from bot.store.broadcasts import BroadcastError
    from bot.wechat.errors import WeChatAPIError
    from scheduler.broadcasts import preview_reach

    out = out or sys.stdout
    async with open_sessions(settings) as sessions:
        try:
            async with sessions() as session:
                b = await store.get(session, args.id)
        except BroadcastError as exc:
            raise CommandError(str(exc)) from None
        reach = await preview_reach(sessions, settings, b, _now())
        print(render_preview(settings, b, reach), file=out)
        if args.openid:
            async with wechat_client(settings, sessions) as client:
                try:
                    await client.mass_preview_text(args.openid, b.content)
                except WeChatAPIError as exc:
                    raise CommandError(t("broadcast.preview_failed", why=exc.for_staff())) from None
            async with sessions.begin() as session:
                await store.audit(session, _actor(args), "broadcast.preview", broadcast=b.id, openid=args.openid)
            print("\n" + t("broadcast.preview_sent", openid=args.openid), file=out)
    return 0


async def approve_command(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    from bot.store import broadcasts as store
    from bot.store.broadcasts import BroadcastError

    out = out or sys.stdout
    async with open_sessions(settings) as sessions:
        try:
            async with sessions.begin() as session:
                b = await store.get(session, args.id)
                await store.approve(session, b, _actor(args))
        except BroadcastError as exc:
            raise CommandError(str(exc)) from None
    print(t("broadcast.approved", id=args.id, who=_actor(args)), file=out)
    return 0


async def send_command(settings: Settings, args: argparse.Namespace, out: TextIO | None = None,
                       confirm: TextIO | None = None) -> int:
    from bot.store import broadcasts as store
    from bot.store.broadcasts import BroadcastError
    from scheduler.broadcasts import preview_reach, send

    out = out or sys.stdout
    async with open_sessions(settings) as sessions:
        try:
            async with sessions() as session:
                b = await store.get(session, args.id)
            if b.status in {"draft", "approved"}:
                reach = await preview_reach(sessions, settings, b, _now())
                print(render_preview(settings, b, reach), file=out)
            if not args.yes:
                print("\n" + t("broadcast.confirm", id=b.id), end="", file=out, flush=True)
                answer = (confirm or sys.stdin).readline().strip().lower()
                if answer not in {"yes", "y", "是", "确认"}:
                    print(t("broadcast.cancelled"), file=out)
                    return 1
            async with wechat_client(settings, sessions) as client:
                result = await send(sessions, client, settings, b.id, _actor(args), _now())
        except BroadcastError as exc:
            raise CommandError(str(exc)) from None
    if result.status == "sent":
        skipped = t("broadcast.sent_skipped", n=f"{result.over_limit:,}") if result.over_limit else ""
        print(t("broadcast.sent", id=result.broadcast, n=f"{result.recipients:,}", skipped=skipped), file=out)
        return 0
    print(t("broadcast.incomplete", id=result.broadcast, done=result.batches_sent, left=result.batches_left,
            error=result.error), file=out)
    return 1


async def list_command(settings: Settings, limit: int, out: TextIO | None = None) -> int:
    from bot.store import broadcasts as store

    out = out or sys.stdout
    async with open_sessions(settings) as sessions, sessions() as session:
        rows = await store.listing(session, limit)
    if not rows:
        print(t("broadcast.none"), file=out)
        return 0
    names = section("broadcast.status")
    for b, r in rows:
        sent = (t("broadcast.sent_at", when=when(b.sent_at)) if b.sent_at
                else t("broadcast.created_at", when=when(b.created_at)))
        receipts = t("broadcast.row_receipts", got=r["receipts"], batches=r["batches"], sent=f"{r['sent']:,}",
                     errors=f"{r['errors']:,}") if r["receipts"] else ""
        print(t("broadcast.row", id=b.id, status=names.get(b.status, b.status), title=b.title,
                audience=describe_audience(b.audience), when=sent, recipients=f"{b.recipients:,}",
                skipped=f"{b.over_limit:,}", receipts=receipts), file=out)
    return 0


ACTIONS = {"preview": preview_command, "approve": approve_command, "send": send_command}
