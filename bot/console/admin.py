"""/console/audit: the audit log (who, when, what) and the accounts; bureau admins only."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.console.context import allow, console
from bot.store.users import ROLES, list_users, recent_audit

routes = web.RouteTableDef()
PAGE = 100

ACTIONS = {
    "login": "登录", "login.failed": "登录失败", "login.throttled": "登录被限制", "logout": "退出",
    "user.add": "新建账号", "user.disable": "停用账号", "user.enable": "启用账号", "user.passwd": "更改密码",
    "import.residents": "导入参保人员名册", "import.payments": "导入缴费明细", "import.contacts": "导入联系人",
    "policy.publish": "发布政策", "campaign.pause": "暂停提醒", "campaign.resume": "恢复提醒",
}


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
