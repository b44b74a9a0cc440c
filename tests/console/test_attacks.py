"""Attacks on the console, each with what must hold: framing, caching and referrers of its pages, stored
markup in every text it shows, formulas in the files it lets staff download, another township's data, a
copied session cookie after logout, redirects after login, uploads with hostile names."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Settings
from bot.console.imports import WORK_DIR
from bot.keys import SESSIONS
from bot.store.models import Base, Broadcast, Contact

from .browser import login
from .conftest import PASSWORDS, Console, csrf_of, fixed_clock
from .test_browser import base_of
from .test_imports import ROSTER, finished, upload

PAGES = ["/console/", "/console/township/陵川县/礼义镇", "/console/imports", "/console/policies",
         "/console/campaigns", "/console/outbox", "/console/broadcasts", "/console/unanswered", "/console/audit",
         "/console/no-such-page"]


def assert_locked_down(headers, path: str) -> None:
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, (path, csp)  # no clickjacking
    assert "default-src 'none'" in csp and "form-action '" in csp and "base-uri 'none'" in csp, (path, csp)
    assert "unsafe-inline" not in csp.split("script-src", 1)[-1].split(";")[0], (path, csp)
    assert headers.get("X-Frame-Options") == "DENY", path
    assert headers.get("Referrer-Policy") in ("no-referrer", "same-origin"), path
    assert "no-store" in headers.get("Cache-Control", ""), path  # personal data: never kept by a cache


async def test_every_console_page_forbids_framing_caching_and_foreign_scripts(console: Console) -> None:
    login = await console.client.get("/console/login")
    assert_locked_down(login.headers, "/console/login")
    assert await console.login("admin") == 303
    for path in PAGES:
        resp = await console.client.get(path)
        assert_locked_down(resp.headers, path)
    errors = await console.client.get("/console/import-templates/residents.csv")
    assert "no-store" in errors.headers.get("Cache-Control", "")


async def test_the_signed_township_page_cannot_be_framed_or_leak_its_link(console: Console) -> None:
    resp = await console.client.get("/township?c=x&t=y&y=2025&e=1&s=bad")
    assert resp.status == 403
    assert_locked_down(resp.headers, "/township")
    assert resp.headers["Referrer-Policy"] == "no-referrer"  # its query string is the password


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_policy_lets_the_console_work_in_a_browser(console: Console, browser: Browser) -> None:
    """Under its Content-Security-Policy every page renders without a violation, and a filter's select still
    submits its form when changed (its one inline handler is allowed by hash)."""
    base = base_of(console)
    page = await browser.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    await login(page, base, "admin", PASSWORDS["admin"])
    for path in PAGES[:-1]:
        response = await page.goto(base + path)
        assert response is not None and response.status == 200, path
    await page.goto(f"{base}/console/unanswered")
    async with page.expect_navigation():
        await page.select_option("select[name=days]", "7")
    assert "days=7" in page.url
    assert violations == []


async def test_a_cookie_copied_before_logout_no_longer_opens_the_console(console: Console) -> None:
    """The session is a cookie the server does not keep: logging out must still end it, also for a copy an
    attacker took (a shared computer, a proxy's log), and a login's session is new (no fixation)."""
    await console.client.get("/console/login")
    before = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/console/"))["yibao_console"]
    assert await console.login("staff") == 303
    stolen = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/console/"))["yibao_console"]
    assert stolen.value != before.value
    page = await console.client.get("/console/")
    assert page.status == 200
    resp = await console.client.post("/console/logout", data={"csrf_token": csrf_of(await page.text())},
                                     allow_redirects=False)
    assert resp.status == 303
    console.client.session.cookie_jar.update_cookies({"yibao_console": stolen.value},
                                                     console.client.make_url("/console/"))
    replayed = await console.client.get("/console/", allow_redirects=False)
    assert replayed.status == 302 and replayed.headers["Location"].startswith("/console/login")
    assert await console.login("staff") == 303  # a new login works
    assert (await console.client.get("/console/", allow_redirects=False)).status == 200


MARKUP = '<img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example","点此")'


async def test_stored_markup_is_shown_as_text_everywhere(console: Console) -> None:
    """Markup in everything the console shows from outside or from staff: a broadcast's title and text, an
    official's name, a resident's unanswered message, a roster's names and villages and its file's name, a
    policy file's text and name. Each page quotes it as text; the error report neutralises formulas."""
    async with console.app[SESSIONS].begin() as db:
        db.add(Contact(role="分管领导", county="陵川县", township="礼义镇", name=MARKUP[:60]))
    await console.ask_webhook(f"{MARKUP} 怎么办")
    assert await console.login("admin") == 303
    token = await console.token("/console/broadcasts")
    resp = await console.client.post("/console/broadcasts", data={
        "csrf_token": token, "region": "陵川县", "title": MARKUP, "content": f"{MARKUP}\n{FORMULA}"},
        allow_redirects=False)
    assert resp.status == 303
    broadcast = resp.headers["Location"]
    bad = ROSTER.decode("utf-8-sig").replace("汪福春", FORMULA).replace("河东村", MARKUP).encode("utf-8-sig")
    job = await upload(console, bad, name=f"{MARKUP}.csv")
    assert job.status == 303
    report = await finished(console, job.headers["Location"])
    policy = await console.client.post("/console/policy-upload", data={
        "csrf_token": token, "filename": f"{MARKUP}.yaml", "text": f"region: {MARKUP}\n"})
    pages = [report, await policy.text()]
    for path in ["/console/township/陵川县/礼义镇", "/console/broadcasts", broadcast, "/console/unanswered",
                 "/console/imports", "/console/audit"]:
        resp = await console.client.get(path)
        assert resp.status == 200, path
        pages.append(await resp.text())
    for html in pages:
        assert MARKUP not in html and "<img" not in html
    assert sum("&lt;img src=x onerror=alert(1)&gt;" in html for html in pages) >= 6
    errors = await console.client.get(job.headers["Location"] + "/errors.csv")
    assert errors.status == 200
    assert "HYPERLINK" in await errors.text()  # quoted, as a text
    for row in csv.reader(io.StringIO((await errors.text()).lstrip("\ufeff"))):
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", cell


def console_routes(console: Console) -> list[tuple[str, str, str]]:
    """(method, url, route name) of every console route, ids and tokens filled in with plausible values."""
    sub = next(r.get_info()["app"] for r in console.app.router.resources() if "app" in r.get_info())
    out = []
    for resource in sub.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter", "")
        url = re.sub(r"\{(\w+)\}", lambda m: {"county": "陵川县", "township": "崇文镇", "policy_id": "lingchuan-2025",
                                                "id": "1", "kind": "residents"}.get(m[1], "a" * 24), path)
        for route in resource:
            if route.method != "HEAD":
                out.append((route.method, url, resource.name or path))
    return out


async def test_a_township_leader_reaches_nothing_but_its_own_township(console: Console) -> None:
    """Every route but home, its own township's page and logout is refused to a 乡镇负责人, whatever the ids or
    parameters say; another township by path, by query or by the county's other name is 403 too."""
    assert await console.login("liyi") == 303
    token = await console.token("/console/township/陵川县/礼义镇")
    for method, url, name in console_routes(console):
        if name in ("login", "/console/login", "logout", "home") or (name == "township" and method == "GET"):
            continue
        resp = await console.client.request(method, url, data={"csrf_token": token}, allow_redirects=False)
        assert resp.status == 403, (method, url, resp.status)
    for url in ["/console/township/陵川县/崇文镇", "/console/township/陵川/崇文镇", "/console/township/陵川/礼义镇",
                "/console/township/陵川县/礼义镇?township=崇文镇", "/console/township/陵川县/礼义镇?county=罗山县",
                "/console/township/陵川县/%E5%B4%87%E6%96%87%E9%95%87"]:
        resp = await console.client.get(url, allow_redirects=False)
        assert resp.status == 403, url
        assert "崇文镇" not in await resp.text() or "只能查看" in await resp.text()


async def test_staff_cannot_use_what_is_for_admins(console: Console) -> None:
    assert await console.login("staff") == 303
    token = await console.token()
    for method, url in [("GET", "/console/audit"), ("POST", "/console/policy-publish")]:
        resp = await console.client.request(method, url, data={"csrf_token": token, "filename": "x.yaml",
                                                               "text": "x"}, allow_redirects=False)
        assert resp.status == 403, url


async def test_login_never_sends_anyone_to_another_site(console: Console) -> None:
    for target in ["//evil.example/", "https://evil.example/", "/\\evil.example", "/console/\r\nSet-Cookie: x=1",
                   "/console/%0d%0aSet-Cookie:%20x=1", "javascript:alert(1)", "/console\\..\\\\evil.example",
                   "/console/@evil.example", "\t//evil.example"]:
        await console.client.post("/console/logout", data={"csrf_token": await console.token("/console/login")})
        page = await console.client.get("/console/login", params={"next": target})
        assert page.status == 200
        resp = await console.client.post("/console/login", data={
            "username": "staff", "password": PASSWORDS["staff"], "csrf_token": csrf_of(await page.text()),
            "next": target}, allow_redirects=False)
        assert resp.status == 303, target
        location = resp.headers["Location"]
        assert location.startswith("/console/") and not location.startswith("//"), (target, location)
        assert "\r" not in location and "\n" not in location and "Set-Cookie" not in resp.headers.getall(
            "Set-Cookie", [""])[0].split(";")[0]


async def test_no_get_changes_anything(console: Console) -> None:
    """Every GET route is safe: after opening all of them (as an admin) the database is as it was, but for the
    audit log's own reading."""
    assert await console.login("admin") == 303
    async with console.app[SESSIONS]() as db:
        before = {t.name: await db.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
    for method, url, _ in console_routes(console):
        if method == "GET":
            await console.client.get(url, allow_redirects=False)
    async with console.app[SESSIONS]() as db:
        after = {t.name: await db.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
    assert after == before


async def test_an_upload_s_name_cannot_leave_its_folder_nor_pass_for_another_type(console: Console) -> None:
    assert await console.login("staff") == 303
    for name in ["../../../escape.csv", "..%2F..%2F..%2Fescape.csv", "..\\..\\escape.csv", "/tmp/escape.csv"]:
        resp = await upload(console, ROSTER, name=name)
        assert resp.status == 303, name
        await finished(console, resp.headers["Location"])
    for folder in (Path("."), Path("var"), Path("var/console"), WORK_DIR, Path("/tmp")):
        assert not (folder / "escape.csv").exists(), folder
    for name in ["名册.exe", "名册.csv.html", "名册", ".htaccess"]:
        resp = await upload(console, ROSTER, name=name)
        assert resp.status == 422, name


async def test_behind_https_the_cookie_is_secure_and_the_proxy_s_scheme_counts(
        aiohttp_client, settings: Settings, registry) -> None:
    app = create_app(replace(settings, console_https=True), registry=registry, clock=fixed_clock, scheduler=False)
    client = await aiohttp_client(app)
    page = await client.get("/console/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"] and "HttpOnly" in page.headers["Set-Cookie"]
    token = csrf_of(await page.text())
    plain = await client.post("/console/login", headers={"Origin": f"http://{client.host}:{client.port}",
                                                         "X-Forwarded-Proto": "https"},
                              data={"username": "x", "password": "y", "csrf_token": token})
    assert plain.status == 403  # an http:// page of the same host is another origin than the https:// site


async def test_a_broadcast_cannot_carry_an_id_number(console: Console) -> None:
    """A mass message goes to every follower and stays in the database: an ID number typed into its title or
    text (however written: spaced, full-width) is refused, not stored, and not shown back in clear."""
    assert await console.login("staff") == 303
    for title, content in [("", "请140524194710061498本人到村委会领取医保卡"), ("140524194710061498", "请到村委会"),
                           ("", "请１４０５２４ １９４７１００６ １４９８本人领取")]:
        resp = await console.client.post("/console/broadcasts", data={
            "csrf_token": await console.token("/console/broadcasts"), "region": "陵川县", "title": title,
            "content": content}, allow_redirects=False)
        assert resp.status == 422, content
        html = await resp.text()
        assert "身份证号" in html and "19471006" not in html and "１９４７１００６" not in html
    async with console.app[SESSIONS]() as db:
        assert await db.scalar(select(func.count()).select_from(Broadcast)) == 0
