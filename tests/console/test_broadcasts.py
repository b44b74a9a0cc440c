"""/console/broadcasts in headless Chromium against the fake WeChat: a draft for a county's followers, its reach
counted before sending, the send refused without the confirmation, then sent once (a second click sends nothing
again), the batches and the audit entry; a township's draft only to that township; approval by another person."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect
from sqlalchemy import func, select

from bot.config import Settings
from bot.keys import SESSIONS
from bot.store.models import AuditLog, Follower
from bot.wechat.fake import FAKE, create_fake_app
from tests.conftest import HMAC_KEY

from .browser import PHONE, login, screenshot
from .conftest import PASSWORDS, SECRET, Console
from .test_browser import base_of

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
TEXT = "陵川县2025年度城乡居民医保每月1—25日可缴，本月截止11月25日。"


@pytest.fixture
async def fake(aiohttp_server) -> TestServer:
    base = Settings()
    return await aiohttp_server(create_fake_app(base.wechat_appid, base.wechat_secret))


@pytest.fixture
def approval() -> bool:
    return False


@pytest.fixture
def settings(database_url: str, fake: TestServer, approval: bool) -> Settings:
    """The console's settings (tests/console/conftest.py), its WeChat calls going to the fake."""
    return Settings(database_url=database_url, console_secret=SECRET, id_hmac_key=HMAC_KEY,
                    wechat_api_base=str(fake.make_url("")).rstrip("/"), broadcast_approval=approval)


async def followers(console: Console, township: str | None = None) -> int:
    async with console.app[SESSIONS]() as db:
        q = select(func.count()).select_from(Follower).where(Follower.county == "陵川县", Follower.subscribed)
        return await db.scalar(q.where(Follower.township == township) if township else q)


async def test_staff_draft_check_and_send_a_broadcast(console: Console, browser: Browser, fake: TestServer) -> None:
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "staff", PASSWORDS["staff"])
    await page.click("header nav >> text=群发")
    await expect(page.locator("h1")).to_have_text("群发")
    form = page.locator("#broadcast-new")
    await form.locator("select[name=region]").select_option("陵川县")
    await form.locator("input[name=title]").fill("缴费提醒")
    await form.locator("textarea[name=content]").fill(TEXT)
    await form.locator("button[type=submit]").click()
    n = await followers(console)
    assert n >= 2
    await expect(page.locator("#broadcast-reach")).to_contain_text(f"将发送给{n}人")
    await expect(page.locator("#broadcast-content")).to_have_text(TEXT)
    await screenshot(page, "broadcast-preview")
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    calls = fake.app[FAKE].calls
    await page.click("#broadcast-send button[type=submit]")  # not confirmed: nothing is sent
    await expect(page.locator("#broadcast-error")).to_contain_text("请先勾选")
    assert not [c for c in calls if c["endpoint"] == "message/mass/send"]
    await page.check("#broadcast-send input[name=confirm]")
    await page.click("#broadcast-send button[type=submit]")
    await expect(page.locator("[role=status]")).to_contain_text(f"已发送给{n}人")
    await expect(page.locator("#broadcast-status")).to_have_text("已发送")
    await expect(page.locator("#broadcast-send")).to_have_count(0)  # no second send
    (mass,) = [c for c in calls if c["endpoint"] == "message/mass/send"]
    assert len(mass["body"]["touser"]) == n and mass["body"]["text"]["content"] == TEXT
    await page.click("text=返回群发")
    await expect(page.locator("#broadcasts tr", has_text="缴费提醒")).to_contain_text("陵川县的关注者")
    async with console.app[SESSIONS]() as db:
        actions = list(await db.scalars(select(AuditLog.action).where(AuditLog.action.like("broadcast.%"))))
    assert actions == ["broadcast.create", "broadcast.send", "broadcast.sent"]


async def test_a_township_draft_reaches_only_that_township(console: Console, browser: Browser) -> None:
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "staff", PASSWORDS["staff"])
    await page.goto(f"{base}/console/broadcasts")
    form = page.locator("#broadcast-new")
    await form.locator("input[name=township]").fill("礼仪镇")  # not a township of 陵川县: refused with the list
    await form.locator("textarea[name=content]").fill(TEXT)
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#broadcast-error")).to_contain_text("陵川县没有“礼仪镇”")
    await expect(page.locator("#broadcast-error")).to_contain_text("礼义镇")
    form = page.locator("#broadcast-new")
    await form.locator("input[name=township]").fill("礼义")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#broadcast-reach")).to_contain_text("陵川县礼义镇的关注者")
    n = await followers(console, "礼义镇")
    await expect(page.locator("#broadcast-reach")).to_contain_text(
        f"将发送给{n}人" if n else "没有符合条件的关注者")


@pytest.mark.parametrize("approval", [True])
async def test_with_approval_the_author_cannot_approve_their_own(console: Console, browser: Browser) -> None:
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "staff", PASSWORDS["staff"])
    await page.goto(f"{base}/console/broadcasts")
    await page.locator("#broadcast-new textarea[name=content]").fill(TEXT)
    await page.locator("#broadcast-new button[type=submit]").click()
    await expect(page.locator("main")).to_contain_text("请另一位工作人员登录后审核")
    await expect(page.locator("#broadcast-send")).to_have_count(0)
    url = page.url
    other = await browser.new_page()
    await login(other, base, "admin", PASSWORDS["admin"])
    await other.goto(url)
    await other.click("text=审核通过")
    await expect(other.locator("[role=status]")).to_contain_text("已审核")
    await expect(other.locator("#broadcast-send")).to_have_count(1)


async def test_a_township_leader_cannot_broadcast(console: Console) -> None:
    assert await console.login("liyi") == 303
    assert (await console.client.get("/console/broadcasts")).status == 403
    token = await console.token("/console/")
    resp = await console.client.post("/console/broadcasts", data={"csrf_token": token, "region": "陵川县",
                                                                  "content": TEXT}, allow_redirects=False)
    assert resp.status == 403
