"""`yibao demo` as `make run` starts it: the demo clock inside 陵川县's 2025 collection, a resident's question
answered in season through the webhook, a reminder stage sent to the fake WeChat within the first minute, and
the refusals before any work (a port taken, a second scheduler on the same SQLite database)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.wechat.simulate import Signer, text_xml
from tests.commands.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
FIRST_MINUTE_S = 60.0


@pytest.fixture
def env() -> dict[str, str]:
    """The environment of `make run`: no YIBAO_* settings of the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def demo(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int, int, float]]:
    """`yibao demo` on free ports in an empty folder (its database goes to ./var/), as `make run` runs it."""
    port, fake_port = free_port(), free_port()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--fake-port",
                             str(fake_port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    yield proc, port, fake_port, started
    stop(proc, signal.SIGINT)


def read_banner(proc: subprocess.Popen) -> str:
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "发件箱" in line and ".venv/bin/yibao outbox" in line:  # the banner's last line
            return "".join(lines)
    raise AssertionError("the demo ended before its banner:\n" + "".join(lines))


def ask_webhook(port: int, openid: str, text: str) -> ET.Element:
    """POST the XML WeChat would send, signed with the demo's token, and parse the reply XML."""
    settings = Settings()
    params, body = Signer(settings.wechat_token, settings.wechat_appid).sign(text_xml(openid, text))
    url = f"http://127.0.0.1:{port}/wechat?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10) as resp:
        assert resp.status == 200
        return ET.fromstring(resp.read())


def fake_calls(fake_port: int) -> list[dict]:
    with urllib.request.urlopen(f"http://127.0.0.1:{fake_port}/_fake/messages", timeout=5) as resp:
        return json.load(resp)


def test_make_run_shows_the_season(demo) -> None:
    proc, port, fake_port, started = demo
    banner = read_banner(proc)
    assert "演示时钟     2024年11月20日 09:59:" in banner and "YIBAO_TODAY=2024-11-20" in banner
    assert "居民缴费状态通知（截止前5天）" in banner and f"127.0.0.1:{fake_port}/_fake/messages" in banner
    residents = [line for line in banner.splitlines() if line.startswith("    ") and "1405" in line]
    assert len(residents) >= 2 and "未缴费" in residents[0] and any("已缴费" in r for r in residents)
    assert "演示居民（虚构姓名和身份证号" in banner
    assert "YIBAO_TODAY=2024-11-20 .venv/bin/yibao jobs --region 陵川县" in banner
    assert f"管理后台     http://127.0.0.1:{port}/console" in banner
    assert "演示密码" in banner and "admin / demo-admin-2024" in banner and "liyi / demo-liyi-2024" in banner
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/login", timeout=10) as page:
        assert page.status == 200 and "登录控制台" in page.read().decode()

    reply = ask_webhook(port, "o_acceptance", "陵川县低保户交多少")
    assert reply.findtext("ToUserName") == "o_acceptance" and reply.findtext("MsgType") == "text"
    content = reply.findtext("Content") or ""
    assert "2025年度" in content and "您个人缴纳80元" in content and "本月截止11月25日" in content
    assert "已结束" not in content

    # The demo serves behind the same edge as `yibao serve`: a client that stops mid-request is cut off at
    # the read deadline (YIBAO_READ_TIMEOUT_S, 5 s by default).
    with socket.create_connection(("127.0.0.1", port), timeout=15) as slow:
        slow.sendall(b"POST /wechat HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        begun = time.monotonic()
        with contextlib.suppress(ConnectionResetError):  # closed, or reset: either way cut off
            assert slow.recv(1024) == b""
        assert 4.5 < time.monotonic() - begun < 12

    reminders: list[dict] = []
    while not reminders and time.monotonic() - started < FIRST_MINUTE_S:
        time.sleep(1)
        reminders = [c for c in fake_calls(fake_port) if c["endpoint"] in {"message/template/send", "custom/send"}
                     and c["body"].get("touser", "").startswith("demo-resident-")]
    assert reminders, "no reminder reached the fake WeChat within the first minute"
    assert reminders[0]["body"].get("client_msg_id", "").endswith(":2024-11-25:reminder-5d") or \
        "2024年11月25日" in json.dumps(reminders[0]["body"], ensure_ascii=False)


def test_a_taken_port_is_named_before_any_work(env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--fake-port",
                               str(free_port())], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60)
    assert proc.returncode == 2
    assert f"端口 {port} 已被占用（webhook" in proc.stderr and "make run PORT=" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "var" / "yibao.sqlite3").exists()  # nothing migrated, no scheduler started


