"""In Chromium: the whole journey, from a school's referral to the annual report, each
person in their own account; the referral and the triage decision with JavaScript off;
and the referral form completed with the keyboard alone. Every page on the way is
checked with axe-core (WCAG 2.2 A and AA, with JavaScript) and at 320 pixels wide (400%
zoom of a 1280-pixel screen), and kept as a screenshot in test-results/."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
from flask import Flask
from selenium import webdriver
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
from tests.browser.conftest import (
    RESULTS,
    Checked,
    demo_account,
    fill,
    follow,
    new_browser,
    press,
    screenshot,
    sign_in,
)
from tests.conftest import Mailbox
from tests.meetings.test_meetings import _parts
from tests.referrals import journey

# The referral's pages, each with the button that saves it.
BUTTONS = {"children": "Continue", "children/new": "Save child"}
SECTIONS = tuple(
    (page, answers, BUTTONS.get(page, "Save and continue")) for page, answers in journey.PAGES
)
DECISION = {
    "criteria": ["harmed_child"],
    "harm_category": "physical",
    "rationale": "A child was hurt: the harm threshold is met",
}


def _refer(browser: webdriver.Chrome, base: str, app: Flask, checked: Checked, folder: Path) -> str:
    """The DSL signs in, writes a referral page by page, attaches a PDF and sends it:
    the case's page for the LADO."""
    oakwood, brookfield = _demo_school_and_council(app)
    statement = folder / "statement.pdf"
    statement.write_bytes(journey.PDF)
    sign_in(browser, base, *demo_account("dsl@oakwood.example"))
    checked.page("home")
    browser.get(f"{base}/organisations/{oakwood}/referrals/new")
    checked.page("start")
    fill(browser, {"authority": str(brookfield)})
    press(browser, "Start")
    found = journey.CASE_URL.search(browser.current_url)
    assert found, browser.current_url
    case_url = f"{base}{found.group(0)}"
    checked.page("task-list")
    for section, answers, button in SECTIONS:
        browser.get(f"{case_url}/{section}")
        checked.page(section.replace("/", "-"))
        fill(browser, answers)
        press(browser, button)
        assert "There is a problem" not in browser.page_source, (section, browser.current_url)
    browser.get(f"{case_url}/files")
    browser.find_element(By.NAME, "file").send_keys(str(statement))
    press(browser, "Upload file")
    assert "statement.pdf has been uploaded" in browser.page_source
    checked.page("files")
    browser.get(f"{case_url}/check")
    checked.page("check")
    press(browser, "Accept and send")
    checked.page("sent")
    with app.app_context():
        case = db.session.get_one(Case, journey.case_id_of(case_url))
        assert case.status == CaseStatus.SUBMITTED
        assert [a.filename for a in case.attachments] == ["statement.pdf"]
        return f"{base}/authorities/{case.authority_id}/cases/{case.id}"


def _accept(browser: webdriver.Chrome, base: str, case_url: str, checked: Checked) -> None:
    """The LADO signs in, starts triage and decides the threshold is met; a decision
    with nothing chosen is refused, saying what is missing."""
    browser.delete_all_cookies()
    sign_in(browser, base, *demo_account("lado@brookfield.example"))
    browser.get(case_url)
    checked.page("lado-case")
    assert journey.SUBJECT["full_name"] in browser.page_source
    follow(browser, "Start triage")
    checked.page("start-triage")
    press(browser, "Start triage")
    follow(browser, "Accept as a referral")
    checked.page("decide")
    press(browser, "Accept as a referral")  # nothing chosen: the page says what is missing
    assert "There is a problem" in browser.page_source
    checked.page("decide-errors")
    fill(browser, DECISION)
    press(browser, "Accept as a referral")
    checked.page("decided")


def test_a_referral_is_written_sent_and_decided_without_javascript(
    app: Flask, live_portal: str, tmp_path: Path
) -> None:
    """The referral and the triage decision with scripts off: plain forms and links.
    (The whole journey below runs the same steps with JavaScript, and axe.)"""
    browser = new_browser(javascript=False)
    try:
        checked = Checked(browser, "referral-nojs")
        case_url = _refer(browser, live_portal, app, checked, tmp_path)
        _accept(browser, live_portal, case_url, checked)
    finally:
        browser.quit()
    with app.app_context():
        case = db.session.get_one(Case, journey.case_id_of(case_url))
        assert case.status == CaseStatus.REFERRAL
        assert case.subject is not None
        assert case.subject.full_name == journey.SUBJECT["full_name"]
    assert checked.problems == [], checked.problems
    assert (RESULTS / "referral-nojs-01-home.png").exists()


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
    sign_in(browser, live_portal, *demo_account("dsl@oakwood.example"))
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


