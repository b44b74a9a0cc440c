"""The console in headless Chromium: log in and out, refusals, the dashboard's figures against the
database, a township leader's 403, and the pages at a phone's 360 px."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect
from sqlalchemy import func, select

from bot.keys import SESSIONS
from bot.store import officials
from bot.store.models import Contact, OutboxMessage, Resident
from bot.store.progress import township_progress
from bot.store.signing import scene
from bot.wechat.simulate import Signer, event_xml, text_xml
from scheduler.planner import plan_job
from scheduler.timetable import find_job

from .browser import PHONE, login, screenshot
from .conftest import PASSWORDS, TODAY, Console
from .policy_files import BAD, lingchuan_2025_at
from .test_imports import BAD_ID, GOOD_ID, ROSTER

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def post_xml(console: Console, xml: str) -> str:
    """The webhook's passive reply to a message or event, signed as WeChat signs it (plain mode)."""
    signer = Signer(console.settings.wechat_token, console.settings.wechat_appid)
    params, body = signer.sign(xml)
    resp = await console.client.post("/wechat", params=params, data=body)
    assert resp.status == 200
    return signer.open_reply(await resp.text()) or ""


def base_of(console: Console) -> str:
    server: TestServer = console.client.server
    return str(server.make_url("")).rstrip("/")


async def test_login_dashboard_logout(console: Console, browser: Browser) -> None:
    base = base_of(console)
    page = await browser.new_page()
    await page.goto(f"{base}/console/")
    await expect(page).to_have_url(f"{base}/console/login?next=/console/")
    await screenshot(page, "login")
    await login(page, base, "admin", PASSWORDS["admin"])
    await expect(page.locator("h1")).to_have_text("陵川县 2025年度 征缴进度")
    async with console.app[SESSIONS]() as session:
        units = await township_progress(session, "陵川县", 2025, TODAY.date(), console.registry)
    await expect(page.locator("#total-paid")).to_have_text(f"{sum(u.paid for u in units):,}")
    for unit in units:
        row = page.locator(f"tr[data-unit='{unit.name}'] td.paid")
        await expect(row).to_have_text(f"{unit.paid:,}")
    await screenshot(page, "dashboard")
    await page.set_viewport_size(PHONE)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1  # nothing wider than the phone: tables scroll inside their panel
    await screenshot(page, "dashboard-phone")
    await page.click("text=退出")
    await expect(page).to_have_url(f"{base}/console/login")
    await page.goto(f"{base}/console/")
    await expect(page.locator("h1")).to_have_text("登录控制台")


async def test_wrong_password_and_missing_csrf_token(console: Console, browser: Browser) -> None:
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "admin", "not-the-password", ok=False)
    await expect(page.locator("[role=alert]")).to_have_text("用户名或密码不正确。")
    await page.goto(f"{base}/console/login")
    await page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    await page.fill("input[name=username]", "admin")
    await page.fill("input[name=password]", PASSWORDS["admin"])
    await page.click("main button[type=submit]")
    await expect(page.locator("h1")).to_contain_text("无权访问（403）")
    await page.goto(f"{base}/console/")
    await expect(page.locator("h1")).to_have_text("登录控制台")


async def test_township_leader_gets_403_on_another_township(console: Console, browser: Browser) -> None:
    base = base_of(console)
    page = await browser.new_page(viewport=PHONE)
    await login(page, base, "liyi", PASSWORDS["liyi"])
    await expect(page.locator("h1")).to_have_text("陵川县礼义镇 2025年度 征缴进度")
    await screenshot(page, "township-phone")
    response = await page.goto(f"{base}/console/township/陵川县/崇文镇")
    assert response is not None and response.status == 403
    await expect(page.locator(".error")).to_contain_text("只能查看陵川县礼义镇")


