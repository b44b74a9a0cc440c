"""The `yibao` command as staff meet it: help in Chinese for every subcommand, bare `yibao`, `--version`,
developer commands hidden, clear errors, and `yibao ask` loading only what it needs."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Two English words in a row (identifiers, options, YIBAO_* names and file types may appear alone).
ENGLISH = re.compile(r"\b[A-Za-z]{2,}\b[ ,;:]+\b[A-Za-z]{2,}\b")
ALLOWED = re.compile(r"--[\w-]+|YIBAO_\w+|https?://\S+|yibao \w[\w-]*( \w[\w-]*)?|make run|\.venv/bin/\S+|"
                     r"policy-as-code|Ctrl-[CD]|\{[\w,-]+\}|\b[A-Z][A-Z_]+\b")  # the last: metavars (FILE, TEXT)


def subparsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from subparsers(child, (*path, name))


def english(text: str) -> list[str]:
    """The runs of English words in `text`, leaving out the names it may mention."""
    return [m.group(0) for m in ENGLISH.finditer(ALLOWED.sub("", text))]


PARSERS = list(subparsers(build_parser()))


@pytest.mark.parametrize("path,parser", PARSERS, ids=[" ".join(p) or "yibao" for p, _ in PARSERS])
def test_every_help_is_chinese_and_complete(path, parser, capsys) -> None:
    assert parser.description and CJK.search(parser.description), f"{path}: no Chinese description"
    assert not english(parser.description), f"{path}: English in the description: {english(parser.description)}"
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help and CJK.search(action.help), f"{path} {action.option_strings or action.dest}: no help"
        assert not english(action.help), f"{path} {action.option_strings}: English help: {english(action.help)}"
    with pytest.raises(SystemExit) as exc:
        main([*path, "--help"])
    assert exc.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith("用法：") and "显示本帮助后退出" in shown
    assert not english(shown.split("\n", 1)[1]), english(shown)  # past the usage line


def test_bare_yibao_prints_the_help(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：yibao") and "医保缴费助手" in out and "demo" in out and "ask" in out


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and re.fullmatch(r"yibao \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


def test_developer_commands_are_hidden_from_staff(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["db", "--help"])
    listing = capsys.readouterr().out
    assert "upgrade" in listing and "load-targets" in listing and "revision" not in listing
    with pytest.raises(SystemExit) as exc:
        main(["db", "revision", "--help"])  # still there for developers
    assert exc.value.code == 0 and "迁移" in capsys.readouterr().out


def test_command_line_errors_are_chinese(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["status"])
    assert exc.value.code == 2
    assert "缺少必需的参数：--region" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["jobs", "--after", "2024-11-31"])
    assert "日期应写作 YYYY-MM-DD" in capsys.readouterr().err
    assert main(["remind", "plan", "--date", "2024-11-20", "--region", "火星县"]) == 2
    assert "不认识的地区“火星县”" in capsys.readouterr().err


def test_a_malformed_setting_is_named_in_chinese(monkeypatch, capsys) -> None:
    monkeypatch.setenv("YIBAO_TODAY", "11/20")
    assert main(["ask", "交多少钱"]) == 2
    err = capsys.readouterr().err
    assert "YIBAO_TODAY='11/20' 无法识别：应写作 YYYY-MM-DD" in err


def test_jobs_explains_an_empty_list(monkeypatch, capsys) -> None:
    monkeypatch.delenv("YIBAO_TODAY", raising=False)
    assert main(["jobs", "--region", "陵川县", "--after", "2031-01-01"]) == 0
    out = capsys.readouterr().out
    assert "之后没有提醒任务" in out and "陵川县的缴费截止日都已过去" in out and "yibao jobs --after" in out


def run_yibao(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}, "PYTHONPATH": str(ROOT),
           **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, **kwargs)


def test_jobs_piped_into_head_ends_quietly(tmp_path) -> None:
    proc = subprocess.run(f"{sys.executable} -m bot.cli jobs --all --after 2024-09-01 | head -2", shell=True,
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert len(proc.stdout.splitlines()) == 2 and "即将运行的提醒任务" in proc.stdout
    assert proc.stderr == ""


def test_ask_loads_neither_the_web_server_nor_the_scheduler() -> None:
    code = ("import sys\nfrom bot.cli import main\n"
            "assert main(['ask', '--region', '陵川县', '--date', '2024-11-20', '低保户交多少']) == 0\n"
            "loaded = {m.split('.')[0] for m in sys.modules} | set(sys.modules)\n"
            "print(sorted(loaded & {'aiohttp', 'bot.app', 'scheduler', 'rich', 'alembic', 'apscheduler'}))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("[]"), proc.stdout
