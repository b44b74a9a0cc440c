"""/console/campaigns: the scheduler's upcoming jobs, pause/resume of a stage or the whole season, the
dry-run preview of a stage (recipients per township, sample texts exactly as residents and officials will
read them: the planner and renderer of `yibao remind plan`), and the outbox with its delivery log."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import or_, select

from bot.catalogue import section, t
from bot.console.context import BUREAU, account, allow, console
from bot.console.dashboard import busiest_region
from bot.console.failures import reason_in_chinese
from bot.console.recipients import openids_named, recipients
from bot.console.views import region_year
from bot.store.models import OutboxMessage
from bot.store.pauses import SEASON, pause, paused, resume
from scheduler.describe import describe_job, preview, stage_label
from scheduler.planner import plan_job
from scheduler.timetable import all_jobs, find_job, upcoming

routes = web.RouteTableDef()
SHOWN_JOBS = 40
SAMPLES = 3
OUTBOX_PAGE = 100
STATUS_NAMES: dict[str, str] = dict(section("console.outbox_statuses"))


@routes.get("/campaigns", name="campaigns")
@allow(*BUREAU)
async def campaigns(request: web.Request) -> web.Response:
    c = console(request)
    async with c.sessions() as session:
        # the county the progress page opens on (the one with the most residents), not the first policy's
        asked = request.query.get("region") or await busiest_region(session)
        stopped = await paused(session)
    region, year = region_year(c, asked, request.query.get("year"))
    policy = c.registry.get(region, year)
    assert policy is not None
    jobs = upcoming(all_jobs(c.registry, c.settings, region), c.clock())
    stages = sorted({j.stage for j in jobs if j.policy_id == policy.id})
    return aiohttp_jinja2.render_template("campaigns.html", request, {
        "region": region, "year": year, "policy": policy, "regions": c.registry.regions(),
        "jobs": [(j, describe_job(j)) for j in jobs[:SHOWN_JOBS]], "more": max(len(jobs) - SHOWN_JOBS, 0),
        "paused": stopped, "season": SEASON, "stages": stages, "stage_label": stage_label,
    })


@routes.post("/campaigns/pause", name="campaign_pause")
@allow(*BUREAU)
async def pause_stage(request: web.Request) -> web.StreamResponse:
    return await _toggle(request, pause)


@routes.post("/campaigns/resume", name="campaign_resume")
@allow(*BUREAU)
async def resume_stage(request: web.Request) -> web.StreamResponse:
    return await _toggle(request, resume)


async def _toggle(request: web.Request, action) -> web.StreamResponse:
    c = console(request)
    form = await request.post()
    policy_id, stage = str(form.get("policy_id", "")), str(form.get("stage", ""))
    policy = next((p for p in c.registry.policies if p.id == policy_id), None)
    known = {j.stage for j in all_jobs(c.registry, c.settings, policy.region.name)} if policy else set()
    if policy is None or (stage != SEASON and stage not in known):
        raise web.HTTPBadRequest(text=t("console.no_stage"))
    async with c.sessions() as session, session.begin():
        await action(session, policy_id, stage, account(request).username)
    raise web.HTTPSeeOther(request.app.router["campaigns"].url_for().with_query(
        region=policy.region.name, year=str(policy.insurance_year)))


@routes.get("/campaigns/preview", name="campaign_preview")
@allow(*BUREAU)
async def preview_stage(request: web.Request) -> web.Response:
    c = console(request)
    spec = find_job(c.registry, c.settings, request.query.get("job", ""))
    if spec is None:
        raise web.HTTPNotFound(text=t("console.no_job"))
    async with c.sessions() as session:
        plan = await plan_job(session, c.registry, spec, commit=False, planned_at=c.clock(), samples=SAMPLES)
        who = await recipients(session, [(row["openid"], row.get("resident_id")) for row in plan.samples])
        samples = [(who[(row["openid"], row.get("resident_id"))],
                    await preview(session, c.registry, row, spec.run_at.date())) for row in plan.samples]
        await session.rollback()  # a dry run: nothing planned stays
    counts = sorted(plan.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return aiohttp_jinja2.render_template("campaign_preview.html", request, {
        "spec": spec, "what": describe_job(spec), "plan": plan, "counts": counts, "samples": samples})


@routes.get("/outbox", name="outbox")
@allow(*BUREAU)
async def outbox(request: web.Request) -> web.Response:
    c = console(request)
    status = request.query.get("status") or None
    q = (request.query.get("q") or "").strip()[:100]
    page = max(int(request.query["page"]), 1) if request.query.get("page", "").isdigit() else 1
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in STATUS_NAMES:
        query = query.where(OutboxMessage.status == status)
    async with c.sessions() as session:
        if q:  # an openid, a stage, a failure, or the name of the official or resident it went to
            like = f"%{q.replace('%', '').replace('_', '')}%"
            named = await openids_named(session, q)
            query = query.where(or_(OutboxMessage.openid.like(like), OutboxMessage.key.like(like),
                                    OutboxMessage.last_error.like(like), OutboxMessage.stage.like(like),
                                    OutboxMessage.openid.in_(named)))
        rows = (await session.scalars(query.limit(OUTBOX_PAGE + 1).offset((page - 1) * OUTBOX_PAGE))).all()
        who = await recipients(session, [(m.openid, m.resident_id) for m in rows[:OUTBOX_PAGE]])
    return aiohttp_jinja2.render_template("outbox.html", request, {
        "rows": [(m, who[(m.openid, m.resident_id)]) for m in rows[:OUTBOX_PAGE]],
        "more": len(rows) > OUTBOX_PAGE, "page": page, "status": status or "",
        "q": q, "statuses": STATUS_NAMES, "stage_label": stage_label, "reason": reason_in_chinese})
