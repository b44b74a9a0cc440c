"""/console/: each township's paid vs target with a bar chart, the weekly trend, needy groups' coverage,
the laggards, days to the next cutoff and what the scheduler sends next; /console/township/{county}/
{township}: a township's villages (a township leader's dashboard)."""

from __future__ import annotations

import datetime as dt

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue import t
from bot.console.charts import progress_chart, week_chart
from bot.console.context import BUREAU, EVERYONE, account, allow, console
from bot.console.views import region_year
from bot.rules.calculator import calendar
from bot.rules.schema import Policy
from bot.store import officials
from bot.store.models import AuditLog, Payment, Resident
from bot.store.progress import TownshipProgress, township_progress
from scheduler.describe import describe_job
from scheduler.digests import expected_percent, is_behind, next_cutoff, village_progress
from scheduler.timetable import all_jobs, upcoming

routes = web.RouteTableDef()
LAGGARDS = 5
NEXT_JOBS = 6


async def paid_by_week(session: AsyncSession, region: str, year: int, until: dt.date,
                       township: str | None = None) -> list[tuple[str, int]]:
    """Residents of `region` (or one township) who paid for `year`, per week (Monday first) up to `until`."""
    query = (select(Payment.paid_on, func.count()).join(Resident, Resident.id == Payment.resident_id)
             .where(Resident.county == region, Payment.insurance_year == year, Payment.paid_on <= until)
             .group_by(Payment.paid_on))
    if township:
        query = query.where(Resident.township == township)
    weeks: dict[dt.date, int] = {}
    for day, n in await session.execute(query):
        monday = day - dt.timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + n
    if not weeks:
        return []
    out, monday = [], min(weeks)
    while monday <= until:
        out.append((f"{monday.month}/{monday.day}", weeks.get(monday, 0)))
        monday += dt.timedelta(days=7)
    return out


async def busiest_region(session: AsyncSession) -> str | None:
    """The county with the most residents on the roster: the dashboard's default."""
    return await session.scalar(
        select(Resident.county).group_by(Resident.county).order_by(func.count().desc()).limit(1))


def by_cutoff(policy: Policy, cutoff: dt.date | None) -> float | None:
    """The share of the target expected by the next cutoff: the figure the digests and escalations give."""
    return expected_percent(policy, cutoff) if cutoff is not None else None


def _expected(policy: Policy, today: dt.date) -> float | None:
    state = calendar(policy, today)
    return expected_percent(policy, min(today, state.period_end)) if today >= policy.collection.start else None


def _totals(units: list[TownshipProgress]) -> dict:
    target = sum(u.target or 0 for u in units)
    paid = sum(u.paid for u in units)
    groups: dict[str, dict] = {}
    for u in units:
        for g in u.groups:
            e = groups.setdefault(g.key, {"name": g.name, "listed": 0, "paid": 0})
            e["listed"] += g.listed
            e["paid"] += g.paid
    for e in groups.values():
        e["percent"] = round(100 * e["paid"] / e["listed"], 1) if e["listed"] else None
    return {"target": target, "paid": paid, "percent": round(100 * paid / target, 1) if target else None,
            "roster": sum(u.roster for u in units), "groups": list(groups.values())}


@routes.get("/", name="home")
@allow(*EVERYONE)
async def home(request: web.Request) -> web.StreamResponse:
    me = account(request)
    if me.role == "township":
        raise web.HTTPFound(request.app.router["township"].url_for(county=me.county, township=me.township))
    return await county_dashboard(request)


@allow(*BUREAU)
async def county_dashboard(request: web.Request) -> web.Response:
    c = console(request)
    today, now = c.today(), c.clock()
    async with c.sessions() as session:
        region, year = region_year(c, request.query.get("region") or await busiest_region(session),
                                   request.query.get("year"))
        policy = c.registry.get(region, year)
        assert policy is not None
        units = await township_progress(session, region, year, today, c.registry)
        weeks = await paid_by_week(session, region, year, today)
    expected = _expected(policy, today)
    laggards = sorted((u for u in units if expected is not None and is_behind(u, expected)),
                      key=lambda u: u.percent or 0)[:LAGGARDS]
    cutoff, days = next_cutoff(policy, today)
    jobs = upcoming(all_jobs(c.registry, c.settings, region), now)[:NEXT_JOBS]
    return aiohttp_jinja2.render_template("dashboard.html", request, {
        "region": region, "year": year, "policy": policy, "today": today, "units": units,
        "totals": _totals(units), "chart": progress_chart(units, expected), "trend": week_chart(weeks),
        "expected": expected, "laggards": laggards, "cutoff": cutoff, "days": days,
        "by_cutoff": by_cutoff(policy, cutoff),
        "jobs": [(j.run_at, describe_job(j)) for j in jobs],
        "regions": c.registry.regions(), "years": [p.insurance_year for p in c.registry.for_region(region)],
    })


@routes.get("/township/{county}/{township}", name="township")
@allow(*EVERYONE)
async def township_dashboard(request: web.Request) -> web.Response:
    c = console(request)
    county, township = request.match_info["county"], request.match_info["township"]
    region = c.registry.region_name(county)
    if region is None or township not in c.registry.townships(region):
        raise web.HTTPNotFound(text=t("console.no_township"))
    _, year = region_year(c, region, request.query.get("year"))
    policy = c.registry.get(region, year)
    assert policy is not None
    today = c.today()
    async with c.sessions() as session:
        units = await township_progress(session, region, year, today, c.registry)
        villages = (await village_progress(session, region, year, today)).get(township, [])
        weeks = await paid_by_week(session, region, year, today, township)
        contacts = await officials.listing(session, region, township)
        refused = await _refused_links(session, region, township) if account(request).is_bureau else []
    mine = next((u for u in units if u.township == township), None)
    expected = _expected(policy, today)
    cutoff, days = next_cutoff(policy, today)
    villages = sorted(villages, key=lambda v: v.percent)
    return aiohttp_jinja2.render_template("township.html", request, {
        "region": region, "township": township, "year": year, "today": today, "unit": mine,
        "units_count": len(units), "villages": villages, "trend": week_chart(weeks), "expected": expected,
        "cutoff": cutoff, "days": days, "by_cutoff": by_cutoff(policy, cutoff), "contacts": contacts,
        "refused": refused,
    })


REFUSED_SHOWN = 10


async def _refused_links(session: AsyncSession, county: str, township: str) -> list[AuditLog]:
    """The latest registrations refused for this township (a name another WeChat account had registered
    first), so the bureau sees them where it looks after the township's officials."""
    rows = await session.scalars(select(AuditLog).where(AuditLog.action == "contact.refused")
                                 .order_by(AuditLog.id.desc()).limit(500))
    return [e for e in rows if e.detail.get("county") == county and e.detail.get("township") == township
            ][:REFUSED_SHOWN]
