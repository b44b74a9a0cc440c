"""What `make run` shows of the outreach work: a broadcast preview of the demo county's policy announcement
(a draft, made once) and a township QR code for an official, with how to scan it on the fake WeChat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import config
from bot.commands.text import t

if TYPE_CHECKING:
    from bot.commands.demo import Stack
    from bot.rules.loader import PolicyRegistry


async def outreach_demo(stack: Stack, registry: PolicyRegistry, region: str) -> str:
    import aiohttp
    from sqlalchemy import select

    from bot.app import SESSIONS
    from bot.commands.broadcast import render_preview
    from bot.commands.officials import describe, make_qrcode
    from bot.store import broadcasts as store
    from bot.store.broadcasts import Audience
    from bot.store.models import Broadcast
    from bot.wechat.client import WeChatClient
    from scheduler.broadcasts import announcement, preview_reach

    settings, sessions = stack.settings, stack.app[SESSIONS]
    policy = registry.for_region(region)[-1]
    async with sessions.begin() as session:
        draft = (await session.execute(select(Broadcast).where(
            Broadcast.source == policy.id, Broadcast.status == "draft").order_by(Broadcast.id))).scalars().first()
        if draft is None:
            title, content = announcement(policy)
            draft = await store.create(session, title=title, content=content, audience=Audience("county", region),
                                       author="demo", source=policy.id)
    reach = await preview_reach(sessions, settings, draft, config.now())
    township = registry.townships(region)[0]
    async with aiohttp.ClientSession() as http:
        client = WeChatClient(http, appid=settings.wechat_appid, secret=settings.wechat_secret,
                              base=settings.wechat_api_base, sessions=sessions)
        code = await make_qrcode(sessions, client, settings, region, township, "leader", "demo", config.now())
    return "\n".join([
        t("demo.broadcast_title"), render_preview(settings, draft, reach), t("demo.broadcast_send", id=draft.id, env=(
            f"YIBAO_WECHAT_API_BASE={settings.wechat_api_base} {config.TODAY_SETTING}={config.now():%Y-%m-%d}")),
        "", t("demo.qrcode_title"), describe(code),
        t("demo.qrcode_scan", fake=stack.fake_base, ticket=code.ticket, url=stack.webhook_url),
    ])
