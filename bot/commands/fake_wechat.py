"""`yibao fake-wechat [--host H] [--port P]`: the fake WeChat API server, for demos and manual tests."""

from __future__ import annotations

import argparse
import asyncio
import os

from bot.commands.common import check_ports
from bot.commands.serve import configure_logging, run_until_stopped
from bot.commands.text import t
from bot.config import Settings

DEFAULT_PORT = 8010


def run(args: argparse.Namespace) -> int:
    from bot.wechat.fake import FAKE, create_fake_app

    configure_logging()
    settings = Settings.from_env()
    check_ports(args.host, [(args.port, t("errors.what_fake"))], t("errors.port_hint_fake"))
    callback = os.environ.get("YIBAO_FAKE_CALLBACK_URL") or None  # where receipts and QR scans are pushed
    app = create_fake_app(settings.wechat_appid, settings.wechat_secret, account_type=args.account_type,
                          callback_url=callback, callback_token=settings.wechat_token)
    app[FAKE].callback_aes_key = settings.wechat_aes_key
    base = f"http://{args.host}:{args.port}"

    def ready() -> None:
        print(t("fake-wechat.ready", base=base, appid=settings.wechat_appid), flush=True)

    asyncio.run(run_until_stopped(app, args.host, args.port, ready=ready))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("fake-wechat", help=t("fake-wechat.help"), description=t("fake-wechat.description"))
    p.add_argument("--host", default="127.0.0.1", help=t("fake-wechat.host"))
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=t("fake-wechat.port", default=DEFAULT_PORT))
    p.add_argument("--account-type", choices=["service", "subscription"], default="service",
                   help=t("fake-wechat.account_type"))
    p.set_defaults(func=run)
