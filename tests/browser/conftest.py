"""Browser tests: the portal served on 127.0.0.1 by a real WSGI server in a thread, and
Debian's headless Chromium driven through its ChromeDriver (`make test` installs both).
A screenshot of each page a test looks at is kept under test-results/."""

from __future__ import annotations

import functools
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.expected_conditions import presence_of_element_located, staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from werkzeug.serving import make_server

from tests.test_demo_and_cli import readme_accounts

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def live_portal(make_app: Callable[..., Flask]) -> Iterator[str]:
    """The portal over the test database, over plain http as in development."""
    portal = make_app(session_cookie_secure=False, base_url="http://127.0.0.1")
    server = make_server("127.0.0.1", 0, portal, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def new_browser(*, javascript: bool = True) -> webdriver.Chrome:
    """Debian's Chromium, headless, 1280 pixels wide; ``browser.javascript`` says whether
    it runs scripts (axe needs them)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("Chromium and ChromeDriver are needed: `make test` installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,1000")
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.javascript = javascript  # type: ignore[attr-defined]
    return chrome


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chrome = new_browser()
    yield chrome
    chrome.quit()


def screenshot(browser: webdriver.Chrome, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(RESULTS / f"{name}.png"))


_LAST_STEP: dict[str, int] = {}


def _unused_code(secret: str) -> str:
    """The current code, once per 30 seconds per account: a code is good once, so a
    second sign-in by the same person waits for the next one, as they would."""
    totp = pyotp.TOTP(secret)
    while (step := totp.timecode(datetime.now(UTC))) == _LAST_STEP.get(secret):
        time.sleep(1)
    _LAST_STEP[secret] = step
    return str(totp.generate_otp(step))


def demo_account(email: str) -> tuple[str, str, str]:
    """A demo account from the README's table: its email, password and TOTP secret."""
    [(_, _, found, password, secret)] = [row for row in readme_accounts() if row[2] == email]
    return found, password, secret


def enter_password(browser: webdriver.Chrome, base: str, email: str, password: str) -> WebElement:
    """The first step of signing in: the security code page's box for the code."""
    browser.get(f"{base}/sign-in")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    return WebDriverWait(browser, 10).until(presence_of_element_located((By.NAME, "code")))


def sign_in(browser: webdriver.Chrome, base: str, email: str, password: str, secret: str) -> None:
    """As a person does: email and password, then the code from their authenticator app
    (waiting for the next code if this one was used already in the same 30 seconds)."""
    code = enter_password(browser, base, email, password)
    code.send_keys(_unused_code(secret))
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    for _ in range(20):
        if "/sign-in" not in browser.current_url:
            return
        time.sleep(0.1)
    raise AssertionError(f"still at {browser.current_url}")


class Checked:
    """Each page looked at: a screenshot; drawn 320 pixels wide, and in a 1280-pixel
    window with a scroll bar, where it must not scroll sideways; and (with JavaScript,
    which axe needs) axe-core's WCAG 2.2 A/AA violations. ``problems`` lists what was
    found."""

    def __init__(self, browser: webdriver.Chrome, prefix: str) -> None:
        self.browser = browser
        self.prefix = prefix
        self.violations: list[tuple[str, str, str]] = []
        self.too_wide: list[tuple[str, int, list[str]]] = []
        self.pages = 0

    @property
    def problems(self) -> list[tuple[str, str, str] | tuple[str, int, list[str]]]:
        return [*self.violations, *self.too_wide]

    def page(self, name: str) -> None:
        self.pages += 1
        shown = f"{self.prefix}-{self.pages:02d}-{name}"
        screenshot(self.browser, shown)
        # 320 wide is 400% zoom of a 1280-pixel screen, where the page may use the whole
        # window. 1280 by 400 needs a vertical scroll bar, and a page wider than the
        # space beside it scrolls sideways on every desktop.
        for (window_width, window_height), room in (((320, 900), 320), ((1280, 400), None)):
            too_wide = scrolls_sideways(
                self.browser, window_width, window_height, room, f"{shown}-{window_width}"
            )
            if too_wide:
                self.too_wide.append((self.browser.current_url, *too_wide))
        if not getattr(self.browser, "javascript", True):
            return
        self.browser.execute_script(_axe_source())
        found = self.browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(r.violations.map(v => [v.id, v.nodes[0].html.slice(0, 200)])));",
            WCAG_22_AA,
        )
        self.violations += [(self.browser.current_url, rule, html) for rule, html in found]


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def scrolls_sideways(
    browser: webdriver.Chrome, width: int, height: int, room: int | None, name: str
) -> tuple[int, list[str]] | None:
    """Nothing if the page, drawn in a ``width`` by ``height`` window, fits in ``room``
    pixels (None: the space beside the scroll bar). Otherwise how wide it is drawn and
    the innermost elements that stick out, outside the boxes that scroll on purpose,
    which say what to fix; a screenshot ``name`` shows it."""
    browser.set_window_size(width, height)
    try:
        drawn = int(browser.execute_script("return document.documentElement.scrollWidth"))
        if room is None:
            room = int(browser.execute_script("return document.documentElement.clientWidth"))
        if drawn <= room:
            return None
        screenshot(browser, name)
        return drawn, _sticking_out(browser) or ["(the page itself)"]
    finally:
        browser.set_window_size(1280, 1000)


