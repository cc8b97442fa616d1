"""Helpers for the browser tests: Playwright driving Debian's chromium (by path; never `playwright install`).

    console = Console()
    with browser(console) as page:
        log_in(page, live_server.url, "alice")          # through the login form
        page.goto(f"{live_server.url}/threat/alerts/")
        screenshot(page, "alerts-security")             # var/screenshots/alerts-security.png
    console.assert_clean()                              # no console error, page error or CSP violation

Screenshots go to `screenshot_dir()`: `var/screenshots/` under the project root, or the folder named by
ONENET_SCREENSHOTS, so a reviewer can look at the pages the tests saw. Waits are on the page's content with
generous deadlines (the suite runs with both cores busy); nothing here is timed.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct-horse-battery"  # tests/conftest.py's make_user
TIMEOUT_MS = 60_000
ROOT = Path(__file__).resolve().parent.parent
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy")


class Console:
    """Every console message, page error and failed request of the pages a test opened, with the page's URL."""

    def __init__(self):
        self.entries: list[tuple[str, str, str]] = []

    def watch(self, page) -> None:
        page.on("console", lambda message: self.entries.append(
            (page.url, message.type, f"{message.text} [{(message.location or {}).get('url', '')}]")))
        page.on("pageerror", lambda error: self.entries.append((page.url, "pageerror", str(error))))
        page.on("requestfailed", lambda request: None if "ERR_ABORTED" in (request.failure or "") else
                self.entries.append((page.url, "requestfailed", f"{request.url}: {request.failure}")))

    def csp_violations(self) -> list:
        return [entry for entry in self.entries if any(word in entry[2] for word in CSP_WORDS)]

    def errors(self, url_part: str = "") -> list:
        return [entry for entry in self.entries
                if entry[1] in ("error", "pageerror", "requestfailed") and url_part in entry[0]]

    def assert_clean(self, url_part: str = "") -> None:
        assert not self.csp_violations(), self.csp_violations()
        assert not self.errors(url_part), self.errors(url_part)


@contextmanager
def browser(console: Console, locale: str = "zh-CN"):
    """One chromium page in a fresh context (no cookies), downloads accepted; `console` keeps what it reports."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = chromium.new_context(locale=locale, accept_downloads=True,
                                           viewport={"width": 1366, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            console.watch(page)
            yield page
        finally:
            chromium.close()


def log_in(page, base: str, username: str, password: str = PASSWORD) -> str:
    """Log in through the login form; returns the path the console sent the user to."""
    from urllib.parse import urlparse

    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("section.login button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.wait_for_load_state()
    return urlparse(page.url).path


def log_out(page) -> None:
    page.click("header .who form[action$='/logout/'] button")
    page.wait_for_load_state()


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("ONENET_SCREENSHOTS") or ROOT / "var" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, name: str) -> Path:
    """The whole page as `<name>.png` in the screenshot folder (a name says page and role: overview-manager)."""
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def in_a_thread(function, *args):
    """`function(*args)` in a thread of its own, with its own database connection, closed after: Playwright's sync
    API runs an event loop in the test's thread, where Django refuses database work."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def call():
        try:
            return function(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()