async def test_upload_with_a_bad_row_shows_the_errors_and_imports_nothing(console: Console, browser: Browser) -> None:
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "staff", PASSWORDS["staff"])
    async with console.app[SESSIONS]() as session:
        before = await session.scalar(select(func.count()).select_from(Resident))
    await page.goto(f"{base}/console/imports")
    await screenshot(page, "imports")
    bad = ROSTER.decode("utf-8-sig").replace(GOOD_ID, BAD_ID).encode("utf-8-sig")
    await page.select_option("select[name=kind]", "residents")
    await page.set_input_files("input[name=file]", files=[{"name": "名册.csv", "mimeType": "text/csv", "buffer": bad}])
    await page.click("main button[type=submit]")
    await expect(page.locator("#import-errors-summary")).to_contain_text("整份文件未导入", timeout=30_000)
    await expect(page.locator("#import-errors tr").nth(1)).to_contain_text("校验位不正确")
    await screenshot(page, "import-errors")
    async with console.app[SESSIONS]() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == before


async def test_publishing_a_policy_changes_the_answer(console: Console, browser: Browser) -> None:
    base = base_of(console)
    assert "400元" in await console.ask_webhook("陵川县交多少钱")
    page = await browser.new_page()
    await login(page, base, "admin", PASSWORDS["admin"])
    await page.goto(f"{base}/console/policy-upload")
    await page.set_input_files("input[name=file]", files=[{
        "name": "lingchuan-2026.yaml", "mimeType": "application/yaml", "buffer": BAD.encode()}])
    await page.click("main button[type=submit]")
    await expect(page.locator("#policy-errors")).to_contain_text("此文件有错误，未发布")
    await expect(page.locator("#policy-errors")).to_contain_text("insurance_year")
    await screenshot(page, "policy-errors")
    await page.goto(f"{base}/console/policy-upload")
    await page.set_input_files("input[name=file]", files=[{
        "name": "lingchuan-2025.yaml", "mimeType": "application/yaml", "buffer": lingchuan_2025_at(420).encode()}])
    await page.click("main button[type=submit]")
    await expect(page.locator("#policy-ok")).to_contain_text("校验通过")
    await screenshot(page, "policy-review")
    await page.click("main button:has-text(\"发布\")")
    await expect(page.locator("[role=status]")).to_contain_text("已发布（第1版）")
    await expect(page.locator("#policy-text")).to_contain_text("个人缴费标准：420元/人/年")
    answer = await console.ask_webhook("陵川县交多少钱")
    assert "420元" in answer and "400元" not in answer


async def test_other_pages_render(console: Console, browser: Browser) -> None:
    """The campaign, preview, outbox, unanswered and audit pages, for the README's screenshots too."""
    base = base_of(console)
    await console.ask_webhook("医保卡丢了怎么补办")
    page = await browser.new_page()
    await login(page, base, "admin", PASSWORDS["admin"])
    for path, name, heading in [
        ("/console/campaigns?region=陵川县", "campaigns", "陵川县 2025年度 提醒任务"),
        ("/console/campaigns/preview?job=lingchuan-2025:2024-11-25:reminder-1d", "campaign-preview", "预演"),
        ("/console/outbox", "outbox", "发件箱与发送记录"),
        ("/console/unanswered", "unanswered", "居民问了、机器人答不了的问题"),
        ("/console/policies", "policies", "政策文件"),
        ("/console/audit", "audit", "审计日志"),
    ]:
        response = await page.goto(base + path)
        assert response is not None and response.status == 200, path
        await expect(page.locator("h1")).to_contain_text(heading)
        await screenshot(page, name)


async def test_unanswered_page_shows_what_was_tried(console: Console, browser: Browser) -> None:
    base = base_of(console)
    await console.ask_webhook("我是陵川县的", openid="o-browser-tried")
    await console.ask_webhook("我身份证140524199001011234，医保的事咋整", openid="o-browser-tried")
    page = await browser.new_page()
    await login(page, base, "staff", PASSWORDS["staff"])
    await page.goto(f"{base}/console/unanswered")
    row = page.locator("#unanswered tr", has_text="医保的事咋整")
    await expect(row.locator("td.tried")).to_contain_text("猜测：交多少钱")
    await expect(row).not_to_contain_text("140524199001011234")


