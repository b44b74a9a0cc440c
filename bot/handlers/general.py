"""Greeting, help, out of scope, not understood, and choosing one's county."""

from __future__ import annotations

from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.types import Answer, Context

router = Router()


def _menu(ctx: Context) -> dict[str, object]:
    return {"regions": ctx.registry.regions(), "region": ctx.speaker.region, "township": ctx.speaker.township}


@router.handles(Intent.GREETING, cacheable=True, reads=("region", "township"))
async def greeting(query: Query, ctx: Context) -> Answer:
    return Answer("greeting", _menu(ctx))


@router.handles(Intent.HELP, cacheable=True, reads=("region", "township"))
async def help_(query: Query, ctx: Context) -> Answer:
    return Answer("help", _menu(ctx))


@router.handles(Intent.OUT_OF_SCOPE, cacheable=True, reads=("region", "township"))
async def out_of_scope(query: Query, ctx: Context) -> Answer:
    return Answer("out_of_scope", {"topic": query.topic, **_menu(ctx)})


@router.handles(Intent.FALLBACK, cacheable=True, reads=("region", "township"))
async def fallback(query: Query, ctx: Context) -> Answer:
    return Answer("fallback", _menu(ctx))


@router.handles(Intent.SET_REGION, cacheable=True, reads=("region", "township"))
async def set_region(query: Query, ctx: Context) -> Answer:
    if query.region is None:
        unknown = query.extras.get("unknown_region")
        if unknown:
            return Answer("unknown_region", {"asked": unknown, "regions": ctx.registry.regions()})
        return Answer("ask_region", {"regions": ctx.registry.regions(), "unknown": None},
                      remember={"region": None, "township": None})
    township = query.township if query.region != ctx.speaker.region or query.township else ctx.speaker.township
    return Answer("region_set", {"region": query.region, "township": township},
                  remember={"region": query.region, "township": township})
