"""Browser tests: the portal served on 127.0.0.1 by a real WSGI server in a thread, and
Debian's headless Chromium driven through its ChromeDriver (`make test` installs both).
A screenshot of each page a test looks at is kept under test-results/."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import presence_of_element_located
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

RESULTS = Path(__file__).resolve().parents[2] / "test-results"


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


def sign_in(browser: webdriver.Chrome, base: str, email: str, password: str, secret: str) -> None:
    """As a person does: email and password, then the code from their authenticator app
    (waiting for the next code if this one was used already in the same 30 seconds)."""
    browser.get(f"{base}/sign-in")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    code = WebDriverWait(browser, 10).until(presence_of_element_located((By.NAME, "code")))
    code.send_keys(_unused_code(secret))
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    for _ in range(20):
        if "/sign-in" not in browser.current_url:
            return
        time.sleep(0.1)
    raise AssertionError(f"still at {browser.current_url}")
