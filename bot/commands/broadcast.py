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
from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.store.broadcasts import Reach
    from bot.store.models import Broadcast
    from bot.wechat.client import WeChatClient

STATUS_NAMES = {"draft": "草稿", "approved": "已审核", "sending": "发送中", "sent": "已发送", "failed": "发送失败"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("broadcast", help="群发：撰写、预览、审核、发送（遵守微信群发限制）")
    actions = p.add_subparsers(dest="broadcast_command", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="撰写一条群发（草稿），并显示预览")
    what = new.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="群发的文字内容")
    what.add_argument("--from-policy", nargs=2, metavar=("REGION", "YEAR"), help="由已发布年度的政策生成缴费通知")
    new.add_argument("--title", help="标题（默认取内容开头）")
    new.add_argument("--audience", choices=["all", "county", "township", "group"], default="all",
                     help="受众：全部关注者 / 某县 / 某乡镇 / 未缴费的困难群体")
    new.add_argument("--region", help="县或镇（陵川县、周集镇、陵川）")
    new.add_argument("--township", help="乡镇（街道）")
    new.add_argument("--group", help="困难群体的类别键（tekun、dibao、monitored ...）")
    new.add_argument("--year", type=int, help="参保年度（困难群体受众：该年度未缴费者）")
    new.add_argument("--by", default=None, help="撰写人（默认：当前系统用户）")
    new.set_defaults(func=lambda a: run_async(new_command(Settings.from_env(), a)))
    for name, text in (("preview", "预览：受众人数与月度限额；--openid 发到该微信号预览"),
                       ("approve", "审核（需另一位工作人员）"), ("send", "发送（需确认）")):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=int, help="群发编号")
        action.add_argument("--by", default=None, help="操作人（默认：当前系统用户）")
        if name == "preview":
            action.add_argument("--openid", help="把预览发到这个微信号（mass/preview）")
        if name == "send":
            action.add_argument("--yes", action="store_true", help="不再询问确认")
        action.set_defaults(func=lambda a, name=name: run_async(ACTIONS[name](Settings.from_env(), a)))
    listing = actions.add_parser("list", help="最近的群发及其送达回执")
    listing.add_argument("--limit", type=int, default=20)
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
        return "全部关注者"
    if kind == "county":
        return f"{audience['county']}的关注者"
    if kind == "township":
        return f"{audience['county']}{audience['township']}的关注者"
    where = audience["county"] + (audience.get("township") or "")
    return f"{where} {audience['year']}年度尚未缴费的困难群体（{audience['group']}）"


def render_preview(settings: Settings, b: Broadcast, reach: Reach) -> str:
    from bot.render import environment
    from bot.store.broadcasts import split

    text = environment().get_template("broadcast_preview.j2").render(
        b=b, reach=reach, audience=describe_audience(b.audience), status_names=STATUS_NAMES,
        limit=settings.mass_monthly_limit, batches=len(split(reach.openids)),
        subscription=settings.account_type == "subscription")
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


async def new_command(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    from bot.commands.jobs import known_region
    from bot.rules.loader import load_registry
    from bot.store import broadcasts as store
    from bot.store.broadcasts import Audience, BroadcastError
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
            raise SystemExit(f"yibao: 年度应是数字，不是“{args.from_policy[1]}”") from None
        policy = registry.get(policy_region, year)
        if policy is None:
            raise SystemExit(f"yibao: 没有{policy_region}{year}年度的政策文件")
        title, content = announcement(policy)
        source = policy.id
    else:
        content = args.text.strip()
        title = args.title or content.splitlines()[0][:30] if content else ""
    audience = Audience(args.audience, region, args.township, args.group, args.year)
    try:
        check_text(content)
        async with open_sessions(settings) as sessions:
            async with sessions.begin() as session:
                b = await store.create(session, title=args.title or title, content=content, audience=audience,
                                       author=_actor(args), source=source)
            reach = await preview_reach(sessions, settings, b, _now())
    except BroadcastError as exc:
        print(f"yibao: {exc}", file=sys.stderr)
        return 2
    print(render_preview(settings, b, reach), file=out)
    step = "yibao broadcast approve" if settings.broadcast_approval else "yibao broadcast send"
    print(f"\n草稿已保存。下一步：{step} {b.id}", file=out)
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
            print(f"yibao: {exc}", file=sys.stderr)
            return 2
        reach = await preview_reach(sessions, settings, b, _now())
        print(render_preview(settings, b, reach), file=out)
        if args.openid:
            async with wechat_client(settings, sessions) as client:
                try:
                    await client.mass_preview_text(args.openid, b.content)
                except WeChatAPIError as exc:
                    print(f"yibao: 预览发送失败：微信返回 {exc.errcode} {exc.errmsg}", file=sys.stderr)
                    return 1
            async with sessions.begin() as session:
                await store.audit(session, _actor(args), "broadcast.preview", broadcast=b.id, openid=args.openid)
            print(f"\n预览已发送到 {args.openid} 的微信。", file=out)
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
            print(f"yibao: {exc}", file=sys.stderr)
            return 2
    print(f"群发 #{args.id} 已由{_actor(args)}审核通过。下一步：yibao broadcast send {args.id}", file=out)
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
                print(f"\n确认发送群发 #{b.id}？输入 yes 确认：", end="", file=out, flush=True)
                answer = (confirm or sys.stdin).readline().strip().lower()
                if answer not in {"yes", "y", "是", "确认"}:
                    print("已取消，未发送。", file=out)
                    return 1
            async with wechat_client(settings, sessions) as client:
                result = await send(sessions, client, settings, b.id, _actor(args), _now())
        except BroadcastError as exc:
            print(f"yibao: {exc}", file=sys.stderr)
            return 2
    if result.status == "sent":
        print(f"群发 #{result.broadcast} 已发送：{result.recipients:,}人"
              + (f"（{result.over_limit:,}人本月群发已满，未发送）" if result.over_limit else "")
              + "。送达情况以微信回执为准：yibao broadcast list", file=out)
        return 0
    print(f"群发 #{result.broadcast} 未发送完：已发{result.batches_sent}批，剩{result.batches_left}批。"
          f"原因：{result.error}。可再次运行 yibao broadcast send {result.broadcast} 继续（不会重复发送）",
          file=out)
    return 1


async def list_command(settings: Settings, limit: int, out: TextIO | None = None) -> int:
    from bot.store import broadcasts as store

    out = out or sys.stdout
    async with open_sessions(settings) as sessions, sessions() as session:
        rows = await store.listing(session, limit)
    if not rows:
        print("还没有群发。", file=out)
        return 0
    for b, r in rows:
        sent = f"发送于{when(b.sent_at)}" if b.sent_at else f"撰写于{when(b.created_at)}"
        receipts = (f"；回执{r['receipts']}/{r['batches']}批：送达{r['sent']:,}人，失败{r['errors']:,}人"
                    if r["receipts"] else "")
        print(f"#{b.id} {STATUS_NAMES.get(b.status, b.status)} 《{b.title}》 {describe_audience(b.audience)} "
              f"{sent}；发送{b.recipients:,}人，月度限额跳过{b.over_limit:,}人{receipts}", file=out)
    return 0


ACTIONS = {"preview": preview_command, "approve": approve_command, "send": send_command}
