"""`yibao fake-wechat [--host H] [--port P]`: the fake WeChat API server, for demos and manual tests."""

from __future__ import annotations

import argparse
import asyncio

from bot.commands.serve import configure_logging, run_until_stopped
from bot.config import Settings

DEFAULT_PORT = 8010


def run(args: argparse.Namespace) -> int:
    from bot.wechat.fake import create_fake_app

    configure_logging()
    settings = Settings.from_env()
    app = create_fake_app(settings.wechat_appid, settings.wechat_secret)
    base = f"http://{args.host}:{args.port}"

    def ready() -> None:
        print(f"fake WeChat API at {base} (AppID {settings.wechat_appid})", flush=True)
        print(f"  calls:  GET {base}/_fake/messages    inject errors: POST {base}/_fake/inject", flush=True)
        print(f"  point the bot at it: YIBAO_WECHAT_API_BASE={base}", flush=True)

    asyncio.run(run_until_stopped(app, args.host, args.port, ready=ready))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("fake-wechat", help="run a fake WeChat API server on localhost")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.set_defaults(func=run)
