"""`yibao user add|list|disable|enable|passwd`: console accounts (bureau admin, bureau staff, township leader).

Passwords are read from a prompt (twice) or, with --password-stdin, from the first line of standard input,
never from the command line (it would stay in the shell history and the process list).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.commands.common import open_engine, run_async
from bot.commands.text import CommandError, t
from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.rules.loader import PolicyRegistry

ROLE_CHOICES = ("admin", "staff", "township")  # bot.store.users.ROLES, without importing the store here
# The demo's console accounts (`make run`): fictional, with demo passwords printed in its banner.
DEMO_ACCOUNTS = [("admin", "admin", None, "demo-admin-2024"), ("liyi", "township", "礼义镇", "demo-liyi-2024")]


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(t("user.prompt"))
    if getpass.getpass(t("user.prompt_again")) != first:
        raise CommandError(t("user.mismatch"))
    return first


async def _in_db(work: Callable[[AsyncSession, PolicyRegistry], Awaitable[None]]) -> None:
    """Run `work` in one transaction of the configured database; a refused change is a CommandError."""
    from bot.rules.loader import load_registry
    from bot.store.db import make_sessionmaker
    from bot.store.users import UserError

    settings = Settings.from_env()
    registry = load_registry(settings.policy_dirs)
    async with open_engine(settings) as engine:
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await work(session, registry)
        except UserError as exc:
            raise CommandError(str(exc)) from None


def _add(args: argparse.Namespace) -> int:
    password = _password(args)

    async def work(session: AsyncSession, registry: PolicyRegistry) -> None:
        from bot.store.users import add_user

        account = await add_user(session, registry, args.name, args.role, password,
                                 township=args.township, county=args.region)
        where = f"（{account.county}{account.township}）" if account.township else ""
        print(t("user.created", username=account.username, role=t(f"user.role_{account.role}"), where=where))

    return run_async(_in_db(work))


def _list(_args: argparse.Namespace) -> int:
    async def work(session: AsyncSession, _registry: PolicyRegistry) -> None:
        from bot.store.users import list_users

        users = await list_users(session)
        if not users:
            print(t("user.none"))
        for u in users:
            print(t("user.row", username=u.username, role=t(f"user.role_{u.role}"),
                    where=f"{u.county}{u.township}" if u.township else t("user.whole_county"),
                    state=t("user.disabled") if u.disabled else t("user.active"),
                    created=f"{u.created_at:%Y-%m-%d}"))

    return run_async(_in_db(work))


def _disable(args: argparse.Namespace, disabled: bool) -> int:
    async def work(session: AsyncSession, _registry: PolicyRegistry) -> None:
        from bot.store.users import set_disabled

        await set_disabled(session, args.name, disabled)
        print(t("user.now_disabled" if disabled else "user.now_enabled", username=args.name))

    return run_async(_in_db(work))


def _passwd(args: argparse.Namespace) -> int:
    password = _password(args)

    async def work(session: AsyncSession, _registry: PolicyRegistry) -> None:
        from bot.store.users import set_password

        await set_password(session, args.name, password)
        print(t("user.password_changed", username=args.name))

    return run_async(_in_db(work))


async def demo_accounts(sessions: async_sessionmaker, registry: PolicyRegistry) -> None:
    """`yibao demo`'s console accounts (DEMO_ACCOUNTS), created once."""
    from bot.store.users import add_user, list_users

    async with sessions() as session, session.begin():
        existing = {u.username for u in await list_users(session)}
        for name, role, township, password in DEMO_ACCOUNTS:
            if name not in existing:
                await add_user(session, registry, name, role, password, township=township, actor="demo")


def register(sub: argparse._SubParsersAction) -> None:
    user = sub.add_parser("user", help=t("user.help"), description=t("user.description"))
    users = user.add_subparsers(dest="user_command", metavar=t("yibao.action"), required=True)
    p = users.add_parser("add", help=t("user.add_help"), description=t("user.add_description"))
    p.add_argument("name", help=t("user.name"))
    p.add_argument("--role", required=True, choices=ROLE_CHOICES, help=t("user.role"))
    p.add_argument("--township", help=t("user.township"))
    p.add_argument("--region", help=t("user.region"))
    p.add_argument("--password-stdin", action="store_true", help=t("user.password_stdin"))
    p.set_defaults(func=_add)
    p = users.add_parser("list", help=t("user.list_help"), description=t("user.list_description"))
    p.set_defaults(func=_list)
    p = users.add_parser("disable", help=t("user.disable_help"), description=t("user.disable_description"))
    p.add_argument("name", help=t("user.name"))
    p.set_defaults(func=lambda a: _disable(a, True))
    p = users.add_parser("enable", help=t("user.enable_help"), description=t("user.enable_description"))
    p.add_argument("name", help=t("user.name"))
    p.set_defaults(func=lambda a: _disable(a, False))
    p = users.add_parser("passwd", help=t("user.passwd_help"), description=t("user.passwd_description"))
    p.add_argument("name", help=t("user.name"))
    p.add_argument("--password-stdin", action="store_true", help=t("user.password_stdin"))
    p.set_defaults(func=_passwd)
