"""In Chromium, with JavaScript and without: a school's DSL signs in with their
authenticator code, writes a referral page by page, attaches a file and sends it; the
LADO opens it, starts triage and decides it is a referral. axe-core checks every page on
the way against WCAG 2.2 A and AA, and each page is kept as a screenshot in
test-results/. The referral's pages are also drawn 320 pixels wide (400% zoom of a
1280-pixel screen) and must not scroll sideways."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from portal.extensions import db
from portal.models import Authority, Case, CaseStatus, Organisation
from tests.browser.conftest import RESULTS, screenshot, sign_in
from tests.referrals import journey
from tests.test_demo_and_cli import readme_accounts

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SECTIONS = (
    ("about-you", journey.ABOUT_YOU, "Save and continue"),
    ("person", journey.SUBJECT, "Save and continue"),
    ("children", journey.CHILDREN_INVOLVED, "Continue"),
    ("children/new", journey.CHILD, "Save child"),
    ("what-happened", journey.INCIDENT, "Save and continue"),
    ("actions", journey.ACTIONS, "Save and continue"),
)
DECISION = {
    "criteria": ["harmed_child"],
    "harm_category": "physical",
    "rationale": "A child was hurt: the harm threshold is met",
}


@pytest.fixture(params=["javascript", "no-javascript"])
def chromium(request: pytest.FixtureRequest) -> Iterator[webdriver.Chrome]:
    found, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not found or not driver:
        pytest.fail("Chromium and ChromeDriver are needed: `make test` installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = found
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,1000")
    if request.param == "no-javascript":
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.javascript = request.param == "javascript"  # type: ignore[attr-defined]
    yield browser
    browser.quit()


class Checked:
    """Each page looked at: screenshot, and (with JavaScript, which axe needs) axe-core's
    WCAG 2.2 A/AA violations."""

    def __init__(self, browser: webdriver.Chrome, prefix: str) -> None:
        self.browser = browser
        self.prefix = prefix
        self.violations: list[tuple[str, str, str]] = []
        self.pages = 0

    def page(self, name: str) -> None:
        self.pages += 1
        screenshot(self.browser, f"{self.prefix}-{self.pages:02d}-{name}")
        if not getattr(self.browser, "javascript", True):
            return
        self.browser.execute_script(AXE.read_text())
        found = self.browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(r.violations.map(v => [v.id, v.nodes[0].html.slice(0, 200)])));",
            WCAG_22_AA,
        )
        self.violations += [(self.browser.current_url, rule, html) for rule, html in found]


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


def press(browser: webdriver.Chrome, text: str) -> None:
    page = browser.find_element(By.TAG_NAME, "html")
    for attempt in range(3):
        buttons = [
            b
            for b in browser.find_elements(By.CSS_SELECTOR, "main button")
            if b.text.strip() == text
        ]
        assert buttons, f"no button {text!r} at {browser.current_url}"
        try:
            buttons[0].click()
            break
        except WebDriverException:  # Chromium still settling the page: find it again
            if staleness_of(page)(browser):
                break  # it went through after all: the next page is loading
            if attempt == 2:
                raise
            time.sleep(0.2)
    WebDriverWait(browser, 10).until(staleness_of(page))  # the next page has loaded


def follow(browser: webdriver.Chrome, text: str) -> None:
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.PARTIAL_LINK_TEXT, text).click()
    WebDriverWait(browser, 10).until(staleness_of(page))


def _account(role: str, email: str) -> tuple[str, str, str]:
    [(_, _, found, password, secret)] = [
        row for row in readme_accounts() if row[0] == role and row[2] == email
    ]
    return found, password, secret


def _fits_320(browser: webdriver.Chrome, url: str) -> None:
    browser.set_window_size(320, 900)
    browser.get(url)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    browser.set_window_size(1280, 1000)
    assert width <= 320, f"{url} is {width} pixels wide at 320"


def test_a_referral_is_written_sent_and_decided_in_the_browser(
    app: Flask, live_portal: str, chromium: webdriver.Chrome, tmp_path: Path
) -> None:
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        oakwood = db.session.scalars(
            select(Organisation.id).where(Organisation.name.like("Oakwood%"))
        ).one()
        brookfield = db.session.scalars(select(Authority.id).where(Authority.code == "BRK")).one()
    mode = "js" if chromium.javascript else "nojs"  # type: ignore[attr-defined]
    checked = Checked(chromium, f"referral-{mode}")
    statement = tmp_path / "statement.pdf"
    statement.write_bytes(journey.PDF)

    sign_in(chromium, live_portal, *_account("Partner member", "dsl@oakwood.example"))
    checked.page("home")
    chromium.get(f"{live_portal}/organisations/{oakwood}/referrals/new")
    checked.page("start")
    fill(chromium, {"authority": str(brookfield)})
    press(chromium, "Start")
    found = journey.CASE_URL.search(chromium.current_url)
    assert found, chromium.current_url
    case_url = f"{live_portal}{found.group(0)}"
    checked.page("task-list")
    for section, answers, button in SECTIONS:
        chromium.get(f"{case_url}/{section}")
        checked.page(section.replace("/", "-"))
        fill(chromium, answers)
        press(chromium, button)
        assert "There is a problem" not in chromium.page_source, (section, chromium.current_url)
    chromium.get(f"{case_url}/files")
    chromium.find_element(By.NAME, "file").send_keys(str(statement))
    press(chromium, "Upload file")
    assert "statement.pdf has been uploaded" in chromium.page_source
    checked.page("files")
    for section in ("person", "what-happened", "check"):
        _fits_320(chromium, f"{case_url}/{section}")
    chromium.get(f"{case_url}/check")
    checked.page("check")
    press(chromium, "Accept and send")
    checked.page("sent")
    with app.app_context():
        case = db.session.get_one(Case, journey.case_id_of(case_url))
        assert case.status == CaseStatus.SUBMITTED
        lado_case = f"{live_portal}/authorities/{case.authority_id}/cases/{case.id}"

    chromium.delete_all_cookies()
    sign_in(chromium, live_portal, *_account("LADO", "lado@brookfield.example"))
    chromium.get(lado_case)
    checked.page("lado-case")
    assert journey.SUBJECT["full_name"] in chromium.page_source
    follow(chromium, "Start triage")
    checked.page("start-triage")
    press(chromium, "Start triage")
    follow(chromium, "Accept as a referral")
    checked.page("decide")
    press(chromium, "Accept as a referral")  # nothing chosen: the page says what is missing
    assert "There is a problem" in chromium.page_source
    checked.page("decide-errors")
    fill(chromium, DECISION)
    press(chromium, "Accept as a referral")
    checked.page("decided")
    with app.app_context():
        assert db.session.get_one(Case, case.id).status == CaseStatus.REFERRAL
    assert checked.violations == [], checked.violations
    assert (RESULTS / f"referral-{mode}-01-home.png").exists()