async def test_the_outbox_names_who_each_message_went_to(console: Console, browser: Browser) -> None:
    """Staff read the outbox by person: the official's name, township and role, or the resident a reminder was
    about (surname only) and their township; the openid only shortened, and a name finds its messages."""
    async with console.app[SESSIONS]() as db, db.begin():
        for job in ("lingchuan-2025:2024-11-25:digest", "lingchuan-2025:2024-11-25:reminder-1d"):
            await plan_job(db, console.registry, find_job(console.registry, console.settings, job), planned_at=TODAY)
    async with console.app[SESSIONS]() as db:
        digest = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "digest").limit(1))
        official = await db.scalar(select(Contact).where(Contact.openid == digest.openid, Contact.township != ""))
        reminder = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder").limit(1))
        resident = await db.get(Resident, reminder.resident_id)
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "staff", PASSWORDS["staff"])
    await page.goto(f"{base}/console/outbox")
    await page.fill("input[name=q]", official.name)
    await page.click("main button[type=submit]")
    row = page.locator("#outbox tr", has_text="乡镇征缴进度").first
    await expect(row.locator("td.recipient")).to_contain_text(
        f"{official.name}（{official.township} {official.role}）")
    await page.fill("input[name=q]", reminder.openid)
    await page.click("main button[type=submit]")
    cell = page.locator("#outbox td.recipient").first
    await expect(cell).to_contain_text(f"居民{resident.name[0]}")
    await expect(cell).to_contain_text(resident.township)
    text = await page.locator("#outbox").inner_text()
    assert resident.name not in text and reminder.openid not in text and official.openid not in text


async def test_the_campaigns_and_audit_pages_read_in_chinese(console: Console, browser: Browser) -> None:
    """A stage is named as staff know it (居民缴费状态通知（截止前1天）, not reminder-1d); every audit entry's
    action and details are in Chinese (no `county=`, `qrcode.create`, `None`, a Python dict or a raw openid)."""
    import re

    from bot.store import audit_log

    async with console.app[SESSIONS]() as db, db.begin():  # what `yibao qrcode` and a scan write
        await audit_log.record(db, "张敏", "qrcode.create", county="陵川县", township="崇文镇", role="分管领导",
                               expires="2024-12-20T09:59:45+08:00")
        await audit_log.record(db, "秦秀文", "contact.link", county="陵川县", township="礼义镇", role="分管领导",
                               openid="o-very-long-openid-of-an-official", known=False)
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "admin", PASSWORDS["admin"])
    await page.goto(f"{base}/console/campaigns?region=陵川县")
    stages = page.locator("#stages")
    await expect(stages).to_contain_text("居民缴费状态通知（截止前1天）")
    assert not re.search(r"[a-z]+-\dd|digest|escalation", await stages.inner_text())
    await stages.locator("tr", has_text="截止前1天").locator("button").click()
    await page.goto(f"{base}/console/audit")
    table = page.locator("#audit")
    await expect(table.locator("tr", has_text="暂停提醒")).to_contain_text("阶段：居民缴费状态通知（截止前1天）")
    await expect(table.locator("tr", has_text="生成干部登记二维码")).to_contain_text("乡镇：崇文镇")
    await expect(table.locator("tr", has_text="暂停提醒")).to_contain_text("政策：陵川县2025年度")
    await expect(table.locator("tr", has_text="干部扫码登记")).to_contain_text("原在联系人名单中：否")
    for row in await table.locator("tr").all():
        cells = await row.locator("td").all_inner_texts()
        if len(cells) == 4:
            assert not re.search(r"[a-z]+\.[a-z]+|[a-z_]+[=：]|None|\{", cells[2] + cells[3]), cells
            assert "o-very-long-openid-of-an-official" not in cells[3]


