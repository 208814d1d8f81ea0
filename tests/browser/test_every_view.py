"""Every page of the portal, in Chromium, over the demo data: each demo account signs in
and follows every link it is shown, as far as they go. The first page of each view
(Flask endpoint) is checked with axe-core against WCAG 2.2 A and AA, drawn 320 pixels
wide (400% zoom of a 1280-pixel screen), where it must not scroll sideways, and kept as
a screenshot in test-results/. A view no link reaches is listed below with where it is
checked, so a new view cannot go unchecked by accident."""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urlsplit

from flask import Flask
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from portal import demo_referrals, destruction
from portal.extensions import db
from portal.models import (
    Authority,
    Case,
    CaseStatus,
    Membership,
    Organisation,
    Role,
    User,
    utcnow,
)
from portal.workdays import uk_date
from tests.browser.conftest import (
    Checked,
    demo_account,
    enter_password,
    fill,
    follow,
    press,
    sign_in,
)
from tests.conftest import Mailbox
from tests.test_demo_and_cli import readme_accounts

# Links not followed: they download a file rather than show a page, or end the session.
NOT_PAGES = re.compile(r"\.(csv|xlsx|pdf|ics)$|/files/|/minutes-document$|/export$")

# Pages of one view that each account opens: enough to find the links each kind of
# page has (a case with a meeting, one without), few enough to be quick.
EACH = 6

# Views no link leads to, and where each is checked instead.
REACHED_OTHERWISE = {
    "referrals.referral_sent": "the journey, after the referral is sent",
    "referrals.referral_check": "the journey (linked once every section is done)",
    "auth.set_up_authenticator": "the journey: the subject signing up",
    "auth.accept_invitation": "the journey: the subject signing up",
    "auth.open_invitation": "the journey (it sends the browser to accept_invitation)",
    "auth.step_up": "the journey, before the referral's file opens",
    "updates.review": "the journey (the demo has no draft update to link to)",
    "meetings.actions": "the journey",
    "meetings.minutes": "the journey",
    "meetings.record": "the journey",
    "subjects.your_case": "the journey, and test_subject.py",
    "main.healthz": "not a page: JSON for the load balancer",
    "reports.annual_download": "not a page: the report as CSV or XLSX",
}


def _endpoint(app: Flask, url: str) -> str | None:
    parts = urlsplit(url)
    try:
        endpoint, _ = app.url_map.bind("127.0.0.1").match(parts.path, method="GET")
    except HTTPException:
        return None
    return str(endpoint)


def _links(browser: webdriver.Chrome, base: str) -> list[str]:
    found = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href]'), a => a.href)"
    )
    return [
        url.split("#")[0]
        for url in found
        if url.startswith(base) and not NOT_PAGES.search(urlsplit(url).path)
    ]


def _pages_behind_forms(app: Flask) -> None:
    """What the demo has not, so that links lead to every page: a child on a draft
    referral and on a contact being logged (their Change and Remove pages), and a
    destruction batch waiting for a second manager."""
    with app.app_context():
        people = {u.email: u for u in db.session.scalars(select(User))}
        lado, dsl = people["lado@brookfield.example"], people["dsl@oakwood.example"]
        brookfield = db.session.scalars(select(Authority).where(Authority.code == "BRK")).one()
        draft = db.session.scalars(
            select(Case).where(Case.status == CaseStatus.DRAFT, Case.created_by_id == dsl.id)
        ).first()
        assert draft is not None
        with app.test_request_context():  # the forms the demo fills in need one
            demo_referrals.add_child(dsl, draft)
            contact = demo_referrals.logged_contact(lado, brookfield, "A", send=False)
            demo_referrals.add_child(lado, contact)
        manager = people["lado-manager@brookfield.example"]
        destruction.propose(brookfield, manager, uk_date(utcnow()), None)
        # Someone in two places chooses one: the DSL refers for a second school too, and
        # Oakwood's head also runs the second school's accounts.
        second_school = db.session.scalars(
            select(Organisation).where(Organisation.id != draft.organisation_id)
        ).first()
        assert second_school is not None
        dsl.memberships.append(
            Membership(role=Role.PARTNER_MEMBER, organisation_id=second_school.id)
        )
        administrator = people["head@oakwood.example"]
        administrator.memberships.append(
            Membership(role=Role.ORGANISATION_ADMIN, organisation_id=second_school.id)
        )
        db.session.commit()


