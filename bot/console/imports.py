"""/console/imports: a roster uploaded and imported by the importers of bot/store/imports.py, with their
atomicity (a file with any bad row imports nothing): progress while it runs, the row errors shown and
downloadable, an audit entry.

The import runs in a thread of its own, on its own event loop and database connection, so the console and
the webhook keep answering while it checks a large file. Its upload, progress and error report live in a
folder under var/console/imports/, so any worker of `yibao serve --workers N` on this machine shows them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot.catalogue import section, t
from bot.console.admin import action_label
from bot.console.context import BUREAU, Console, account, allow, console
from bot.console.dashboard import busiest_region
from bot.store.db import make_engine
from bot.store.imports import KINDS, ImportRefused, headers, import_file
from bot.store.models import AuditLog

routes = web.RouteTableDef()
WORK_DIR = Path("var") / "console" / "imports"
KIND_NAMES: dict[str, str] = dict(section("console.import_kinds"))
SHOWN_ERRORS = 200
KEPT_S = 7 * 24 * 3600  # an import's page and error report stay this long
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")


def _job_dir(token: str) -> Path:
    if not TOKEN.fullmatch(token):
        raise web.HTTPNotFound(text=t("console.no_import"))
    folder = WORK_DIR / token
    if not (folder / "state.json").is_file():
        raise web.HTTPNotFound(text=t("console.no_import"))
    return folder


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(folder / "state.json")


def _read_state(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "state.json").read_text(encoding="utf-8"))


def forget_old_imports(now: float | None = None) -> None:
    """Remove the folders of imports older than KEPT_S (their error reports with them)."""
    now = time.time() if now is None else now
    if WORK_DIR.is_dir():
        for folder in WORK_DIR.iterdir():
            if folder.is_dir() and now - folder.stat().st_mtime > KEPT_S:
                shutil.rmtree(folder, ignore_errors=True)


def _run(c: Console, folder: Path, state: dict[str, Any]) -> None:
    """The import, in its own thread and event loop; its state file says how far it is."""
    path = folder / state["file"]

    def progress(phase: str, done: int, total: int | None) -> None:
        _write_state(folder, {**state, "phase": phase, "done": done, "total": total})

    async def work() -> None:
        engine = make_engine(c.settings)
        try:
            result = await import_file(engine, c.registry, c.settings, state["kind"], path,
                                       region=state["region"], year=state["year"], today=c.today(),
                                       progress=progress, actor=state["actor"])
            if not result.ok:
                async with engine.begin() as conn:
                    await conn.execute(AuditLog.__table__.insert().values(
                        actor=state["actor"], action=f"import.{state['kind']}.refused",
                        detail={"file": state["file"], "region": result.region, "rows": result.rows,
                                "errors": result.errors}, created_at=c.clock()))
            report = {k: v for k, v in dataclasses.asdict(result).items() if k not in ("path", "error_sample")}
            report["errors_file"] = result.errors_path.name if result.errors_path else None
            report["sample"] = [dataclasses.asdict(e) for e in result.error_sample[:SHOWN_ERRORS]]
            _write_state(folder, {**state, "finished": True, "result": report})
        except ImportRefused as exc:
            _write_state(folder, {**state, "finished": True, "refused": str(exc)})
        except Exception as exc:  # shown to the user; the transaction was rolled back
            _write_state(folder, {**state, "finished": True, "refused": t("console.import_failed", error=exc)})
            raise
        finally:
            await engine.dispose()
            path.unlink(missing_ok=True)  # the roster itself is not kept

    asyncio.run(work())


@routes.get("/imports", name="imports")
@allow(*BUREAU)
async def import_form(request: web.Request) -> web.Response:
    return await _form(request)


async def _form(request: web.Request, *, error: str | None = None, chosen: str | None = None,
                status: int = 200) -> web.Response:
    """The upload form, its region the one chosen, else the one the progress page opens on (never merely the
    first of the list: a roster uploaded as the form opened went to whichever county sorted first)."""
    c = console(request)
    async with c.sessions() as session:
        recent = (await session.scalars(select(AuditLog).where(AuditLog.action.startswith("import."))
                                        .order_by(AuditLog.id.desc()).limit(20))).all()
        region = chosen or c.settings.default_region or await busiest_region(session)
    return aiohttp_jinja2.render_template("imports.html", request, {
        "kinds": KIND_NAMES, "regions": c.registry.regions(), "recent": recent, "error": error,
        "region": c.registry.region_name(region or "") or "",
        "headers": {k: headers(k) for k in KIND_NAMES}, "action_label": action_label}, status=status)


@routes.post("/imports")
@allow(*BUREAU)
async def start_import(request: web.Request) -> web.StreamResponse:
    c = console(request)
    form = await request.post()
    upload, kind = form.get("file"), str(form.get("kind", ""))
    region = str(form.get("region", "")) or None
    raw_year = str(form.get("year", "")).strip()
    error = None
    if kind not in KINDS:
        error = t("console.import_no_kind")
    elif not isinstance(upload, web.FileField) or not upload.filename:
        error = t("console.import_no_file")
    elif Path(upload.filename).suffix.lower() not in (".csv", ".xlsx"):
        error = t("console.import_bad_suffix")
    elif raw_year and not re.fullmatch(r"20\d\d", raw_year):
        error = t("console.import_bad_year")
    if error:
        return await _form(request, error=error, chosen=region, status=422)
    assert isinstance(upload, web.FileField)
    forget_old_imports()
    token = secrets.token_urlsafe(18)
    folder = WORK_DIR / token
    folder.mkdir(parents=True)
    # (some clients send the name percent-encoded; browsers send it as UTF-8)
    name = re.sub(r"[^\w.\-]", "_", Path(unquote(upload.filename)).name)[-100:]
    with (folder / name).open("wb") as out:
        shutil.copyfileobj(upload.file, out)
    state = {"kind": kind, "region": region, "year": int(raw_year) if raw_year else None, "file": name,
             "actor": account(request).username, "phase": t("import.phases.queued"), "done": 0, "total": None,
             "finished": False, "refused": None}
    _write_state(folder, state)
    threading.Thread(target=_run, args=(c, folder, state), name=f"import-{token[:6]}", daemon=True).start()
    raise web.HTTPSeeOther(request.app.router["import_job"].url_for(token=token))


@routes.get("/imports/{token}", name="import_job")
@allow(*BUREAU)
async def import_job(request: web.Request) -> web.Response:
    folder = _job_dir(request.match_info["token"])
    state = _read_state(folder)
    total, done = state.get("total"), state.get("done", 0)
    percent = round(100 * done / total) if total else None
    return aiohttp_jinja2.render_template("import_job.html", request, {
        "state": state, "kinds": KIND_NAMES, "percent": percent, "token": request.match_info["token"]})


@routes.get("/import-templates/{kind}.csv", name="import_template")
@allow(*BUREAU)
async def import_template(request: web.Request) -> web.Response:
    """An empty file with the header row of a kind, for staff to fill in (UTF-8 with BOM: Excel opens it)."""
    kind = request.match_info["kind"]
    if kind not in KINDS:
        raise web.HTTPNotFound(text=t("console.import_no_kind"))
    return web.Response(body=("\ufeff" + ",".join(headers(kind)) + "\r\n").encode(), headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f"attachment; filename*=UTF-8''{kind}-template.csv"})


@routes.get("/imports/{token}/errors.csv", name="import_errors")
@allow(*BUREAU)
async def import_errors(request: web.Request) -> web.StreamResponse:
    folder = _job_dir(request.match_info["token"])
    name = (_read_state(folder).get("result") or {}).get("errors_file")
    if not name or not (folder / name).is_file():
        raise web.HTTPNotFound(text=t("console.no_error_report"))
    return web.FileResponse(folder / name, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": "attachment; filename*=UTF-8''import-errors.csv"})