async def test_a_township_page_lists_its_contacts_and_who_has_registered(console: Console, browser: Browser) -> None:
    """Staff see on a township's page which of its officials receive the digests on WeChat (and which do not),
    never their phone numbers."""
    async with console.app[SESSIONS]() as db, db.begin():
        rows = list(await db.scalars(select(Contact).where(Contact.county == "陵川县", Contact.township == "礼义镇")))
        assert rows
        rows[0].openid = None  # one who has not registered
        shown = [(c.role, c.name, c.openid is not None, c.phone) for c in rows]
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "staff", PASSWORDS["staff"])
    await page.goto(f"{base}/console/")
    await page.click("a:text-is('礼义镇')")
    table = page.locator("#contacts")
    for role, name, linked, phone in shown:
        row = table.locator("tr", has_text=name)
        await expect(row).to_contain_text(role)
        await expect(row).to_contain_text("已登记，接收进度通知" if linked else "未登记，收不到进度通知")
        if phone:
            await expect(row).not_to_contain_text(phone)
    await expect(page.locator("main")).to_contain_text("yibao qrcode 礼义镇 --region 陵川县")

    # another WeChat account scans 礼义镇's code and replies the name of an official registered there: refused,
    # and the township's page says so
    _role, taken, _linked, _phone = next(row for row in shown if row[2])
    role_key = next(k for k, v in officials.ROLES.items() if v == _role)
    async with console.app[SESSIONS]() as db:
        unit = await officials.find_unit(db, "陵川县", "礼义镇")
    code = scene(console.settings.link_key, unit.id, role_key, TODAY + dt.timedelta(days=1))
    await post_xml(console, event_xml("o-another-phone", "SCAN", code))
    assert "已由另一个微信登记" in await post_xml(console, text_xml("o-another-phone", taken))
    await page.reload()
    await expect(page.locator("#refused-links")).to_contain_text(f"{_role}“{taken}”")


async def test_the_import_template_is_a_file_the_importer_takes(console: Console, browser: Browser) -> None:
    """The imports page lists each kind's columns and offers their header row as a file: filled in as it is,
    it imports (here: one official's row of a contacts file, downloaded, filled, uploaded)."""
    base = base_of(console)
    page = await browser.new_page()
    await login(page, base, "staff", PASSWORDS["staff"])
    await page.goto(f"{base}/console/imports")
    await expect(page.locator("main")).not_to_contain_text("docs/")
    row = page.locator("#import-columns tr", has_text="联系人")
    await expect(row).to_contain_text("角色、乡镇、姓名、手机号")
    async with page.expect_download() as info:
        await row.locator("a").click()
    template = Path(await (await info.value).path()).read_bytes().decode("utf-8-sig")
    header = template.strip().split(",")
    values = {"角色": "经办人", "乡镇": "礼义镇", "姓名": "柯新月", "手机号": "13800000199", "openid": ""}
    filled = (template.strip() + "\r\n" + ",".join(values[h] for h in header) + "\r\n").encode("utf-8-sig")
    await page.select_option("select[name=kind]", "contacts")
    await page.select_option("select[name=region]", "陵川县")
    await page.set_input_files("input[name=file]", files=[{"name": "联系人.csv", "mimeType": "text/csv",
                                                           "buffer": filled}])
    await page.click("main button[type=submit]")
    await expect(page.locator("main")).to_contain_text("导入完成", timeout=30_000)
    async with console.app[SESSIONS]() as db:
        assert await db.scalar(select(Contact.role).where(Contact.name == "柯新月")) == "经办人"
    await page.goto(f"{base}/console/imports")
    await expect(page.locator("#recent-imports")).to_contain_text("导入联系人 联系人.csv")


async def test_a_missing_page_is_said_in_chinese_with_the_way_back(console: Console, browser: Browser) -> None:
    """A mistyped address or a township that is not there: the console's own page (menu, 返回首页), never
    aiohttp's "404: Not Found" or a bare line of text."""
    base = base_of(console)
    page = await browser.new_page()
    response = await page.goto(f"{base}/console/no-such-page")
    assert response is not None and response.status == 404
    await expect(page.locator("h1")).to_have_text("找不到（404）")
    await login(page, base, "staff", PASSWORDS["staff"])
    for path, message in [("/console/no-such-page", "没有这个页面"),
                          ("/console/township/陵川县/不存在镇", "没有这个乡镇"),
                          ("/console/campaigns?region=上海", "没有地区“上海”")]:
        response = await page.goto(base + path)
        assert response is not None and response.status == 404, path
        await expect(page.locator("main")).to_contain_text(message)
        await expect(page.locator("main")).not_to_contain_text("Not Found")
        await expect(page.locator("header nav")).to_contain_text("进度")
        await page.click("text=返回首页")
        await expect(page.locator("h1")).to_contain_text("征缴进度")
