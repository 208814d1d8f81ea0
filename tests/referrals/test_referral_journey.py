"""A referral from sign-in to confirmation, and what sending it does: the reference, the
acknowledgement, the audit trail, "your referrals"; sending twice; colleagues resuming."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, AuditKind, Case, CaseStatus, OutboxMessage, utcnow
from portal.referrals.sections import PARTNER_SECTIONS
from portal.workdays import add_working_days, uk_date
from tests.client import PortalClient
from tests.factories import make_authority
from tests.referrals import journey
from tests.referrals.conftest import Place, signed_in_as

REFERENCE = re.compile(r"BRO-\d{4}-\d{5}")


def _events(app: Flask, case_url: str, kind: AuditKind) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.case_id == journey.case_id_of(case_url), AuditEvent.kind == kind
                )
            )
        )


def test_a_partner_refers_from_sign_in_to_confirmation(
    app: Flask, place: Place, dsl: PortalClient, mailbox: object
) -> None:
    # "Referrals" leads a member of one organisation straight to their list.
    response = dsl.get("/referrals")
    assert response.headers["Location"] == f"/organisations/{place.school_id}/referrals"
    listing = dsl.get(response.headers["Location"]).get_data(as_text=True)
    assert "There are no referrals" in listing
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    task_list = dsl.get(case_url).get_data(as_text=True)
    assert "Not yet started" in task_list
    # About you is prefilled from the account.
    about = dsl.get(f"{case_url}/about-you").get_data(as_text=True)
    assert place.dsl.email in about
    assert place.dsl.full_name in about
    journey.fill_in(dsl, case_url)
    task_list = dsl.get(case_url).get_data(as_text=True)
    assert "Not yet started" not in task_list
    assert "Check and send" in task_list
    check = dsl.get(f"{case_url}/check").get_data(as_text=True)
    for answer in (
        journey.SUBJECT["full_name"],
        journey.CHILD["name"],
        journey.INCIDENT["allegation"],
        journey.ACTIONS["crime_reference"],
        "statement.pdf",
    ):
        assert answer.replace("'", "&#39;") in check, answer
    assert re.search(
        rf'<a class="govuk-link" href="{case_url}/files/[0-9a-f-]{{36}}">statement.pdf</a>', check
    )
    response = journey.send(dsl, case_url)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == f"{case_url}/sent"
    sent = dsl.get(f"{case_url}/sent").get_data(as_text=True)
    reference = REFERENCE.search(sent)
    assert reference
    assert reference.group(0).startswith(f"BRO-{uk_date(utcnow()).year}-")
    due = add_working_days(uk_date(utcnow()), 1)
    assert f"{due.day} {due:%B %Y}" in sent
    assert "What happens next" in sent
    # The acknowledgement: the reference, and nothing of the case.
    email = mailbox.all()[-1]  # type: ignore[attr-defined]
    assert email["to"] == place.dsl.email
    assert reference.group(0) in email["body"]
    for value in (journey.SUBJECT["full_name"], journey.CHILD["name"], "Canary", "canary"):
        assert value not in email["body"]
        assert value not in email["subject"]
    # Sent: in the list with its reference and status, and its pages read-only.
    listing = dsl.get(f"/organisations/{place.school_id}/referrals").get_data(as_text=True)
    assert reference.group(0) in listing
    assert "Submitted" in listing
    view = dsl.get(case_url).get_data(as_text=True)
    assert journey.INCIDENT["location"] in view
    assert "Change" not in view
    assert dsl.get(f"{case_url}/person").headers["Location"] == case_url
    with app.app_context():
        case = journey.the_case(app, case_url)
        assert case.status == CaseStatus.SUBMITTED
        assert case.reference == reference.group(0)
        assert case.submitted_by_id == place.dsl.id
        assert case.received_at == case.submitted_at
    assert len(_events(app, case_url, AuditKind.CASE_SUBMITTED)) == 1
    viewed = _events(app, case_url, AuditKind.CASE_VIEWED)
    # Every page drawn is audited, its event committed with the page.
    sections = {section.key for section in PARTNER_SECTIONS}
    pages = {"task_list", "children", "child", "files", "check", "summary", "sent"}
    assert {event.detail["page"] for event in viewed} == sections | pages
    assert all(event.actor_id == place.dsl.id for event in viewed)


def test_references_count_up_per_authority_and_year(app: Flask, place: Place) -> None:
    other_authority = make_authority(app, code="ANO")
    with app.app_context():
        from portal.models import Organisation, OrganisationAuthority

        db.session.add(
            OrganisationAuthority(
                organisation_id=place.school_id,
                authority_id=other_authority,
                manages_accounts=False,
            )
        )
        db.session.commit()
        assert db.session.get(Organisation, place.school_id)
    client = signed_in_as(app, place.dsl)
    references = []
    for authority_id in (place.authority_id, place.authority_id, other_authority):
        case_url = journey.start_referral(client, place.school_id, authority_id)
        journey.fill_in(client, case_url)
        journey.send(client, case_url)
        with app.app_context():
            references.append(journey.the_case(app, case_url).reference)
    year = uk_date(utcnow()).year
    assert references == [f"BRO-{year}-00001", f"BRO-{year}-00002", f"ANO-{year}-00001"]


def test_sending_twice_makes_one_referral_and_one_email(
    app: Flask, place: Place, dsl: PortalClient, mailbox: object
) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    journey.fill_in(dsl, case_url)
    dsl.get(f"{case_url}/check")
    token = dsl.csrf_token
    first = dsl.post(f"{case_url}/check", data={"csrf_token": token})
    # The back button and a second click: the same form, sent again.
    second = dsl.post(f"{case_url}/check", data={"csrf_token": token})
    assert first.headers["Location"] == f"{case_url}/sent"
    assert second.status_code == 302
    assert second.headers["Location"] == case_url  # what was sent, not a second one
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1
        counted = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "referral_received")
        )
        assert counted == 1
    assert len(_events(app, case_url, AuditKind.CASE_SUBMITTED)) == 1


def test_two_tabs_sending_at_once_make_one_referral(
    app: Flask, place: Place, make_app: object
) -> None:
    """Two requests racing, as two tabs (or two workers) would: one wins."""
    first_tab = signed_in_as(app, place.dsl)
    case_url = journey.start_referral(first_tab, place.school_id, place.authority_id)
    journey.fill_in(first_tab, case_url)
    second_app = make_app()  # type: ignore[operator]
    second_tab = signed_in_as(second_app, place.colleague)
    for tab in (first_tab, second_tab):
        tab.get(f"{case_url}/check")
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def send(tab: PortalClient) -> None:
        barrier.wait()
        answers.append(
            tab.post(f"{case_url}/check", data={"csrf_token": tab.csrf_token}).status_code
        )

    threads = [threading.Thread(target=send, args=(tab,)) for tab in (first_tab, second_tab)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [302, 302]
    with app.app_context():
        case = journey.the_case(app, case_url)
        assert case.status == CaseStatus.SUBMITTED
        assert case.reference is not None
        assert case.reference.endswith("-00001")
    assert len(_events(app, case_url, AuditKind.CASE_SUBMITTED)) == 1


def test_a_colleague_resumes_a_draft(app: Flask, place: Place, dsl: PortalClient) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    journey.save(dsl, f"{case_url}/about-you", journey.ABOUT_YOU)
    journey.save(dsl, f"{case_url}/person", journey.SUBJECT)
    colleague = signed_in_as(app, place.colleague)
    listing = colleague.get(f"/organisations/{place.school_id}/referrals").get_data(as_text=True)
    assert case_url in listing
    assert journey.SUBJECT["full_name"] in listing
    assert "Finish and send it" in listing
    person = colleague.get(f"{case_url}/person").get_data(as_text=True)
    assert journey.SUBJECT["address"] in person
    # The colleague finishes and sends it; the acknowledgement goes to them.
    journey.save(colleague, f"{case_url}/children", {"children_involved": "no"})
    journey.save(colleague, f"{case_url}/what-happened", journey.INCIDENT)
    journey.save(colleague, f"{case_url}/actions", journey.ACTIONS)
    assert journey.send(colleague, case_url).headers["Location"] == f"{case_url}/sent"
    with app.app_context():
        case = journey.the_case(app, case_url)
        assert case.created_by_id == place.dsl.id
        assert case.submitted_by_id == place.colleague.id


def test_a_draft_can_be_deleted_with_everything_in_it(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    journey.save(dsl, f"{case_url}/person", journey.SUBJECT)
    assert journey.upload(dsl, case_url).status_code == 302
    response = dsl.submit(f"{case_url}/delete", {})
    assert response.headers["Location"] == f"/organisations/{place.school_id}/referrals"
    assert dsl.get(case_url).status_code == 404
    with app.app_context():
        from portal.models import StoredFile, Subject

        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
        assert db.session.scalar(select(func.count()).select_from(Subject)) == 0
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert len(_events(app, case_url, AuditKind.CASE_DRAFT_DELETED)) == 1


def test_another_organisation_gets_404_for_every_page_of_a_referral(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    journey.fill_in(dsl, case_url)
    html = dsl.get(f"{case_url}/children").get_data(as_text=True)
    child_path = re.search(r"/children/[0-9a-f-]{36}", html)
    html = dsl.get(f"{case_url}/files").get_data(as_text=True)
    file_path = re.search(r"/files/[0-9a-f-]{36}", html)
    assert child_path
    assert file_path
    pages = [
        "",
        "/about-you",
        "/person",
        "/what-happened",
        "/actions",
        "/children",
        "/children/new",
        child_path.group(0),
        f"{child_path.group(0)}/remove",
        "/files",
        file_path.group(0),
        f"{file_path.group(0)}/remove",
        "/check",
        "/sent",
        "/delete",
    ]
    other = signed_in_as(app, place.other_dsl)
    other_school = f"/organisations/{place.other_school_id}/referrals"
    other.get(other_school)
    for page in pages:
        # Under its own organisation (the case is not there) and under the school's
        # (where the person is not a member): 404 both ways, for reads and for writes.
        for url in (
            case_url + page,
            case_url.replace(
                f"/organisations/{place.school_id}", f"/organisations/{place.other_school_id}"
            )
            + page,
        ):
            assert other.get(url).status_code == 404, url
            if page not in ("", "/sent", file_path.group(0)):  # pages that take a form
                assert other.post_form(url, {}).status_code == 404, url
    assert journey.SUBJECT["full_name"] not in other.get(other_school).get_data(as_text=True)
    # The LADO's team reach a partner's referral through their own pages, not these.
    lado = signed_in_as(app, place.lado)
    assert lado.get(case_url).status_code == 404
    contact_url = f"/authorities/{place.authority_id}/contacts/{journey.case_id_of(case_url)}"
    assert lado.get(contact_url).status_code == 404


def test_every_authority_of_the_deployment_is_offered_its_own_first(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    """The adult's place of work decides where a referral goes, not the school's links."""
    elsewhere = make_authority(app, name="Aardvark Council")  # first by name, not linked
    page = dsl.get(f"/organisations/{place.school_id}/referrals/new").get_data(as_text=True)
    assert page.index("Testshire Council") < page.index("Aardvark Council")
    case_url = journey.start_referral(dsl, place.school_id, elsewhere)
    with app.app_context():
        assert journey.the_case(app, case_url).authority_id == elsewhere


def test_a_council_that_is_not_offered_cannot_be_chosen(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    response = dsl.submit(
        f"/organisations/{place.school_id}/referrals/new", {"authority": str(uuid.uuid4())}
    )
    assert response.status_code == 200
    assert "Select the council" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_someone_in_two_organisations_chooses_one(app: Flask, place: Place) -> None:
    from portal.models import Role
    from tests.factories import add_role

    add_role(app, place.dsl, Role.PARTNER_MEMBER, organisation_id=place.other_school_id)
    client = signed_in_as(app, place.dsl)
    page = client.get("/referrals").get_data(as_text=True)
    assert f"/organisations/{place.school_id}/referrals" in page
    assert f"/organisations/{place.other_school_id}/referrals" in page


def test_listing_referrals_is_audited(app: Flask, place: Place, dsl: PortalClient) -> None:
    dsl.get(f"/organisations/{place.school_id}/referrals")
    with app.app_context():
        listed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.CASES_LISTED)
        ).all()
        assert [event.organisation_id for event in listed] == [place.school_id]


@pytest.mark.parametrize("page", ["check", "sent"])
def test_pages_of_a_case_that_does_not_exist_are_404(
    place: Place, dsl: PortalClient, page: str
) -> None:
    url = f"/organisations/{place.school_id}/referrals/{uuid.uuid4()}/{page}"
    assert dsl.get(url).status_code == 404


def test_response_due_skips_weekends_and_bank_holidays() -> None:
    # Sent on Christmas Eve 2026 (a Thursday): the next working day is Tuesday 29th.
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_a_child_is_changed_and_removed(app: Flask, place: Place, dsl: PortalClient) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    journey.add_child(dsl, case_url)
    journey.add_child(dsl, case_url, {**journey.CHILD, "name": "Second Child"})
    page = dsl.get(f"{case_url}/children").get_data(as_text=True)
    first = re.search(r"/children/([0-9a-f-]{36})", page)
    assert first
    child_url = f"{case_url}/children/{first.group(1)}"
    journey.save(dsl, child_url, {**journey.CHILD, "name": "Renamed Child"})
    page = dsl.get(f"{case_url}/children").get_data(as_text=True)
    assert "Child 1: Renamed Child" in page
    assert "Child 2: Second Child" in page
    assert "Remove Renamed Child from this referral?" in dsl.get(f"{child_url}/remove").get_data(
        as_text=True
    )
    response = dsl.post_form(f"{child_url}/remove", {})
    assert response.headers["Location"] == f"{case_url}/children"
    page = dsl.get(f"{case_url}/children").get_data(as_text=True)
    assert "The child has been removed" in page
    assert "Child 1: Second Child" in page
    assert "Renamed Child" not in page
    with app.app_context():
        assert len(journey.the_case(app, case_url).children) == 1
