"""`yibao chat [--region R] [--openid ID] [--url URL] [--fake URL]`: talk to the webhook like a resident.

Each typed line is sent as WeChat would send it (signed; in safe mode when YIBAO_WECHAT_AES_KEY is set) to a
running `yibao serve`/`yibao demo`, or, when none answers, to one started in this process with its own fake
WeChat. An answer that comes later as a customer-service message is fetched from the fake WeChat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

from bot.commands.demo import DEFAULT_FAKE_PORT, DEFAULT_PORT
from bot.config import Settings

if TYPE_CHECKING:
    import aiohttp

    from bot.commands.demo import Stack
    from bot.wechat.simulate import Signer

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}/wechat"
DEFAULT_FAKE = f"http://127.0.0.1:{DEFAULT_FAKE_PORT}"
LATE_WAIT_S = 8.0  # how long to look for an answer sent later by the customer-service API
NO_REPLY = ("/location", "/unsubscribe")  # WeChat expects only "success" for these



def help_text() -> str:
    from bot.wechat.router import MENU_QUESTIONS

    return f"""Type a question and press Enter (Ctrl-D or /quit to leave). Events:
  /subscribe  /unsubscribe  /click KEY ({", ".join(MENU_QUESTIONS)})  /voice [TEXT]  /image  /location"""


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
        seen = await self._late_answers_seen()
        params, body = self.signer.sign(build_xml(self.openid, line))
        async with self.http.post(self.url, params=params, data=body) as resp:
            text = await resp.text()
            if resp.status != 200:
                return f"[HTTP {resp.status}] {text}"
        reply = self.signer.open_reply(text)
        if reply is not None:
            return reply
        if not self.fake or line.startswith(NO_REPLY):
            return "[success]"
        deadline = time.monotonic() + LATE_WAIT_S
        while time.monotonic() < deadline:  # a slow answer arrives as a customer-service message
            late = await self._late_answers()
            if len(late) > seen:
                return "[客服消息] " + late[-1]
            await asyncio.sleep(0.3)
        return "[success: no reply]"


async def _alive(http: aiohttp.ClientSession, url: str) -> bool:
    import aiohttp

    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=1)) as resp:
            return resp.status < 500
    except (aiohttp.ClientError, TimeoutError):
        return False


def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines from stdin, read on a daemon thread so the event loop (and an in-process server) keeps running."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    prompt = "您: " if sys.stdin.isatty() else ""

    def reader() -> None:
        while True:
            try:
                line = input(prompt)
            except (EOFError, KeyboardInterrupt):
                loop.call_soon_threadsafe(queue.put_nowait, None)
                return
            loop.call_soon_threadsafe(queue.put_nowait, line)

    threading.Thread(target=reader, daemon=True, name="chat-stdin").start()
    return queue


async def _chat(args: argparse.Namespace) -> int:
    import aiohttp

    from bot.commands.demo import start_stack
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
            else:
                stack = await start_stack(settings)
                url, fake = stack.webhook_url, stack.fake_base
                print(f"(started a server in this process at {url})")
        mode = "safe mode" if settings.wechat_aes_key else "plain mode"
        print(f"talking to {url} as {args.openid} ({mode})\n{help_text()}")
        talk = Conversation(http, url, signer, args.openid, fake)
        try:
            if args.region:
                line = f"我是{args.region}的"
                print(f"您: {line}\n助手: {await talk.say(line)}\n")
            lines = _stdin_lines(asyncio.get_running_loop())
            while (line := await lines.get()) is not None:
                line = line.strip()
                if line in ("/quit", "/exit"):
                    break
                if line:
                    if not sys.stdin.isatty():
                        print(f"您: {line}")
                    print(f"助手: {await talk.say(line)}\n", flush=True)
        finally:
            if stack is not None:
                await stack.close()
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_chat(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("chat", help="talk to the webhook in the terminal, as WeChat would")
    p.add_argument("--region", help='send "我是<REGION>的" first, e.g. 陵川县 or 陵川县礼义镇')
    p.add_argument("--openid", default=f"o_chat_{os.environ.get('USER', 'local')}", help="the follower's openid")
    p.add_argument("--url", help=f"webhook URL (default {DEFAULT_URL}, or a server started in this process)")
    p.add_argument("--fake", help="fake WeChat base URL, to show answers sent later as customer-service messages")
    p.add_argument("--in-process", action="store_true", help="start a server in this process even if one runs")
    p.set_defaults(func=run)
