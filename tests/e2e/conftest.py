"""Browser tests: Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var" / "screenshots")
)

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are plain synchronous code, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    console_errors: list[str] = []

    def keep(message) -> None:
        # A 422 is how an invalid form comes back (htmx swaps it in); anything else counts.
        if message.type == "error" and "status of 422" not in message.text:
            console_errors.append(message.text)

    page.on("console", keep)
    page.console_errors = console_errors
    # Every Content-Security-Policy violation on any page of the journey, reported by the
    # browser itself (the pages stay under a strict CSP: no inline script or style).
    # Kept in sessionStorage, so that the violations of every page of the tab add up.
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => {"
        " const seen = JSON.parse(sessionStorage.getItem('csp') || '[]');"
        " seen.push(location.pathname + ': ' + e.violatedDirective + ' ' +"
        " (e.blockedURI || e.sample)); sessionStorage.setItem('csp', JSON.stringify(seen)); });"
    )
    page.csp_violations = lambda: page.evaluate("JSON.parse(sessionStorage.getItem('csp') || '[]')")
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/")


def sign_out(page) -> None:
    page.locator("details.usermenu summary").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/")
