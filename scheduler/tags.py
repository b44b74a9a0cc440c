"""The tag job: bring followers' region tags on WeChat in step with their bound region, in the background.

Each round takes up to `batch` followers whose tags lag (bot/store/tags.py), creates the tags WeChat does not
have yet (at most 100 per account: a tag that would pass the cap is left off and logged), then for each tag
tags (and untags) its followers 50 openids per call, and records what each follower now carries. A round
that fails leaves the rest for the next one; nothing here runs inside a webhook reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.store import tags as store
from bot.wechat.client import TAG_BATCH_MAX, WeChatClient
from bot.wechat.errors import WeChatAPIError

log = logging.getLogger("yibao.scheduler.tags")

TAGS_FULL = 45056


async def _tag_id(sessions: async_sessionmaker, client: WeChatClient, known: dict[str, int], name: str) -> int | None:
    if name in known:
        return known[name]
    if len(known) >= store.MAX_ACCOUNT_TAGS:
        return None
    try:
        tag_id = await client.create_tag(name)
    except WeChatAPIError as exc:
        if exc.errcode != 45157:  # 45157: it exists on WeChat already (made outside yibao): look it up
            if exc.errcode == TAGS_FULL:
                log.warning("WeChat's 100 tags are used up: %s is not created", name)
                return None
            raise
        tag_id = (await client.get_tags())[name]
    async with sessions.begin() as session:
        await store.remember_tag(session, name, tag_id)
    known[name] = tag_id
    return tag_id


async def sync_tags(sessions: async_sessionmaker, client: WeChatClient, batch: int = 500) -> Counter[str]:
    """One round; returns counts of followers tagged and tag calls made."""
    stats: Counter[str] = Counter()
    async with sessions() as session:
        lagging = await store.out_of_step(session, batch)
        known = await store.known_tags(session)
    if not lagging:
        return stats
    add: dict[str, list[str]] = defaultdict(list)
    remove: dict[str, list[str]] = defaultdict(list)
    applied: dict[str, set[str]] = {}
    for openid, (wanted, carried) in lagging.items():
        for name in sorted(wanted - carried):
            add[name].append(openid)
        for name in sorted(carried - wanted):
            remove[name].append(openid)
        applied[openid] = set(carried)
    for name, openids in sorted(remove.items()):
        tag_id = known.get(name)
        for i in range(0, len(openids), TAG_BATCH_MAX):
            chunk = openids[i:i + TAG_BATCH_MAX]
            if tag_id is not None:
                await client.untag_users(tag_id, chunk)
                stats["calls"] += 1
            for o in chunk:
                applied[o].discard(name)
    for name, openids in sorted(add.items()):
        tag_id = await _tag_id(sessions, client, known, name)
        for i in range(0, len(openids), TAG_BATCH_MAX):
            chunk = openids[i:i + TAG_BATCH_MAX]
            if tag_id is not None:
                await client.tag_users(tag_id, chunk)
                stats["calls"] += 1
            for o in chunk:
                applied[o].add(name)  # a tag past the account's cap counts as done: it cannot be made
    async with sessions.begin() as session:
        for openid, tags in applied.items():
            await store.record(session, openid, tags)
    stats["followers"] += len(applied)
    return stats


async def run(sessions: async_sessionmaker, client: WeChatClient, stop: asyncio.Event, every_s: float = 30.0) -> None:
    """Rounds until `stop` is set: at once while followers lag, else every `every_s`."""
    while not stop.is_set():
        try:
            stats = await sync_tags(sessions, client)
        except Exception:
            log.exception("tag job failed; retrying in %.0fs", every_s)
            stats = Counter()
        if stats["calls"]:  # more may be waiting: go on at once
            log.info("tags brought up to date: %s", dict(stats))
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
