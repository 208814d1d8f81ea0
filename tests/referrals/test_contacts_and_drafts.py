"""The LADO's team logging a contact that came by phone, e-mail or letter; and drafts
that nobody finishes: warned about, then deleted with their key."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import AuditEvent, AuditKind, Case, CaseStatus, Role, utcnow
from portal.referrals.service import DRAFT_LIFETIME, expire_drafts
from portal.vocabulary import ContactMethod, SourceType
from portal.workdays import uk_date
from tests.client import PortalClient
from tests.factories import make_account
from tests.referrals import journey
from tests.referrals.conftest import Place, signed_in_as


def test_the_lado_logs_a_phone_call_as_a_contact(app: Flask, place: Place, mailbox: object) -> None:
    lado = signed_in_as(app, place.lado)
    case_url = journey.start_contact(lado, place.authority_id)
    assert case_url.startswith(f"/authorities/{place.authority_id}/contacts/")
    task_list = lado.get(case_url).get_data(as_text=True)
    assert "Who made contact" in task_list
    journey.fill_in(lado, case_url, contact=True)
    response = journey.send(lado, case_url)
    assert response.headers["Location"] == f"{case_url}/sent"
    sent = lado.get(f"{case_url}/sent").get_data(as_text=True)
    assert "Contact added to the queue" in sent
    with app.app_context():
        case = journey.the_case(app, case_url)
        assert case.logged
        assert case.status == CaseStatus.SUBMITTED
        assert case.source_type == SourceType.PUBLIC
        assert case.contact_method == ContactMethod.PHONE
        assert case.organisation_id is None
        assert case.referrer_name == journey.CONTACT["referrer_name"]
        assert case.reference
        assert case.reference.startswith("BRO-")
        assert case.received_at is not None
    # No acknowledgement e-mail: the caller has no account.
    assert mailbox.all() == []  # type: ignore[attr-defined]


def test_a_contact_left_half_logged_is_listed_for_the_team_to_finish(
    app: Flask, place: Place
) -> None:
    lado = signed_in_as(app, place.lado)
    start = f"/authorities/{place.authority_id}/contacts/new"
    assert "Contacts being logged" not in lado.get(start).get_data(as_text=True)
    case_url = journey.start_contact(lado, place.authority_id)
    journey.save(lado, f"{case_url}/person", journey.SUBJECT)
    # A colleague, another day, finds it where contacts are started, and continues it.
    support = signed_in_as(
        app, make_account(app, Role.BUSINESS_SUPPORT, authority_id=place.authority_id)
    )
    page = support.get(start).get_data(as_text=True)
    assert "Contacts being logged" in page
    assert f'href="{case_url}"' in page
    assert journey.SUBJECT["full_name"] in page
    assert support.get(case_url).status_code == 200
    # Once sent it is in the queue, no longer listed here.
    journey.fill_in(lado, case_url, contact=True)
    assert journey.send(lado, case_url).status_code == 302
    assert f'href="{case_url}"' not in support.get(start).get_data(as_text=True)


def test_business_support_log_contacts_and_partners_cannot(app: Flask, place: Place) -> None:
    support = make_account(app, Role.BUSINESS_SUPPORT, authority_id=place.authority_id)
    client = signed_in_as(app, support)
    assert client.get(f"/authorities/{place.authority_id}/contacts/new").status_code == 200
    partner = signed_in_as(app, place.dsl)
    assert partner.get(f"/authorities/{place.authority_id}/contacts/new").status_code == 404


def test_another_authority_gets_404_for_a_logged_contact(app: Flask, place: Place) -> None:
    from tests.factories import make_authority

    lado = signed_in_as(app, place.lado)
    case_url = journey.start_contact(lado, place.authority_id)
    elsewhere = make_authority(app)
    stranger = signed_in_as(app, make_account(app, Role.LADO, authority_id=elsewhere))
    assert stranger.get(case_url).status_code == 404
    assert (
        stranger.get(case_url.replace(str(place.authority_id), str(elsewhere))).status_code == 404
    )


def test_a_contact_may_name_a_partner_organisation(app: Flask, place: Place) -> None:
    lado = signed_in_as(app, place.lado)
    case_url = journey.start_contact(lado, place.authority_id)
    journey.save(
        lado,
        f"{case_url}/contact",
        {**journey.CONTACT, "source_type": "education", "organisation": str(place.school_id)},
    )
    with app.app_context():
        case = journey.the_case(app, case_url)
        assert case.organisation_id == place.school_id
        assert case.source_type == SourceType.EDUCATION


def _age_drafts(app: Flask, age: timedelta) -> None:
    with app.app_context():
        db.session.execute(update(Case).values(updated_at=utcnow() - age))
        db.session.commit()


def test_an_untouched_draft_is_warned_about_then_deleted(
    app: Flask, place: Place, dsl: PortalClient, mailbox: object
) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    journey.save(dsl, f"{case_url}/person", journey.SUBJECT)
    assert journey.upload(dsl, case_url).status_code == 302
    _age_drafts(app, timedelta(days=22))
    with app.app_context():
        assert expire_drafts() == (0, 0)
    _age_drafts(app, timedelta(days=24))
    with app.app_context():
        assert expire_drafts() == (1, 0)
        assert expire_drafts() == (0, 0)  # warned once
    warning = mailbox.all()[-1]  # type: ignore[attr-defined]
    assert warning["to"] == place.dsl.email
    assert "will be deleted after" in warning["body"]
    assert journey.SUBJECT["full_name"] not in warning["body"]
    _age_drafts(app, DRAFT_LIFETIME + timedelta(hours=1))
    with app.app_context():
        assert expire_drafts(utcnow() + timedelta(days=2)) == (0, 1)
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
        kinds = db.session.scalars(
            select(AuditEvent.kind).where(AuditEvent.case_id == journey.case_id_of(case_url))
        ).all()
        assert AuditKind.CASE_DRAFT_EXPIRY_WARNED in kinds
        assert AuditKind.CASE_DRAFT_EXPIRED in kinds
    assert dsl.get(case_url).status_code == 404


def test_a_draft_saved_after_its_warning_starts_again(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    _age_drafts(app, timedelta(days=24))
    with app.app_context():
        assert expire_drafts() == (1, 0)
    journey.save(dsl, f"{case_url}/person", journey.SUBJECT)  # a colleague carries on
    with app.app_context():
        assert expire_drafts(utcnow() + timedelta(days=8)) == (0, 0)
        assert journey.the_case(app, case_url).expiry_warned_at is None


def test_a_warning_always_comes_a_day_before_deletion(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    """Housekeeping that did not run for weeks warns first, and deletes a day later."""
    journey.start_referral(dsl, place.school_id, place.authority_id)
    _age_drafts(app, timedelta(days=60))
    with app.app_context():
        assert expire_drafts() == (1, 0)
        assert expire_drafts(utcnow() + timedelta(hours=12)) == (0, 0)
        assert expire_drafts(utcnow() + timedelta(hours=25)) == (0, 1)


def test_sent_referrals_never_expire(app: Flask, place: Place, dsl: PortalClient) -> None:
    case_url = journey.start_referral(dsl, place.school_id, place.authority_id)
    journey.fill_in(dsl, case_url)
    journey.send(dsl, case_url)
    _age_drafts(app, timedelta(days=400))
    with app.app_context():
        assert expire_drafts() == (0, 0)


def test_housekeeping_expires_drafts(app: Flask, place: Place, dsl: PortalClient) -> None:
    journey.start_referral(dsl, place.school_id, place.authority_id)
    _age_drafts(app, timedelta(days=24))
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code == 0, result.output
    assert "Warned about 1 draft(s)" in result.output


def test_the_list_says_when_a_draft_will_be_deleted(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    journey.start_referral(dsl, place.school_id, place.authority_id)
    listing = dsl.get(f"/organisations/{place.school_id}/referrals").get_data(as_text=True)
    deleted_on = uk_date(utcnow() + DRAFT_LIFETIME)
    assert f"Finish and send it by {deleted_on.day} {deleted_on:%B %Y}" in listing
