"""/console/broadcasts: the bureau's mass messages (群发), as `yibao broadcast` makes them: a draft for a county's
or a township's followers (or the announcement of a published policy year), its reach counted before anything is
sent (the monthly limit of 4 mass messages per follower included), the approval by a second staff member when
YIBAO_BROADCAST_APPROVAL=1, and the send after an explicit confirmation; then its batches and WeChat's receipts.
Sending is scheduler/broadcasts.py's, the same as the command's: batches frozen before the first call, so a
send clicked twice or after a crash never reaches anyone twice."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.catalogue import section, t
from bot.console.admin import audience_text
from bot.console.context import BUREAU, account, allow, console
from bot.console.dashboard import busiest_region
from bot.keys import WECHAT
from bot.store import broadcasts as store
from bot.store.broadcasts import Audience, BroadcastError
from bot.store.ids import mask_text
from bot.store.officials import SUFFIXES
from bot.wechat.errors import WeChatAPIError
from scheduler.broadcasts import HoldsIdNumber, announcement, check_text, preview_reach, send

routes = web.RouteTableDef()
SHOWN = 50
STATUS_NAMES: dict[str, str] = dict(section("broadcast.status"))


async def _listing(request: web.Request, *, error: str | None = None, form: dict[str, str] | None = None,
                   status: int = 200) -> web.Response:
    c = console(request)
    async with c.sessions() as session:
        rows = await store.listing(session, SHOWN)
        region = c.settings.default_region or await busiest_region(session)  # as the progress page opens
    return aiohttp_jinja2.render_template("broadcasts.html", request, {
        "rows": rows, "statuses": STATUS_NAMES, "audience_text": audience_text, "regions": c.registry.regions(),
        "policies": c.registry.policies, "error": error, "form": form or {},
        "default_region": c.registry.region_name(region or "") or ""}, status=status)


@routes.get("/broadcasts", name="broadcasts")
@allow(*BUREAU)
async def broadcasts(request: web.Request) -> web.Response:
    return await _listing(request)


@routes.post("/broadcasts", name="broadcast_new")
@allow(*BUREAU)
async def new_broadcast(request: web.Request) -> web.StreamResponse:
    """A draft: typed (title, text) or a policy's announcement, for a county's or a township's followers."""
    c = console(request)
    form = {k: str(v).strip() for k, v in (await request.post()).items() if isinstance(v, str)}
    try:
        region = c.registry.region_name(form.get("region", ""))
        if region is None:
            raise BroadcastError(t("console.broadcast_region"))
        township = form.get("township", "")
        if township:
            known = c.registry.townships(region)
            township = next((n for n in (township, *(township + s for s in SUFFIXES)) if n in known), "")
            if not township:
                raise BroadcastError(t("broadcast.unknown_township", region=region, township=form["township"],
                                       known="、".join(known)))
        source = ""
        if form.get("policy"):
            policy = next((p for p in c.registry.policies if p.id == form["policy"]), None)
            if policy is None:
                raise BroadcastError(t("console.broadcast_no_policy"))
            title, content = announcement(policy)
            source = policy.id
        else:
            content = form.get("content", "").replace("\r\n", "\n")
            title = form.get("title", "") or content.split("\n", 1)[0][:30]
            if not content:
                raise BroadcastError(t("console.broadcast_empty"))
        check_text(content, title)
        audience = Audience("township", region, township) if township else Audience("county", region)
        async with c.sessions.begin() as session:
            b = await store.create(session, title=title[:64], content=content, audience=audience,
                                   author=account(request).username, source=source)
    except HoldsIdNumber as exc:  # not even shown back in clear
        return await _listing(request, error=str(exc), form={k: mask_text(v) for k, v in form.items()}, status=422)
    except BroadcastError as exc:
        return await _listing(request, error=str(exc), form=form, status=422)
    raise web.HTTPSeeOther(request.app.router["broadcast"].url_for(id=str(b.id)))


async def _broadcast(request: web.Request) -> store.Broadcast:
    raw = request.match_info["id"]
    try:
        async with console(request).sessions() as session:
            return await store.get(session, int(raw))
    except (ValueError, BroadcastError):
        raise web.HTTPNotFound(text=t("broadcast.refused.no_such", id=raw)) from None


@routes.get("/broadcasts/{id}", name="broadcast")
@allow(*BUREAU)
async def broadcast(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    c = console(request)
    b = await _broadcast(request)
    reach = await preview_reach(c.sessions, c.settings, b, c.clock()) if b.status in {"draft", "approved"} else None
    async with c.sessions() as session:
        batches = await store.batches(session, b.id)
    me = account(request).username
    return aiohttp_jinja2.render_template("broadcast.html", request, {
        "b": b, "reach": reach, "batches": batches, "statuses": STATUS_NAMES, "audience": audience_text(b.audience),
        "needs_approval": c.settings.broadcast_approval and b.status == "draft",
        "may_approve": b.author != me, "limit": c.settings.mass_monthly_limit, "error": error,
        "done": request.query.get("done", "")}, status=status)


@routes.post("/broadcasts/{id}/approve", name="broadcast_approve")
@allow(*BUREAU)
async def approve(request: web.Request) -> web.StreamResponse:
    b = await _broadcast(request)
    try:
        async with console(request).sessions.begin() as session:
            await store.approve(session, await store.get(session, b.id), account(request).username)
    except BroadcastError as exc:
        return await broadcast(request, error=str(exc), status=409)
    raise web.HTTPSeeOther(request.app.router["broadcast"].url_for(id=str(b.id)).with_query(done="approved"))


@routes.post("/broadcasts/{id}/send", name="broadcast_send")
@allow(*BUREAU)
async def send_broadcast(request: web.Request) -> web.StreamResponse:
    """Send, once the staff member ticked that they checked the text and the number of people."""
    c = console(request)
    b = await _broadcast(request)
    if (await request.post()).get("confirm") != "yes":
        return await broadcast(request, error=t("console.broadcast_confirm"), status=422)
    try:
        result = await send(c.sessions, request.config_dict[WECHAT], c.settings, b.id, account(request).username,
                            c.clock())
    except BroadcastError as exc:
        return await broadcast(request, error=str(exc), status=409)
    except WeChatAPIError as exc:
        return await broadcast(request, error=t("broadcast.batch_failed", seq=1, why=exc.for_staff()), status=502)
    done = "sent" if result.status == "sent" else "incomplete"
    raise web.HTTPSeeOther(request.app.router["broadcast"].url_for(id=str(b.id)).with_query(done=done))