def _pages_after_forms(
    app: Flask, base: str, browser: webdriver.Chrome, checked: Checked, seen: dict[str, str]
) -> None:
    """The pages that follow a form rather than a link, each reached as a person does."""

    def check() -> None:
        endpoint = _endpoint(app, browser.current_url)
        assert endpoint, browser.current_url
        if endpoint not in seen:
            seen[endpoint] = browser.current_url
            checked.page(endpoint.replace(".", "-"))

    email, password, secret = demo_account("lado@brookfield.example")
    # Signing in: the code page, and the way in for someone without their phone.
    browser.delete_all_cookies()
    enter_password(browser, base, email, password)
    check()
    follow(browser, "I cannot use my authenticator app")
    check()
    # The LADO adds the contact being logged to the queue.
    sign_in(browser, base, email, password, secret)
    with app.app_context():
        contact = db.session.scalars(
            select(Case).where(Case.logged.is_(True), Case.status == CaseStatus.DRAFT)
        ).one()
        contacts = f"{base}/authorities/{contact.authority_id}/contacts/{contact.id}"
    browser.get(f"{contacts}/check")
    press(browser, "Add to the queue")
    check()
    # A LADO manager finds a person's records for a subject access request.
    browser.delete_all_cookies()
    email, password, secret = demo_account("lado-manager@brookfield.example")
    sign_in(browser, base, email, password, secret)
    browser.get(f"{contacts.split('/contacts/')[0]}/subject-access")
    fill(browser, {"full_name": "Sam Example (demo)", "date_of_birth": ["12", "5", "1988"]})
    press(browser, "Find their records")
    check()
    # Signing out; then a forgotten password, reset from the link in the e-mail.
    browser.find_element(By.CSS_SELECTOR, "header form button").click()
    WebDriverWait(browser, 10).until(lambda b: "/signed-out" in b.current_url)
    check()
    browser.get(f"{base}/forgot-password")
    fill(browser, {"email": email})
    press(browser, "Send a reset link")
    check()
    [reset] = [m for m in Mailbox(app).all() if m["template"] == "password_reset"]
    link = re.search(r"/reset-password/[A-Za-z0-9_-]+", reset["body"])
    assert link, "no link in the e-mail"
    browser.get(f"{base}{link.group(0)}")
    check()
    seen.setdefault("auth.open_password_reset", browser.current_url)  # it went on to this


def test_every_view_is_accessible_and_fits_320_pixels(
    app: Flask, live_portal: str, browser: webdriver.Chrome
) -> None:
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    _pages_behind_forms(app)
    checked = Checked(browser, "view")
    seen: dict[str, str] = {}  # endpoint: the first URL checked
    public = [f"{live_portal}{path}" for path in ("/sign-in", "/forgot-password", "/cookies")]
    redirects: set[str] = set()  # views that only send the browser elsewhere
    for role, _place, email, password, secret in readme_accounts():
        browser.delete_all_cookies()
        sign_in(browser, live_portal, email, password, secret)
        opened: Counter[str] = Counter()  # this account's pages, by view
        done: set[str] = set()
        waiting = deque([browser.current_url, *public])
        while waiting:
            url = waiting.popleft()
            endpoint = _endpoint(app, url)
            if url in done or endpoint in (None, "auth.sign_out") or opened[endpoint] >= EACH:
                continue
            done.add(url)
            opened[endpoint] += 1
            browser.get(url)
            shown = _endpoint(app, browser.current_url)
            if shown != endpoint and shown is not None:
                redirects.add(endpoint)
            waiting.extend(_links(browser, live_portal))
            assert not browser.title.startswith("Sorry"), (role, url, browser.title)
            if shown is None or shown in seen or "Page not found" in browser.title:
                continue
            seen[shown] = url
            checked.page(shown.replace(".", "-"))
        assert "/sign-in" not in browser.current_url, f"{role} was signed out"

    _pages_after_forms(app, live_portal, browser, checked, seen)
    views = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.endpoint != "static"
    }
    downloads = {e for e in views if NOT_PAGES.search(next(app.url_map.iter_rules(e)).rule)}
    unchecked = views - set(seen) - redirects - set(REACHED_OTHERWISE) - downloads
    assert unchecked == set(), f"views no test looks at in a browser: {sorted(unchecked)}"
    assert checked.problems == [], checked.problems
