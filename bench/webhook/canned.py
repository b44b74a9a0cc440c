"""The full webhook (protocol, dedupe, follower state, logging) with a canned answer instead of the pipeline,
so the benchmark can tell the pipeline's cost from the rest: `python -m bench.webhook.canned --port P`.
"""

from __future__ import annotations

import argparse
import asyncio

from bot.app import create_app
from bot.commands.serve import run_until_stopped
from bot.config import Settings
from bot.nlu.query import Intent, Query
from bot.types import Context, Reply

ANSWER = (
    "【陵川县 2025年度城乡居民医保】\n"
    "城乡低保对象：个人缴费标准400元，医疗救助基金资助320元（80%），您个人缴纳80元。\n"
    "缴费时间：2024年9月1日至2025年2月25日，每月1—25日可缴；本月截止11月25日。\n"
    "依据：陵政办函〔2024〕16号 四、4"
)


async def canned(message: str | Query, ctx: Context) -> Reply:
    return Reply(text=ANSWER, intent=Intent.FEE, query=Query(intent=Intent.FEE, text=str(message)), speaker=ctx.speaker)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(Settings.from_env(), responder=canned, scheduler=False)
    asyncio.run(run_until_stopped(app, args.host, args.port, access_log=False))
