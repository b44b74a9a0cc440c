"""The `yibao` command: a composition root that builds one parser from the command modules in bot/commands/.

Each command module has `register(subparsers)` and imports what its commands need only when they run, so
building the parser stays cheap (`yibao ask` loads the pipeline, not the web server or the scheduler).
"""

from __future__ import annotations

import argparse
import sys

from bot.commands import (
    ask,
    chat,
    db,
    demo,
    demo_data,
    fake_wechat,
    imports,
    jobs,
    outbox,
    policy,
    remind,
    scheduler,
    serve,
    status,
)
from bot.config import ConfigError

# The order of `yibao --help`.
COMMANDS = [policy, ask, db, imports, status, demo_data, serve, chat, demo, fake_wechat, remind, jobs, outbox,
            scheduler]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yibao", description="医保缴费助手 (yibao): WeChat assistant for 城乡居民医保 collection"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def _handled_errors() -> tuple[type[Exception], ...]:
    """Errors shown as one line: evaluated only when an exception is raised, so the rules load lazily."""
    from bot.rules.loader import PolicyError

    return ConfigError, PolicyError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except _handled_errors() as exc:
        print(f"yibao: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