def test_a_second_scheduler_on_the_same_sqlite_database_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    env["YIBAO_DATABASE_URL"] = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    first = subprocess.Popen([sys.executable, "-m", "bot.cli", "scheduler"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = tmp_path / "shared.sqlite3.scheduler.lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.2)
        second = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port())],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"已有一个调度器在运行（进程 {first.pid}）" in second.stderr and "--no-scheduler" in second.stderr
        assert first.poll() is None  # the first one runs on
    finally:
        stop(first, signal.SIGINT)


def test_make_run_shows_a_broadcast_preview_and_a_township_qr_code(demo) -> None:
    proc, port, fake_port, _started = demo
    read_banner(proc)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "在模拟微信上扫码" in line:
            break
    shown = "".join(lines)
    assert "群发预览" in shown and "受众：陵川县的关注者" in shown and "依据：陵政办函〔2024〕16号" in shown
    assert "陵川县崇文镇 分管领导 登记二维码" in shown and "showqrcode?ticket=" in shown
    assert f"127.0.0.1:{fake_port}/_fake/scan" in shown
    # the name is replied as the official who scanned, to this demo's webhook (not the default port)
    assert f"yibao chat --url http://127.0.0.1:{port}/wechat" in shown and "--openid demo-official" in shown


def test_the_broadcast_send_the_demo_prints_reaches_its_fake_wechat(demo, env: dict[str, str], tmp_path: Path) -> None:
    """Run as printed, in another terminal: it went to api.weixin.qq.com (the demo's fake was only in the demo's
    own environment) and failed with an English DNS error."""
    proc, _port, fake_port, _started = demo
    read_banner(proc)
    assert proc.stdout is not None
    line = next(line for line in proc.stdout if ".venv/bin/yibao broadcast send" in line)
    command = line.split("：", 1)[1].split("（", 1)[0].split()
    assert command[0] == f"YIBAO_WECHAT_API_BASE=http://127.0.0.1:{fake_port}" and command[1].startswith("YIBAO_TODAY=")
    settings = dict(part.split("=", 1) for part in command[:2])
    sent = subprocess.run([sys.executable, "-m", "bot.cli", *command[3:]], cwd=tmp_path, env={**env, **settings},
                          input="yes\n", capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert any(call["endpoint"] == "message/mass/send" for call in fake_calls(fake_port))


def test_the_digest_a_demo_official_receives_links_to_a_page_the_demo_serves(env: dict[str, str],
                                                                            tmp_path: Path) -> None:
    """Started just before the 11月22日 09:00 township digest, the demo sends it with a link to the township
    page on the demo's own port (not YIBAO_PUBLIC_URL's default), and the link opens that township's page."""
    port, fake_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--fake-port",
                             str(fake_port), "--today", "2024-11-22T08:59:50"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        read_banner(proc)
        started, links = time.monotonic(), []
        while not links and time.monotonic() - started < FIRST_MINUTE_S:
            time.sleep(1)
            sent = json.dumps([c["body"] for c in fake_calls(fake_port)], ensure_ascii=False)
            links = re.findall(r"http://[^\"\s]+/township\?[^\"\s]+", sent)
        assert links, "no digest with a township page link reached the fake WeChat"
        assert all(link.startswith(f"http://127.0.0.1:{port}/township?") for link in links)
        with urllib.request.urlopen(links[0], timeout=10) as page:
            html = page.read().decode()
        assert page.status == 200 and "医保征缴进度" in html and "2024年11月25日缴费截止" in html
    finally:
        stop(proc, signal.SIGINT)
