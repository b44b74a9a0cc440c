"""/console/policies: the policies in force, each shown with its sources (as `yibao policy show`); a new
YAML file uploaded -> its validation report -> a diff against the region's previous year -> published.

Publishing stores the file's text in the database in one transaction (bot/store/published.py); every
process answers with it within about a second, with no restart. A file with errors is refused with them
and changes nothing. The review page carries the uploaded text back in a hidden field; the publish step
checks it again from scratch, so what is published is exactly what was reviewed and validated.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot.catalogue import t
from bot.console.context import BUREAU, account, allow, console
from bot.rules.loader import PolicyError, PolicyRegistry, load_policy_text, with_policies
from bot.rules.problems import say
from bot.rules.schema import Policy
from bot.rules.show import render_policy
from bot.rules.validate import Finding, check_registry
from bot.store.models import PublishedPolicy
from bot.store.published import publish
from bot.store.regions import load_targets

routes = web.RouteTableDef()
MAX_POLICY_BYTES = 1024 * 1024
POLICY_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass
class Review:
    """What validating an uploaded file found."""

    filename: str
    text: str
    errors: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    policy: Policy | None = None
    registry: PolicyRegistry | None = None  # the registry once it is published
    previous: Policy | None = None  # the policy it is compared with
    diff: list[tuple[str, str]] = field(default_factory=list)  # (kind: same|add|del|head, line)

    @property
    def ok(self) -> bool:
        return not self.errors and self.policy is not None


def review(current: PolicyRegistry, filename: str, text: str) -> Review:
    """Validate `text` as the policy file `filename` on top of the registry in force."""
    out = Review(filename, text)
    stem = Path(filename).stem
    if Path(filename).suffix not in (".yaml", ".yml") or not POLICY_NAME.fullmatch(stem):
        out.errors.append(say("loader.file_name"))
        return out
    path = Path(f"{stem}.yaml")
    try:
        policy = load_policy_text(text, path)
        registry = with_policies(current, [(policy, path)])
    except PolicyError as exc:
        out.errors.extend(f"{key or say('loader.file')}：{message}" for key, message in exc.problems)
        return out
    findings = [f for f in check_registry(registry) if f.file == str(path)]
    out.errors.extend(f"{f.where}：{f.message}" for f in findings if f.level == "error")
    out.warnings = [f for f in findings if f.level == "warning"]
    out.policy, out.registry = policy, registry
    out.previous = current.get(policy.region.name, policy.insurance_year) or next(
        (p for p in reversed(current.for_region(policy.region.name)) if p.insurance_year < policy.insurance_year),
        None)
    out.diff = diff(out.previous, policy)
    return out


def diff(old: Policy | None, new: Policy) -> list[tuple[str, str]]:
    """The rendered rules (with sources) line by line: what the new file changes."""
    new_lines = render_policy(new).splitlines()
    if old is None:
        return [("add", line) for line in new_lines]
    kinds = {" ": "same", "+": "add", "-": "del", "@": "head"}
    return [(kinds[line[0]], line[1:]) for line in difflib.unified_diff(
        render_policy(old).splitlines(), new_lines, lineterm="", n=2)][2:]


async def _publications(request: web.Request) -> dict[str, PublishedPolicy]:
    async with console(request).sessions() as session:
        rows = (await session.scalars(select(PublishedPolicy).order_by(PublishedPolicy.version))).all()
    return {row.policy_id: row for row in rows}


@routes.get("/policies", name="policies")
@allow(*BUREAU)
async def policy_list(request: web.Request) -> web.Response:
    c = console(request)
    published = await _publications(request)
    policies = sorted(c.registry.policies, key=lambda p: (p.region.name, p.insurance_year))
    return aiohttp_jinja2.render_template("policies.html", request, {
        "policies": policies, "published": published, "version": c.policies.version})


@routes.get("/policies/{policy_id}", name="policy")
@allow(*BUREAU)
async def policy_show(request: web.Request) -> web.Response:
    c = console(request)
    policy = next((p for p in c.registry.policies if p.id == request.match_info["policy_id"]), None)
    if policy is None:
        raise web.HTTPNotFound(text=t("console.no_policy"))
    findings = [f for f in check_registry(c.registry) if f.file == str(c.registry.paths.get(policy.id))]
    published = (await _publications(request)).get(policy.id)
    return aiohttp_jinja2.render_template("policy.html", request, {
        "policy": policy, "text": render_policy(policy), "findings": findings, "published": published,
        "notice": request.query.get("published")})


@routes.get("/policy-upload", name="policy_upload")
@allow(*BUREAU)
async def upload_form(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("policy_upload.html", request, {"review": None})


async def _uploaded(request: web.Request) -> tuple[str, str]:
    form = await request.post()
    upload = form.get("file")
    if isinstance(upload, web.FileField):
        raw = upload.file.read(MAX_POLICY_BYTES + 1)
        name = upload.filename or ""
    else:
        raw = str(form.get("text", "")).encode()
        name = str(form.get("filename", ""))
    if len(raw) > MAX_POLICY_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_POLICY_BYTES, actual_size=len(raw),
                                            text=say("loader.too_large", mib=MAX_POLICY_BYTES // (1024 * 1024)))
    try:
        return Path(name).name, raw.decode("utf-8")
    except UnicodeDecodeError:
        return Path(name).name, "\ufffd"  # refused below as not valid YAML of a policy


@routes.post("/policy-upload")
@allow(*BUREAU)
async def upload(request: web.Request) -> web.Response:
    filename, text = await _uploaded(request)
    result = review(console(request).registry, filename, text)
    status = 200 if result.ok else 422
    return aiohttp_jinja2.render_template("policy_upload.html", request, {"review": result}, status=status)


@routes.post("/policy-publish", name="policy_publish")
@allow("admin")
async def publish_policy(request: web.Request) -> web.StreamResponse:
    c = console(request)
    filename, text = await _uploaded(request)
    result = review(c.registry, filename, text)
    if not result.ok:
        return aiohttp_jinja2.render_template("policy_upload.html", request, {"review": result}, status=422)
    assert result.policy is not None and result.registry is not None
    async with c.sessions() as session, session.begin():
        version = await publish(session, result.policy, text, account(request).username)
        await load_targets(session, result.registry, result.policy.region.name)
    await c.policies.refresh(c.sessions)  # this worker at once; the others within a second
    location = request.app.router["policy"].url_for(policy_id=result.policy.id).with_query(published=str(version))
    raise web.HTTPSeeOther(location)
