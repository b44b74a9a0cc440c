"""The `yibao` command: a composition root that builds one parser from the command modules in bot/commands/.

Each command module has `register(subparsers)` and imports what its commands need only when they run, so
building the parser stays cheap (`yibao ask` loads the pipeline, not the web server or the scheduler).
Everything the command says is Simplified Chinese, from templates/cli/zh.toml (bot/commands/text.py).
"""

from __future__ import annotations

import argparse
import os
import sys

from bot.commands import (
    ask,
    broadcast,
    chat,
    db,
    demo,
    demo_data,
    fake_wechat,
    imports,
    jobs,
    officials,
    outbox,
    policy,
    remind,
    scheduler,
    serve,
    status,
    user,
)
from bot.commands.text import CommandError, section, t
from bot.config import ConfigError

# The order of `yibao --help`.
COMMANDS = [policy, ask, db, imports, status, demo_data, serve, chat, demo, fake_wechat, remind, jobs, outbox,
            scheduler, user, broadcast, officials]


def _argparse_in_chinese() -> None:
    """argparse translates its own words (usage, options, its errors) through gettext; give it ours."""
    words = section("argparse")
    argparse._ = lambda text: words.get(text, text)  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: words.get(one if n == 1 else many, one if n == 1 else many)  # type: ignore[attr-defined]


class _Version(argparse.Action):
    """`yibao --version`, reading the installed package's version only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **_kwargs: object):
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0,
                         help=t("yibao.version"))

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        from importlib.metadata import version

        print(f"yibao {version('yibao')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    _argparse_in_chinese()
    parser = argparse.ArgumentParser(prog="yibao", description=t("yibao.description"), epilog=t("yibao.epilog"))
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar=t("yibao.commands"))
    for module in COMMANDS:
        module.register(sub)
    return parser


def _error(message: str) -> int:
    print(t("yibao.error", message=message), file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `yibao`
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        return _error(str(exc))
    except ConfigError as exc:
        return _error(t(f"config.{exc.problem}", name=exc.name, **exc.details))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `yibao jobs | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except Exception as exc:
        from bot.rules.loader import PolicyError

        if isinstance(exc, PolicyError):
            return _error(t("errors.policy", message=exc))
        raise


if __name__ == "__main__":
    sys.exit(main())
