"""Small helpers the console's pages share: display filters and the region/year a page is about."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.catalogue import t
from bot.console.context import Console
from bot.render import cn_date
from bot.rules.calculator import resolve_policy


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def when(value: dt.datetime | None) -> str:
    from bot.config import TZ

    return "—" if value is None else value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


FILTERS = {"percent": percent, "number": number, "when": when, "cn_date": cn_date}


def region_year(c: Console, raw_region: str | None, raw_year: str | None) -> tuple[str, int]:
    """The county (policy region) and insurance year a page shows: as asked, else the configured default
    region (or the first) and the year being collected today. An unknown one is a 404."""
    registry = c.registry
    raw = raw_region or c.settings.default_region or (registry.regions() or [""])[0]
    region = registry.region_name(raw)
    if region is None:
        raise web.HTTPNotFound(text=t("console.no_region", region=raw))
    if raw_year:
        if not raw_year.isdigit() or registry.get(region, int(raw_year)) is None:
            raise web.HTTPNotFound(text=t("console.no_year", region=region, year=raw_year))
        return region, int(raw_year)
    today = c.today()
    year = resolve_policy(registry, region, today).year
    if year is None or registry.get(region, year) is None:
        year = registry.for_region(region)[-1].insurance_year
    return region, year
