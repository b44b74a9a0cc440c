"""/console/audit: the audit log (who, when, what) and the accounts; bureau admins only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.catalogue import section, t
from bot.console.context import allow, console
from bot.console.recipients import short_openid
from bot.console.views import when
from bot.store.pauses import SEASON
from bot.store.users import ROLES, list_users, recent_audit
from scheduler.describe import stage_label

routes = web.RouteTableDef()
PAGE = 100

ACTIONS: dict[str, str] = dict(section("console.actions"))  # the audit log's actions, as the filter names them
FIELDS: dict[str, str] = dict(section("console.audit_fields"))  # an entry's detail keys, as staff read them
REFUSED = ".refused"
POLICY_KEYS = ("policy", "source")  # details naming a policy by its id (lingchuan-2025)


def action_label(action: str) -> str:
    """An audit action in Chinese: 导入参保人员名册, 导入参保人员名册（未导入）, the key itself when unknown."""
    if action.endswith(REFUSED) and action.removesuffix(REFUSED) in ACTIONS:
        return t("console.audit_refused", action=ACTIONS[action.removesuffix(REFUSED)])
    return ACTIONS.get(action, action)


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return t("console.yes") if value else t("console.no")
    if key == "role" and value in ROLES:
        return ROLES[value]
    if key == "stage" and isinstance(value, str):
        return t("console.whole_season") if value == SEASON else stage_label(value.split("-")[0], value)
    if key == "openid" and isinstance(value, str):
        return short_openid(value)
    if key == "expires" and isinstance(value, str):
        try:
            return when(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    if key == "audience" and isinstance(value, dict):
        return audience_text(value)
    return str(value)


def audience_text(a: dict[str, Any]) -> str:
    """A broadcast's audience (bot/store/broadcasts.py Audience) as the broadcast command names it."""
    county, township = a.get("county") or "", a.get("township") or ""
    if a.get("kind") == "all":
        return t("broadcast.all")
    if a.get("kind") == "county":
        return t("broadcast.county", county=county)
    if a.get("kind") == "township":
        return t("broadcast.in_township", county=county, township=township)
    return t("broadcast.needy", where=county + township, year=a.get("year", ""), group=a.get("group", ""))


def detail_text(detail: dict[str, Any], policies: dict[str, str] | None = None) -> str:
    """An entry's detail as staff read it: 县：陵川县，乡镇：崇文镇，角色：分管领导 (empty values left out; a
    policy id as its county and year, 陵川县2025年度)."""
    named = policies or {}
    return "，".join(f"{FIELDS.get(k, k)}：{named.get(v, v) if k in POLICY_KEYS else _value(k, v)}"
                    for k, v in detail.items() if v not in (None, ""))


@routes.get("/audit", name="audit")
@allow("admin")
async def audit_log(request: web.Request) -> web.Response:
    c = console(request)
    page = max(int(request.query["page"]), 1) if request.query.get("page", "").isdigit() else 1
    action = request.query.get("action") or None
    policies = {p.id: t("console.policy_name", region=p.region.name, year=p.insurance_year)
                for p in c.registry.policies}
    async with c.sessions() as session:
        entries = await recent_audit(session, limit=PAGE + 1, offset=(page - 1) * PAGE, action=action)
        users = await list_users(session)
    return aiohttp_jinja2.render_template("audit.html", request, {
        "entries": entries[:PAGE], "more": len(entries) > PAGE, "page": page, "action": action or "",
        "actions": ACTIONS, "users": users, "roles": ROLES, "action_label": action_label,
        "detail_text": lambda detail: detail_text(detail, policies),
    })
