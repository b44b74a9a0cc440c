"""`yibao ask [--region NAME] [--date YYYY-MM-DD] [--openid ID] TEXT`: the reply a resident would get."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.args import iso_date
from bot.commands.text import CommandError, t
from bot.config import Settings, now, today

if TYPE_CHECKING:
    from bot.rules.loader import PolicyRegistry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help=t("ask.help"), description=t("ask.description"))
    p.add_argument("--region", help=t("ask.region"))
    p.add_argument("--date", type=iso_date, help=t("ask.date"))
    p.add_argument("--openid", help=t("ask.openid"))
    p.add_argument("text", nargs="+", metavar="TEXT", help=t("ask.text"))
    p.set_defaults(func=run)


async def current_registry(settings: Settings) -> PolicyRegistry:
    """The policy files plus the policies published from the console in the configured database."""
    from bot.rules.loader import load_registry
    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.published import load_current_registry

    files = load_registry(settings.policy_dirs)
    if settings.is_sqlite and not Path(settings.database_url.split(":///", 1)[-1]).is_file():
        return files  # no database yet, so nothing published
    engine = make_engine(settings)
    try:
        return await load_current_registry(files, make_sessionmaker(engine))
    finally:
        await engine.dispose()


async def ask(text: str, *, region: str | None, on: dt.date, openid: str | None, settings: Settings) -> str:
    from bot.pipeline import respond
    from bot.types import Context, Speaker

    registry = await current_registry(settings)
    if region is not None and registry.region_name(region) is None:
        raise CommandError(t("errors.unknown_region", region=region, known="、".join(registry.regions())))
    region = registry.region_name(region) if region else None
    if openid is None:
        ctx = Context(today=on, registry=registry, speaker=Speaker(region=region), settings=settings)
        return (await respond(text, ctx)).text

    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.followers import load_speaker, save_speaker
    from bot.store.schema import ensure_schema

    engine = make_engine(settings)
    try:
        await ensure_schema(engine, registry=registry)
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            speaker = await load_speaker(session, openid)
        if region is not None:
            speaker.region = region
        ctx = Context(today=on, registry=registry, speaker=speaker, settings=settings, sessions=sessions,
                      now=now() if on == today() else dt.datetime.combine(on, dt.time(12), now().tzinfo))
        reply = await respond(text, ctx)
        async with sessions() as session, session.begin():
            await save_speaker(session, reply.speaker, ctx.now)
        return reply.text
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    from bot.render import as_read

    text = " ".join(args.text)
    answer = asyncio.run(ask(text, region=args.region, on=args.date or today(), openid=args.openid,
                             settings=settings))
    print(as_read(answer))  # a one-tap link as its words
    return 0
