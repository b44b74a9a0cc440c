"""Attacks on the console, each with what must hold: framing, caching and referrers of its pages, stored
markup in every text it shows, formulas in the files it lets staff download, another township's data, a
copied session cookie after logout, redirects after login, uploads with hostile names."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from .browser import login
from .conftest import PASSWORDS, Console, csrf_of
from .test_browser import base_of

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
