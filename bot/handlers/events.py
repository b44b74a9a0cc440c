"""Events and messages that are not questions: subscribing, unsubscribing, what cannot be read, other events.

The WeChat edge turns each into a Query of its intent (bot/wechat/inbox.py); they are answered here like any
question. An answer without a template says nothing (the passive reply "success"). The outreach events
(officials' QR scans, the subscription popup, send receipts) are bot/handlers/outreach.py's.
"""

from __future__ import annotations

from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.types import Answer, Context

router = Router()


@router.handles(Intent.SUBSCRIBE, cacheable=True, reads=("region", "township"))
async def welcome(query: Query, ctx: Context) -> Answer:
    """关注: welcome; a returning follower keeps the region they bound before."""
    registry, speaker = ctx.registry, ctx.speaker
    regions = registry.regions()
    # "我是陵川县礼义镇的": the first region whose townships we know, else a bare region name
    example = next((r + towns[0] for r in regions if (towns := registry.townships(r))), regions[0] if regions else "")
    data = {"region": speaker.region, "township": speaker.township, "regions": regions, "example": example}
    return Answer("welcome", data, remember={"subscribed": True})


@router.handles(Intent.UNSUBSCRIBE)
async def goodbye(query: Query, ctx: Context) -> Answer:
    """取消关注: nothing more may be sent to them (and WeChat delivers no reply)."""
    return Answer(None, remember={"subscribed": False})


@router.handles(Intent.UNSUPPORTED, cacheable=True, reads=())
async def unsupported(query: Query, ctx: Context) -> Answer:
    """Pictures, video, links, locations, files, empty or overlong texts, unknown menu keys: ask in words."""
    return Answer("unsupported_message", {"kind": query.topic, "length": int(query.extras.get("length", 0))})


@router.handles(Intent.VOICE_UNRECOGNIZED, cacheable=True, reads=())
async def voice_unrecognized(query: Query, ctx: Context) -> Answer:
    return Answer("voice_unrecognized")


@router.handles(Intent.EVENT, cacheable=True, reads=())
async def other_event(query: Query, ctx: Context) -> Answer:
    """A location report, a follower's scan of the account's code, a link opened: WeChat expects "success"."""
    return Answer(None)
