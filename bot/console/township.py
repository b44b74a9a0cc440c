"""The township page: what a digest's link opens on an official's phone, with no password.

GET /township?c=陵川县&t=礼义镇&y=2025&e=EXPIRY&s=SIG shows that unit's collection progress only (paid against
target, expected progress, villages by paid share, needy groups unpaid, payments week by week). The link is
signed and expires (bot/store/signing.py); a tampered, malformed or expired one gets 403 and a Chinese page
that says what to do. Nothing else is reachable through it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
from aiohttp import web
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import TZ, Settings
from bot.render import cn_date
from bot.rules.loader import PolicyRegistry
from bot.store.models import Payment, Resident
from bot.store.progress import township_progress
from bot.store.signing import BadSignature, check_page
from scheduler.digests import expected_percent, next_cutoff, short_of, unit_noun, village_progress

PAGES_DIR = Path(__file__).resolve().parents[2] / "templates" / "pages"
TREND_WEEKS = 8
# No script, nothing from elsewhere, never in another site's frame; its query string is the password, so no
# Referer carries it on, and no cache keeps the page.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                      "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
           "X-Frame-Options": "DENY"}


@dataclass
class TownshipPages:
    settings: Settings
    sessions: async_sessionmaker
    registry: PolicyRegistry
    clock: Callable[[], dt.datetime]


PAGES = web.AppKey("township_pages", TownshipPages)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PAGES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cn_date"] = cn_date
    return env


def _page(template: str, status: int = 200, **data: object) -> web.Response:
    body = environment().get_template(template).render(**data)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


async def weekly_payments(sessions: async_sessionmaker, county: str, township: str, year: int,
                          today: dt.date) -> list[dict[str, object]]:
    """Payments per week (ending `today`) for the last TREND_WEEKS weeks, with the running total."""
    start = today - dt.timedelta(days=7 * TREND_WEEKS - 1)
    p, r = Payment.__table__, Resident.__table__
    unit = [r.c.county == county, (r.c.township == township) | (r.c.village == township)]
    async with sessions() as session:
        before = (await session.execute(
            select(func.count()).select_from(p.join(r, r.c.id == p.c.resident_id))
            .where(p.c.insurance_year == year, p.c.paid_on < start, *unit))).scalar_one()
        days = dict((await session.execute(
            select(p.c.paid_on, func.count()).select_from(p.join(r, r.c.id == p.c.resident_id))
            .where(and_(p.c.insurance_year == year, p.c.paid_on >= start, p.c.paid_on <= today), *unit)
            .group_by(p.c.paid_on))).all())
    weeks, total = [], before
    for w in range(TREND_WEEKS):
        first = start + dt.timedelta(days=7 * w)
        n = sum(days.get(first + dt.timedelta(days=d), 0) for d in range(7))
        total += n
        weeks.append({"end": first + dt.timedelta(days=6), "paid": n, "total": total})
    return weeks


async def township_page(request: web.Request) -> web.Response:
    pages = request.app[PAGES]
    now = pages.clock()
    try:
        county, township, year = check_page(pages.settings.link_key, dict(request.query), now)
    except BadSignature as exc:
        return _page("township_refused.html", 403, expired=str(exc) == "expired")
    policy = pages.registry.get(county, year)
    if policy is None:
        return _page("township_refused.html", 403, expired=False)
    today = now.astimezone(TZ).date()
    async with pages.sessions() as session:
        units = await township_progress(session, county, year, today, pages.registry)
        villages = await village_progress(session, county, year, today)
    unit = next((u for u in units if u.name == township), None)
    if unit is None:
        return _page("township_refused.html", 403, expired=False)
    trend = await weekly_payments(pages.sessions, county, township, year, today)
    rows = sorted(villages.get(unit.township, []) if not unit.village else [], key=lambda v: (v.percent, v.village))
    # the next cutoff and the share expected by it: the figures of the digest this page is linked from
    cutoff, days_left = next_cutoff(policy, today)
    by_cutoff = expected_percent(policy, cutoff) if cutoff else None
    return _page("township.html", county=county, unit=unit, units=len(units), unit_noun=unit_noun(policy),
                 year=year, today=today, expected=expected_percent(policy, min(today, policy.collection.end)),
                 cutoff=cutoff, days_left=days_left, by_cutoff=by_cutoff,
                 short=short_of(unit, by_cutoff) if by_cutoff is not None else 0, villages=rows,
                 needy=[g for g in unit.groups if g.listed], trend=trend,
                 peak=max([w["paid"] for w in trend] + [1]), doc=policy.document.number)


def setup(app: web.Application, settings: Settings, sessions: Callable[[], async_sessionmaker],
          registry: Callable[[], PolicyRegistry], clock: Callable[[], dt.datetime]) -> None:
    """Serve the page; `sessions` and `registry` are read once the app has started."""

    async def ctx(app: web.Application):
        app[PAGES] = TownshipPages(settings, sessions(), registry(), clock)
        yield

    app.cleanup_ctx.append(ctx)
    app.router.add_get("/township", township_page)
