"""Logging in and out, refusals (wrong password, missing CSRF token, foreign Origin), throttling, expiry,
roles and townships: no page or form is usable without login, and a township account sees only its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from dataclasses import replace

from sqlalchemy import func, select

from bot.console.context import CONSOLE
from bot.keys import SESSIONS
from bot.store.models import AuditLog, LoginAttempt, utcnow
from bot.store.users import FAILURE_WINDOW, MAX_FAILURES_PER_USER, set_disabled, set_password

from .conftest import Console, csrf_of

SAMPLE_PARTS = {"county": "陵川县", "township": "礼义镇", "policy_id": "lingchuan-2025"}


async def test_login_then_logout(console: Console) -> None:
    assert await console.login("admin") == 303
    page = await console.client.get("/console/")
    assert page.status == 200
    html = await page.text()
    assert "陵川县 2025年度 征缴进度" in html and "admin（县局管理员）" in html
    cookie = page.cookies.get("yibao_console") or next(iter(console.client.session.cookie_jar))
    assert cookie is not None
    resp = await console.client.post("/console/logout", data={"csrf_token": csrf_of(html)}, allow_redirects=False)
    assert resp.status == 303
    after = await console.client.get("/console/", allow_redirects=False)
    assert after.status == 302 and after.headers["Location"].startswith("/console/login")


async def test_session_cookie_is_httponly_and_samesite(console: Console) -> None:
    page = await console.client.get("/console/login")
    header = page.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/console" in header
    assert "Secure" not in header  # plain http here; YIBAO_CONSOLE_HTTPS=1 adds it


async def test_wrong_password_is_refused_and_recorded(console: Console) -> None:
    assert await console.login("admin", "wrong-password") == 401
    assert (await console.client.get("/console/", allow_redirects=False)).status == 302
    async with console.app[SESSIONS]() as db:
        assert await db.scalar(select(func.count()).select_from(LoginAttempt)) == 1
        actions = list((await db.scalars(select(AuditLog.action))).all())
    assert "login.failed" in actions


async def test_failures_older_than_the_window_are_pruned(console: Console) -> None:
    """Login failures are kept only as long as they count: the table cannot grow without bound."""
    old = utcnow() - FAILURE_WINDOW - dt.timedelta(minutes=1)
    async with console.app[SESSIONS].begin() as db:
        db.add_all([LoginAttempt(username=f"u{i}", ip="10.0.0.9", created_at=old) for i in range(50)])
    assert await console.login("admin", "wrong-password") == 401
    async with console.app[SESSIONS]() as db:
        assert list((await db.scalars(select(LoginAttempt.username))).all()) == ["admin"]


async def test_unknown_user_is_refused_like_a_wrong_password(console: Console) -> None:
    assert await console.login("nobody", "whatever-pass") == 401


async def test_login_without_csrf_token_is_refused(console: Console) -> None:
    await console.client.get("/console/login")  # a session with a token exists, but the form omits it
    resp = await console.client.post("/console/login", data={"username": "admin", "password": "admin-pass-1"},
                                     allow_redirects=False)
    assert resp.status == 403
    assert "CSRF" in await resp.text()
    assert (await console.client.get("/console/", allow_redirects=False)).status == 302


async def test_foreign_origin_is_refused_even_with_the_token(console: Console) -> None:
    page = await console.client.get("/console/login")
    resp = await console.client.post("/console/login", headers={"Origin": "http://evil.example"}, data={
        "username": "admin", "password": "admin-pass-1", "csrf_token": csrf_of(await page.text())},
        allow_redirects=False)
    assert resp.status == 403


async def test_too_many_failures_lock_the_username_even_for_the_right_password(console: Console) -> None:
    for _ in range(MAX_FAILURES_PER_USER):
        assert await console.login("staff", "wrong-password") == 401
    assert await console.login("staff") == 401
    assert await console.login("admin") == 303  # another username is not locked


async def test_disabled_account_and_changed_password_end_sessions(console: Console) -> None:
    assert await console.login("staff") == 303
    assert (await console.client.get("/console/")).status == 200
    async with console.app[SESSIONS]() as db, db.begin():
        await set_password(db, "staff", "new-password-2")
    assert (await console.client.get("/console/", allow_redirects=False)).status == 302
    assert await console.login("staff", "new-password-2") == 303
    async with console.app[SESSIONS]() as db, db.begin():
        await set_disabled(db, "staff", True)
    assert (await console.client.get("/console/", allow_redirects=False)).status == 302
    assert await console.login("staff", "new-password-2") == 401


async def test_the_address_make_run_prints_opens_the_console(console: Console) -> None:
    """The banner and the README give /console without a slash: it leads to the login, then the console."""
    bare = await console.client.get("/console", allow_redirects=False)
    assert bare.status == 302 and bare.headers["Location"] == "/console/"
    assert await console.login("admin") == 303
    page = await console.client.get("/console")
    assert page.status == 200 and "征缴进度" in await page.text()


async def test_every_page_needs_login(console: Console) -> None:
    paths = [r.canonical for r in console.app.router.resources()]  # the parent app: /console is a sub-app
    sub = next(r.get_info()["app"] for r in console.app.router.resources() if "app" in r.get_info())
    for resource in sub.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter", "")
        if "login" in path:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARTS.get(m[1], "a" * 24), path)
        get = await console.client.get(url, allow_redirects=False)
        assert get.status in (302, 405), (url, get.status)
        post = await console.client.post(url, data={}, allow_redirects=False)
        assert post.status in (401, 403, 405), (url, post.status)
    assert "/wechat" in paths


async def test_township_leader_sees_only_its_township(console: Console) -> None:
    assert await console.login("liyi") == 303
    home = await console.client.get("/console/", allow_redirects=False)
    assert home.status == 302
    own = await console.client.get(home.headers["Location"])
    assert own.status == 200 and "陵川县礼义镇" in await own.text()
    other = await console.client.get("/console/township/陵川县/崇文镇")
    assert other.status == 403
    assert "礼义镇" in await other.text()
    typed = await console.client.get("/console/township/陵川县/礼义镇?region=罗山县")
    assert typed.status == 403
    county = await console.client.get("/console/?region=陵川县", allow_redirects=False)
    assert county.status == 302  # its dashboard is its township's


async def test_staff_may_open_any_township(console: Console) -> None:
    assert await console.login("staff") == 303
    assert (await console.client.get("/console/township/陵川县/崇文镇")).status == 200


async def test_an_idle_session_ends(console: Console) -> None:
    assert await console.login("staff") == 303
    sub = next(r.get_info()["app"] for r in console.app.router.resources() if "app" in r.get_info())
    sub[CONSOLE].settings = replace(sub[CONSOLE].settings, console_session_idle_s=0)
    await asyncio.sleep(0.05)
    assert (await console.client.get("/console/", allow_redirects=False)).status == 302


async def test_an_upload_is_not_read_before_login(console: Console) -> None:
    resp = await console.client.post("/console/imports", data={"kind": "residents", "file": io.BytesIO(b"x" * 1000)},
                                     allow_redirects=False)
    assert resp.status == 401
