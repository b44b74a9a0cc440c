"""The webhook's edge alone (connection limits, signature, timestamp window, body cap, parse, reply XML) with a
canned answer and no store and no pipeline, so the benchmark can tell the edge's cost from the inbox's:
`python -m bench.webhook.edge --port P`.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from bench.webhook.canned import ANSWER
from bot.app import WEBHOOK, create_app
from bot.commands.serve import run_until_stopped
from bot.config import Settings
from bot.wechat.protocol import Inbound


class CannedInbox:
    """In place of bot/wechat/inbox.py's Inbox: no claim, no follower, no log row."""

    async def answer(self, inbound: Inbound) -> str:
        return ANSWER


async def without_inbox(app: web.Application) -> None:
    app[WEBHOOK].inbox = CannedInbox()  # after the webhook's own startup (cleanup contexts run first)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(Settings.from_env(), scheduler=False)
    app.on_startup.append(without_inbox)
    asyncio.run(run_until_stopped(app, args.host, args.port, access_log=False))
