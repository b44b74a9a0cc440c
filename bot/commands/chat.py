"""`yibao chat [--region R] [--openid ID] [--url URL] [--fake URL]`: talk to the webhook like a resident.

Each typed line is sent as WeChat would send it (signed; in safe mode when YIBAO_WECHAT_AES_KEY is set) to a
running `yibao serve`/`yibao demo`, or, when none answers, to one started in this process with its own fake
WeChat. An answer that comes later as a customer-service message is fetched from the fake WeChat.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot import config
from bot.commands.demo import DEFAULT_FAKE_PORT, DEFAULT_PORT, DEMO_TODAY
from bot.commands.text import t
from bot.config import Settings

if TYPE_CHECKING:
    import aiohttp

    from bot.commands.demo import Stack
    from bot.wechat.simulate import Signer

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}/wechat"
DEFAULT_FAKE = f"http://127.0.0.1:{DEFAULT_FAKE_PORT}"
LATE_WAIT_S = 8.0  # how long to look for an answer sent later by the customer-service API
NO_REPLY = ("/location", "/unsubscribe")  # WeChat expects only "success" for these


HISTORY = Path("var") / "chat_history"  # the lines typed at earlier `yibao chat` prompts (readline)


def help_text() -> str:
    from bot.wechat.inbox import MENU_QUESTIONS

    return t("chat.usage", keys="、".join(MENU_QUESTIONS))


def build_xml(openid: str, line: str) -> str:
    """The XML WeChat would push for a typed line (a question, or one of the /commands)."""
    from bot.wechat.simulate import event_xml, message_xml, text_xml, voice_xml

    command, _, rest = line.partition(" ")
    match command:
        case "/subscribe" | "/unsubscribe":
            return event_xml(openid, command[1:])
        case "/click":
            return event_xml(openid, "CLICK", rest.strip().upper() or "FEE")
        case "/voice":
            return voice_xml(openid, rest.strip() or None)
        case "/image":
            fields = {"PicUrl": "http://example.invalid/a.jpg", "MediaId": "m1", "MsgId": str(time.time_ns())}
            return message_xml(openid, "image", fields)
        case "/location":
            fields = {"Event": "LOCATION", "Latitude": "35.77", "Longitude": "113.28", "Precision": "30"}
            return message_xml(openid, "event", fields)
    return text_xml(openid, line)


class Conversation:
    def __init__(self, http: aiohttp.ClientSession, url: str, signer: Signer, openid: str, fake: str | None):
        self.http = http
        self.url = url
        self.signer = signer
        self.openid = openid
        self.fake = fake

    async def _late_answers_seen(self) -> int:
        return len(await self._late_answers())

    async def _late_answers(self) -> list[str]:
        if not self.fake:
            return []
        async with self.http.get(f"{self.fake}/_fake/messages", params={"endpoint": "custom/send"}) as resp:
            calls = await resp.json()
        return [c["body"]["text"]["content"] for c in calls if c.get("body", {}).get("touser") == self.openid]

    async def say(self, line: str) -> str:
        """Send one typed line as WeChat would; the passive reply, a customer-service message sent a little
        later, or a note saying why there is none."""
        from bot.render import as_read

        seen = await self._late_answers_seen()
        params, body = self.signer.sign(build_xml(self.openid, line))
        async with self.http.post(self.url, params=params, data=body) as resp:
            text = await resp.text()
            if resp.status != 200:
                return t("chat.http_error", status=resp.status, text=text)
        reply = self.signer.open_reply(text)
        if reply is not None:
            return as_read(reply)  # a one-tap link as its words
        if line.startswith(NO_REPLY):
            return t("chat.no_reply")
        deadline = time.monotonic() + (LATE_WAIT_S if self.fake else 0)
        while time.monotonic() < deadline:  # a slow answer arrives as a customer-service message
            late = await self._late_answers()
            if len(late) > seen:  # a long answer comes in parts, one after the other
                await asyncio.sleep(0.5)
                late = await self._late_answers()
                return t("chat.late", text=as_read("\n".join(late[seen:])))
            await asyncio.sleep(0.3)
        return t("chat.no_answer")


async def _alive(http: aiohttp.ClientSession, url: str) -> bool:
    import aiohttp

    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=1)) as resp:
            return resp.status < 500
    except (aiohttp.ClientError, TimeoutError):
        return False


class Prompt:
    """Typed lines, one at a time: the prompt shows only once the previous answer is printed. In a terminal,
    readline gives line editing and a history kept across runs (HISTORY); piped input is echoed instead.

    input() runs on the event loop's own thread, on purpose: an in-process server has nothing to do between
    two lines, and Ctrl-C, Ctrl-D and /quit then end the program with no reader thread left behind."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty()
        self.readline = None
        if self.interactive:
            try:
                import readline
            except ImportError:  # not every Python has it; plain input() still works
                pass
            else:
                self.readline = readline
                if HISTORY.exists():
                    readline.read_history_file(HISTORY)

    def line(self) -> str | None:
        """The next line, or None at the end (Ctrl-D, end of the piped input)."""
        prompt = t("chat.you") if self.interactive else ""
        try:
            line = input(prompt)
        except EOFError:
            return None
        if not self.interactive and line.strip():
            print(t("chat.you") + line.strip())
        return line

    def close(self) -> None:
        if self.readline is not None:
            HISTORY.parent.mkdir(parents=True, exist_ok=True)
            self.readline.set_history_length(1000)
            self.readline.write_history_file(HISTORY)