def _sticking_out(browser: webdriver.Chrome) -> list[str]:
    """The innermost elements that stick out past the window's edge, outside the boxes
    that scroll on purpose: what to fix."""
    return list(
        browser.execute_script(
            "const edge = document.documentElement.clientWidth + 1;"
            "return Array.from(document.body.querySelectorAll('*'))"
            ".filter(e => e.getBoundingClientRect().right > edge"
            " && !e.closest('.portal-table-scroll'))"
            ".slice(-3).map(e => e.outerHTML.slice(0, 160));"
        )
    )


def fill(browser: webdriver.Chrome, answers: dict[str, Any]) -> None:
    """Answer a page's questions as a person does: typing, choosing, ticking."""
    for name, value in answers.items():
        fields = browser.find_elements(By.NAME, name)
        assert fields, f"no field {name} at {browser.current_url}"
        first = fields[0]
        kind = first.get_attribute("type")
        if first.tag_name == "select":
            Select(first).select_by_value(value)
        elif kind in ("radio", "checkbox"):
            wanted = value if isinstance(value, list) else [value]
            for field in fields:
                if (field.get_attribute("value") in wanted) != field.is_selected():
                    browser.find_element(
                        By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']"
                    ).click()
        elif isinstance(value, list):  # a date: day, month, year
            for field, part in zip(fields, value, strict=True):
                field.clear()
                field.send_keys(part)
        elif kind != "hidden":
            first.clear()
            if value:
                first.send_keys(value)


def _click_through(
    browser: webdriver.Chrome, find: Callable[[], list[WebElement]], what: str
) -> None:
    """Click the first element ``find`` gives and wait for the next page. Chromium may
    still be settling the page (an element found a moment ago is gone): find it again."""
    page = browser.find_element(By.TAG_NAME, "html")
    for attempt in range(3):
        found = find()
        assert found, f"no {what} at {browser.current_url}"
        try:
            found[0].click()
            break
        except WebDriverException:
            if staleness_of(page)(browser):
                break  # it went through after all: the next page is loading
            if attempt == 2:
                raise
            time.sleep(0.2)
    WebDriverWait(browser, 10).until(staleness_of(page))  # the next page has loaded


def press(browser: webdriver.Chrome, text: str) -> None:
    def buttons() -> list[WebElement]:
        found = browser.find_elements(By.CSS_SELECTOR, "main button")
        return [button for button in found if button.text.strip() == text]

    _click_through(browser, buttons, f"button {text!r}")


def follow(browser: webdriver.Chrome, text: str) -> None:
    _click_through(
        browser, lambda: browser.find_elements(By.PARTIAL_LINK_TEXT, text), f"link {text!r}"
    )