def test_the_whole_journey_from_referral_to_the_annual_report_in_the_browser(
    app: Flask, live_portal: str, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    """Everyone in their own account, in Chromium with JavaScript, axe on every page:
    the DSL refers with a file; the LADO accepts it; business support arranges the
    allegations meeting and asks the police, children's social care and the school for
    their checklists; each answers; the LADO reads the answers, records the meeting, its
    actions and minutes, invites the subject and publishes an update to them; the
    subject signs up and reads it; the LADO records the outcome and the concluding
    actions and closes the case; the annual report counts it."""
    checked = Checked(browser, "journey")
    case_url = _refer(browser, live_portal, app, checked, tmp_path)
    _accept(browser, live_portal, case_url, checked)
    # The school's statement: an original document, so a fresh code is asked for first.
    browser.get(case_url)
    follow(browser, "statement.pdf")
    assert "/account/confirm-it-is-you" in browser.current_url
    checked.page("step-up")
    with app.app_context():
        case = db.session.get_one(Case, journey.case_id_of(case_url))
        assert case.status == CaseStatus.REFERRAL
        # Received two days ago, so that a meeting held yesterday can be recorded today.
        assert case.received_at
        case.received_at -= timedelta(days=2)
        reference, case_id = case.reference, case.id
        report_url = f"{live_portal}/authorities/{case.authority_id}/reports/annual"
        db.session.commit()
    browser.get(report_url)
    substantiated_before = _figure(browser, "outcomes", "Substantiated")

    browser.delete_all_cookies()
    sign_in(browser, live_portal, *demo_account("support@brookfield.example"))
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
            "date": _parts(yesterday),
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
        if agency == "police":
            checked.page("ask")
        fill(browser, {"organisation": _organisation_id(app, organisation), "agency": agency})
        press(browser, "Send the request")
        assert "There is a problem" not in browser.page_source, agency
    checked.page("asked")

    for email, answers in (
        ("officer@police.example", {"pnc": "Known: a 2019 caution"}),
        ("social-worker@csc.example", {"assessment": "Open to early help"}),
        ("dsl@oakwood.example", {"conduct": "No concerns before this"}),
    ):
        browser.delete_all_cookies()
        sign_in(browser, live_portal, *demo_account(email))
        follow(browser, "Requests")
        checked.page(f"requests-{email.split('@')[0]}")
        follow(browser, "BRK-")
        checked.page(f"request-{email.split('@')[0]}")
        fill(browser, answers)
        press(browser, "Send to the LADO")
        assert "Your answers have been sent to the LADO" in browser.page_source, email

    browser.delete_all_cookies()
    sign_in(browser, live_portal, *demo_account("lado@brookfield.example"))
    browser.get(meeting_url)
    page = browser.find_element(By.TAG_NAME, "main").text
    for answer in ("Known: a 2019 caution", "Open to early help", "No concerns before this"):
        assert answer in page
    checked.page("answers")
    follow(browser, "Record the meeting")
    checked.page("record")
    fill(browser, {"attendance": "LADO, DSL, police", "decisions": "Suspend pending the police"})
    press(browser, "Record the meeting")
    checked.page("recorded")
    assert "Suspend pending the police" in browser.page_source

    # The meeting's actions and minutes, sent to everyone invited.
    follow(browser, "Add an action")
    checked.page("action")
    due = uk_date(utcnow()) + timedelta(days=14)
    owner = Select(browser.find_element(By.NAME, "owner")).options[-1].get_attribute("value")
    fill(
        browser,
        {
            "text": "Confirm the suspension in writing",
            "owner": owner,
            "due_on": _parts(due),
        },
    )
    press(browser, "Add the action")
    assert "There is a problem" not in browser.page_source, _problems(browser)
    press(browser, "Send the actions to everyone invited")
    assert "Confirm the suspension in writing" in browser.page_source
    follow(browser, "Write or upload the minutes")
    checked.page("minutes")
    fill(browser, {"minutes": "The meeting agreed the suspension and the police's timetable."})
    press(browser, "Save and send the minutes")
    assert "There is a problem" not in browser.page_source, _problems(browser)
    checked.page("minutes-sent")
    assert "the police's timetable" in browser.page_source

    # The subject has no employer to tell them: the LADO gives them an account, and
    # publishes an update written for them, with the others' names taken out.
    browser.get(case_url)
    follow(browser, "The subject's account")
    checked.page("subject-account")
    fill(browser, {"full_name": journey.SUBJECT["full_name"], "email": SUBJECT_EMAIL})
    press(browser, "Send the invitation")
    assert "There is a problem" not in browser.page_source, _problems(browser)
    browser.get(case_url)
    follow(browser, "Write an update")
    checked.page("update")
    fill(
        browser,
        {
            "text": UPDATE.format(child=journey.CHILD["name"]),
            "audiences": ["subject"],
            "other_names": "",
        },
    )
    press(browser, "Choose what each audience reads")
    assert "There is a problem" not in browser.page_source, _problems(browser)
    checked.page("update-review")
    # The subject's text, as it will be published: the child's name taken out.
    assert "[redacted] is safe and back at school." in browser.page_source
    press(browser, "Publish")
    checked.page("update-published")

    subject = new_browser()
    try:
        _subject_signs_up_and_reads_it(subject, live_portal, app, reference)
    finally:
        subject.quit()

    # The outcome, the concluding actions, and the case closed.
    for move, answers in (
        ("Record the outcome", {"outcome": "substantiated", "rationale": "Admitted"}),
        (
            "Record the concluding actions",
            {
                "actions": ["dismissal"],
                "actions_on": _parts(yesterday),
            },
        ),
        ("Close the case", {}),
    ):
        browser.get(case_url)
        follow(browser, move)
        checked.page(move.lower().replace(" ", "-"))
        fill(browser, answers)
        if browser.find_elements(By.NAME, "delay_reason"):
            fill(browser, {"delay_reason": "other", "delay_detail": "Waited for the police"})
        press(browser, move)
        assert "There is a problem" not in browser.page_source, (move, _problems(browser))
    checked.page("closed")
    with app.app_context():
        assert db.session.get_one(Case, case_id).status == CaseStatus.CLOSED
    browser.get(report_url)
    checked.page("annual-report")
    assert _figure(browser, "outcomes", "Substantiated") == substantiated_before + 1
    assert checked.problems == [], checked.problems


SUBJECT_EMAIL = "morgan.subject@home.example"
UPDATE = "The police will interview you on Friday. {child} is safe and back at school."
INVITATION = re.compile(r"/invitation/[A-Za-z0-9_-]+")


def _subject_signs_up_and_reads_it(
    browser: webdriver.Chrome, base: str, app: Flask, reference: str | None
) -> None:
    """The subject opens the link in the invitation e-mail, chooses a password, sets up
    an authenticator app from the key on the page and reads the update meant for them."""
    checked = Checked(browser, "journey-subject")
    [invitation] = [m for m in Mailbox(app).all() if m["template"] == "subject_invitation"]
    assert invitation["to"] == SUBJECT_EMAIL
    link = INVITATION.search(invitation["body"])
    assert link, "no link in the invitation"
    browser.get(f"{base}{link.group(0)}")
    checked.page("invitation")
    fill(browser, {"password": "meadow-harbour-lantern-77"})
    press(browser, "Continue")
    assert "There is a problem" not in browser.page_source, _problems(browser)
    checked.page("authenticator")
    # As a person without a camera: open "I cannot scan the QR code" and type the key.
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    secret = browser.find_element(By.CSS_SELECTOR, ".portal-secret").text.replace(" ", "")
    fill(browser, {"code": pyotp.TOTP(secret).now()})
    press(browser, "Continue")
    assert "There is a problem" not in browser.page_source, _problems(browser)
    checked.page("signed-up")
    browser.get(f"{base}/your-cases")
    checked.page("your-cases")
    follow(browser, str(reference))
    checked.page("your-case")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "The police will interview you on Friday." in page
    assert journey.CHILD["name"] not in page
    assert checked.problems == [], checked.problems


def _figure(browser: webdriver.Chrome, table: str, row: str) -> int:
    """A number from one of the annual report's tables."""
    cells = browser.find_elements(
        By.XPATH,
        f"//h2[@id='{table}']/following-sibling::div[1]//tr[th[normalize-space()='{row}']]/td",
    )
    assert cells, f"no row {row!r} in the {table} table"
    return int(cells[0].text)


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
