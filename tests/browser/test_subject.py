"""A subject without an employer signs in with their authenticator app and reads the
update the LADO published to them, in Chromium, over the demo data."""

from __future__ import annotations

from flask import Flask
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.conftest import screenshot, sign_in
from tests.test_demo_and_cli import readme_accounts


def test_a_subject_signs_in_and_reads_the_update_meant_for_them(
    app: Flask, live_portal: str, browser: webdriver.Chrome
) -> None:
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    [(_, _, email, password, secret)] = [
        row for row in readme_accounts() if row[0].startswith("Subject")
    ]
    sign_in(browser, live_portal, email, password, secret)
    assert browser.current_url == f"{live_portal}/your-cases"
    screenshot(browser, "subject-cases")
    browser.find_element(By.PARTIAL_LINK_TEXT, "BRK-").click()
    page = browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "subject-case")
    assert "Updates from the LADO" in page
    assert "The ASV meeting is arranged." in page
    assert "Child A" not in page  # the child's name is never theirs to read
    assert "Dana Safeguarding" not in page  # nor the referrer's
    assert "[redacted]" in page
    assert "lado-team@brk.example" in page  # who to contact
    header = browser.find_element(By.TAG_NAME, "header").text
    assert "Brookfield Borough Council" in header  # the council of their case
    # Nothing else of the portal is there for them.
    browser.get(f"{live_portal}/referrals")
    assert "Page not found" in browser.find_element(By.TAG_NAME, "main").text