async def _chat(args: argparse.Namespace) -> int:
    import aiohttp

    from bot.commands.demo import prepare_demo_database, start_stack
    from bot.rules.loader import load_registry
    from bot.wechat.simulate import Signer

    settings = Settings.from_env()
    signer = Signer(settings.wechat_token, settings.wechat_appid, settings.wechat_aes_key)
    stack: Stack | None = None
    async with aiohttp.ClientSession() as http:
        url, fake = args.url, args.fake
        if not url:
            if not args.in_process and await _alive(http, DEFAULT_URL.removesuffix("/wechat") + "/healthz"):
                url = DEFAULT_URL
                fake = fake or (DEFAULT_FAKE if await _alive(http, DEFAULT_FAKE + "/_fake/messages") else None)
            else:  # a server of our own, on the demo data and the demo's day, without a second scheduler
                registry = load_registry(settings.policy_dirs)
                if settings.today is None:
                    config.set_clock(dt.datetime.combine(DEMO_TODAY, config.now().timetz()))
                await prepare_demo_database(settings, registry, config.today())
                print(t("chat.clock", today=config.today().isoformat()))
                stack = await start_stack(settings, registry=registry, scheduler=False)
                url, fake = stack.webhook_url, stack.fake_base
                print(t("chat.started", url=url))
        mode = t("chat.mode_safe") if settings.wechat_aes_key else t("chat.mode_plain")
        print(t("chat.talking", openid=args.openid, url=url, mode=mode))
        print(help_text())
        talk = Conversation(http, url, signer, args.openid, fake)
        prompt = Prompt()
        try:
            if args.region:
                line = f"我是{args.region}的"
                print(f"{t('chat.you')}{line}\n{t('chat.bot')}{await talk.say(line)}\n", flush=True)
            while (line := prompt.line()) is not None:
                line = line.strip()
                if line in ("/quit", "/exit"):
                    break
                if line:
                    print(f"{t('chat.bot')}{await talk.say(line)}\n", flush=True)
        finally:
            prompt.close()
            if stack is not None:
                await stack.close()
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_chat(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("chat", help=t("chat.help"), description=t("chat.description"))
    p.add_argument("--region", help=t("chat.region"))
    default_openid = f"o_chat_{os.environ.get('USER', 'local')}"
    p.add_argument("--openid", default=default_openid, help=t("chat.openid", default=default_openid))
    p.add_argument("--url", help=t("chat.url", default=DEFAULT_URL))
    p.add_argument("--fake", help=t("chat.fake"))
    p.add_argument("--in-process", action="store_true", help=t("chat.in_process"))
    p.set_defaults(func=run)
