"""The `yibao` command: a composition root; each feature registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys

from bot.config import ConfigError
from bot.rules.loader import PolicyError

# Each module has `register(subparsers)`; a new command family is one module plus one line here.
COMMAND_MODULES = [
    "bot.rules.commands",  # policy check / policy show
    "bot.commands.ask",  # ask
    "bot.store.commands",  # db upgrade|load-targets|revision, import, status, demo-data
    "bot.commands.serve",  # serve
    "bot.commands.chat",  # chat
    "bot.commands.demo",  # demo
    "bot.commands.fake_wechat",  # fake-wechat
    "scheduler.commands",  # remind plan, jobs, outbox, scheduler
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yibao", description="医保缴费助手 (yibao): WeChat assistant for 城乡居民医保 collection"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, PolicyError) as exc:
        print(f"yibao: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
