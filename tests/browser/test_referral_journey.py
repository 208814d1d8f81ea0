"""In Chromium, with JavaScript and without: a school's DSL signs in with their
authenticator code, writes a referral page by page, attaches a file and sends it; the
LADO opens it, starts triage and decides it is a referral. axe-core checks every page on
the way against WCAG 2.2 A and AA, and each page is kept as a screenshot in
test-results/. The referral's pages are also drawn 320 pixels wide (400% zoom of a
1280-pixel screen) and must not scroll sideways."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from portal.extensions import db
from portal.models import Authority, Case, CaseStatus, Organisation, utcnow
from portal.workdays import uk_date
from tests.browser.conftest import RESULTS, new_browser, screenshot, sign_in
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
    browser = new_browser(javascript=request.param == "javascript")
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
    oakwood, brookfield = _demo_school_and_council(app)
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


def _tab_to(
    browser: webdriver.Chrome, wanted: Callable[[WebElement], bool], what: str
) -> WebElement:
    """Press Tab until the focused element is the one wanted (as a keyboard user moves)."""
    for _ in range(150):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if wanted(focused):
            return focused
    raise AssertionError(f"Tab never reached {what} at {browser.current_url}")


def _replace_text(browser: webdriver.Chrome, text: str) -> None:
    """Select what the focused box holds (Ctrl+A) and type over it."""
    keys = ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
    keys.send_keys(Keys.DELETE).send_keys(text).perform()


def keyboard_fill(browser: webdriver.Chrome, answers: dict[str, Any], button: str) -> None:
    """Answer a page with the keyboard alone: Tab to each question, type, or choose
    with the arrow keys (radios) and the space bar (checkboxes), then Enter on the
    button. Every control must be reachable in the tab order and work from the keys."""
    browser.execute_script("document.activeElement && document.activeElement.blur()")
    for name, value in answers.items():
        if value in ("", []):
            continue
        field = _tab_to(browser, lambda e, n=name: e.get_attribute("name") == n, name)
        kind = field.get_attribute("type")
        if kind == "radio":
            for _ in range(20):  # the arrow keys move the choice within the group
                if browser.switch_to.active_element.get_attribute("value") == value:
                    break
                ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
            active = browser.switch_to.active_element
            assert active.get_attribute("value") == value, (name, value)
            if not active.is_selected():
                ActionChains(browser).send_keys(Keys.SPACE).perform()
        elif kind == "checkbox":
            wanted = value if isinstance(value, list) else [value]
            for _ in range(len(browser.find_elements(By.NAME, name))):
                active = browser.switch_to.active_element
                if active.get_attribute("value") in wanted and not active.is_selected():
                    ActionChains(browser).send_keys(Keys.SPACE).perform()
                ActionChains(browser).send_keys(Keys.TAB).perform()
        elif isinstance(value, list):  # a date: day, then Tab to month and year
            for index, part in enumerate(value):
                if index:
                    ActionChains(browser).send_keys(Keys.TAB).perform()
                _replace_text(browser, part)
        else:
            _replace_text(browser, value)
    page = browser.find_element(By.TAG_NAME, "html")
    _tab_to(browser, lambda e: e.tag_name == "button" and e.text.strip() == button, button)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    WebDriverWait(browser, 10).until(staleness_of(page))


def test_the_referral_form_is_completed_with_the_keyboard_alone(
    app: Flask, live_portal: str, browser: webdriver.Chrome
) -> None:
    oakwood, brookfield = _demo_school_and_council(app)
    sign_in(browser, live_portal, *_account("Partner member", "dsl@oakwood.example"))
    browser.get(f"{live_portal}/organisations/{oakwood}/referrals/new")
    keyboard_fill(browser, {"authority": str(brookfield)}, "Start")
    found_url = journey.CASE_URL.search(browser.current_url)
    assert found_url, browser.current_url
    case_url = f"{live_portal}{found_url.group(0)}"
    for section, answers, button in SECTIONS:
        browser.get(f"{case_url}/{section}")
        keyboard_fill(browser, answers, button)
        assert "There is a problem" not in browser.page_source, section
    screenshot(browser, "referral-keyboard-task-list")
    browser.get(f"{case_url}/check")
    keyboard_fill(browser, {}, "Accept and send")
    with app.app_context():
        case = db.session.get_one(Case, journey.case_id_of(case_url))
        assert case.status == CaseStatus.SUBMITTED
        assert case.subject is not None
        assert case.subject.full_name == journey.SUBJECT["full_name"]


def test_a_referral_goes_to_its_meeting_and_the_agencies_answer_in_the_browser(
    app: Flask, live_portal: str, browser: webdriver.Chrome
) -> None:
    """After triage: business support arranges the allegations meeting and asks the
    police, children's social care and the employer for their checklists; each answers
    from their own account; the LADO reads the answers side by side and records the
    meeting. axe on every page."""
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    checked = Checked(browser, "meeting")
    with app.app_context():
        case = db.session.scalars(
            select(Case).where(Case.status == CaseStatus.SUBMITTED, Case.logged.is_(False))
        ).one()
        # Received two days ago, so that a meeting held yesterday can be recorded today.
        assert case.received_at
        case.received_at -= timedelta(days=2)
        case_url = f"{live_portal}/authorities/{case.authority_id}/cases/{case.id}"
        db.session.commit()

    sign_in(browser, live_portal, *_account("LADO", "lado@brookfield.example"))
    browser.get(case_url)
    follow(browser, "Start triage")
    press(browser, "Start triage")
    follow(browser, "Accept as a referral")
    fill(browser, DECISION)
    press(browser, "Accept as a referral")
    checked.page("accepted")

    browser.delete_all_cookies()
    sign_in(browser, live_portal, *_account("Business support", "support@brookfield.example"))
    browser.get(case_url)
    checked.page("support-case")
    follow(browser, "Arrange")
    checked.page("arrange")
    yesterday = uk_date(utcnow()) - timedelta(days=1)
    chair = Select(browser.find_element(By.NAME, "chair")).options[-1].get_attribute("value")
    fill(
        browser,
        {
            "kind": "allegations",
            "date": [str(yesterday.day), str(yesterday.month), str(yesterday.year)],
            "time": "10:30am",
            "minutes_long": "60",
            "place": "Room 4, Civic Centre",
            "chair": chair,
            "organisations": [_organisation_id(app, "Oakwood")],
        },
    )
    if browser.find_elements(By.NAME, "date_reason"):
        fill(browser, {"date_reason": "Held yesterday; recorded today"})
    press(browser, "Arrange the meeting")
    assert "There is a problem" not in browser.page_source, _problems(browser)
    meeting_url = browser.current_url.split("?")[0]
    checked.page("meeting")
    for organisation, agency in (
        ("Brookfield and Eastmere Police", "police"),
        ("Brookfield Children's Social Care", "childrens_services"),
        ("Oakwood", "employer"),
    ):
        browser.get(f"{meeting_url}/requests/new")
        fill(browser, {"organisation": _organisation_id(app, organisation), "agency": agency})
        press(browser, "Send the request")
        assert "There is a problem" not in browser.page_source, agency
    checked.page("asked")

    for role, email, answers in (
        ("Partner member", "officer@police.example", {"pnc": "Known: a 2019 caution"}),
        ("Partner member", "social-worker@csc.example", {"assessment": "Open to early help"}),
        ("Partner member", "dsl@oakwood.example", {"conduct": "No concerns before this"}),
    ):
        browser.delete_all_cookies()
        sign_in(browser, live_portal, *_account(role, email))
        follow(browser, "Requests")
        checked.page(f"requests-{email.split('@')[0]}")
        follow(browser, "BRK-")
        checked.page(f"request-{email.split('@')[0]}")
        fill(browser, answers)
        press(browser, "Send to the LADO")
        assert "Your answers have been sent to the LADO" in browser.page_source, email

    browser.delete_all_cookies()
    sign_in(browser, live_portal, *_account("LADO", "lado@brookfield.example"))
    browser.get(meeting_url)
    page = browser.find_element(By.TAG_NAME, "main").text
    for answer in ("Known: a 2019 caution", "Open to early help", "No concerns before this"):
        assert answer in page
    checked.page("answers")
    follow(browser, "Record the meeting")
    fill(browser, {"attendance": "LADO, DSL, police", "decisions": "Suspend pending the police"})
    press(browser, "Record the meeting")
    checked.page("recorded")
    assert "Suspend pending the police" in browser.page_source
    assert checked.violations == [], checked.violations


def _demo_school_and_council(app: Flask) -> tuple[str, str]:
    """The demo data loaded: Oakwood's id and Brookfield's, where a DSL refers to."""
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        council = db.session.scalars(select(Authority.id).where(Authority.code == "BRK")).one()
    return _organisation_id(app, "Oakwood"), str(council)


def _problems(browser: webdriver.Chrome) -> str:
    return " / ".join(
        e.text for e in browser.find_elements(By.CSS_SELECTOR, ".govuk-error-summary")
    )


def _organisation_id(app: Flask, name_starts: str) -> str:
    with app.app_context():
        return str(
            db.session.scalars(
                select(Organisation.id).where(Organisation.name.like(f"{name_starts}%"))
            ).one()
        )
