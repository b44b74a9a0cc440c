"""`yibao serve`, `yibao demo`, `yibao chat` and `yibao fake-wechat` as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main
from bot.commands.chat import Conversation, build_xml
from bot.commands.demo import start_stack
from bot.config import Settings
from bot.wechat.protocol import parse_xml
from bot.wechat.simulate import Signer
from tests.commands.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[2]


def test_a_malformed_setting_is_named(monkeypatch, capsys):
    monkeypatch.setenv("YIBAO_WECHAT_AES_KEY", "abc")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "YIBAO_WECHAT_AES_KEY" in err and "43" in err


def test_chat_lines_become_wechat_xml():
    assert parse_xml(build_xml("o1", "交多少钱"))["Content"] == "交多少钱"
    assert parse_xml(build_xml("o1", "/click deadline"))["EventKey"] == "DEADLINE"
    assert parse_xml(build_xml("o1", "/voice 怎么交"))["Recognition"] == "怎么交"
    assert "Recognition" not in parse_xml(build_xml("o1", "/voice"))
    assert parse_xml(build_xml("o1", "/subscribe"))["Event"] == "subscribe"
    assert parse_xml(build_xml("o1", "/location"))["Event"] == "LOCATION"
    assert parse_xml(build_xml("o1", "/image"))["MsgType"] == "image"


@pytest.mark.parametrize("aes_key", [None, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"], ids=["plain", "safe"])
async def test_chat_converses_with_an_in_process_stack(tmp_path, aes_key):
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}", wechat_aes_key=aes_key)
    stack = await start_stack(settings)
    try:
        signer = Signer(settings.wechat_token, settings.wechat_appid, aes_key)
        async with aiohttp.ClientSession() as http:
            talk = Conversation(http, stack.webhook_url, signer, "o_chat_test", stack.fake_base)
            assert "陵川县" in await talk.say("我是陵川县礼义镇的")
            assert "陵川县" in await talk.say("低保户交多少")
            assert "欢迎关注" in await talk.say("/subscribe")
            assert "只能看懂文字" in await talk.say("/image")
    finally:
        await stack.close()


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env["YIBAO_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    env["PYTHONPATH"] = str(ROOT)
    return env


def wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def running(env, tmp_path) -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        stop(proc)


async def _say(url: str, openid: str, text: str, signer: Signer | None = None) -> str | None:
    signer = signer or Signer(Settings.wechat_token, Settings.wechat_appid)
    async with aiohttp.ClientSession() as http:
        talk = Conversation(http, url, signer, openid, None)
        return await talk.say(text)


async def test_serve_with_two_workers(running):
    port = free_port()
    proc = running("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--no-scheduler")
    wait_until_up(f"http://127.0.0.1:{port}/healthz", proc)
    url = f"http://127.0.0.1:{port}/wechat"
    replies = [await _say(url, f"o_w{i}", "陵川县低保户交多少") for i in range(6)]
    assert all(r and "陵川县" in r for r in replies)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0


async def test_demo_runs_until_interrupted_and_chat_talks_to_it(running):
    port, fake_port = free_port(), free_port()
    proc = running("demo", "--port", str(port), "--fake-port", str(fake_port))
    wait_until_up(f"http://127.0.0.1:{port}/healthz", proc)
    assert "陵川县" in await _say(f"http://127.0.0.1:{port}/wechat", "o_demo", "我是陵川县的")
    time.sleep(0.5)
    assert proc.poll() is None  # still running
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}/wechat" in out
    assert f"http://127.0.0.1:{fake_port}/_fake/messages" in out
    assert "yibao chat" in out


def test_chat_command_in_a_terminal(env, tmp_path):
    """`yibao chat --region --in-process` starts its own server and answers typed lines."""
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--region", "陵川县", "--in-process", "--openid", "o_tty"],
        cwd=tmp_path,
        env=env,
        input="低保户交多少\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "我是陵川县的" in proc.stdout
    assert proc.stdout.count("陵川县") >= 3
