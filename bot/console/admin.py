"""/console/audit: the audit log (who, when, what) and the accounts; bureau admins only."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.catalogue import section
from bot.console.context import allow, console
from bot.store.users import ROLES, list_users, recent_audit

routes = web.RouteTableDef()
PAGE = 100

ACTIONS: dict[str, str] = dict(section("console.actions"))  # the audit log's actions, as the filter names them


@routes.get("/audit", name="audit")
@allow("admin")
async def audit_log(request: web.Request) -> web.Response:
    c = console(request)
    page = max(int(request.query["page"]), 1) if request.query.get("page", "").isdigit() else 1
    action = request.query.get("action") or None
    async with c.sessions() as session:
        entries = await recent_audit(session, limit=PAGE + 1, offset=(page - 1) * PAGE, action=action)
        users = await list_users(session)
    return aiohttp_jinja2.render_template("audit.html", request, {
        "entries": entries[:PAGE], "more": len(entries) > PAGE, "page": page, "action": action or "",
        "actions": ACTIONS, "users": users, "roles": ROLES,
    })
