"""Headless Chromium through Playwright (Python), on Debian's chromium package (no `playwright install`):
the console as a person sees it. Screenshots for the README are written only with YIBAO_SCREENSHOTS=1, so
a test run leaves the tree clean."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.async_api import Page

CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if Path(p).exists()),
                shutil.which("chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 360, "height": 740}


async def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/NAME.png, when YIBAO_SCREENSHOTS=1."""
    if os.environ.get("YIBAO_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def login(page: Page, base: str, username: str, password: str, *, ok: bool = True) -> None:
    """Log in through the form; with `ok`, wait until the console's home has opened."""
    await page.goto(f"{base}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("main button[type=submit]")
    if ok:
        await page.wait_for_url(lambda url: "/console/login" not in url)
    else:
        await page.wait_for_load_state()
