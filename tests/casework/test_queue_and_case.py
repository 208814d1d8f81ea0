"""The LADO's queue and case page, through the test client: what is due first on top,
filters and counts, the case with its answers and timeline, a decision with its
rationale, a stale page, and another authority's 404."""

from __future__ import annotations

import html
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.casework import queue
from portal.extensions import db
from portal.models import Authority, Case, CaseStatus, Deadline, DeadlineKind, Membership, Role
from portal.models.base import utcnow
from portal.workdays import Timescale, Unit
from tests.client import PortalClient
from tests.factories import fresh_code, make_account, make_authority
from tests.referrals import journey
from tests.referrals.conftest import Place, signed_in_as


def _sent(app: Flask, place: Place, client: PortalClient, **subject: str) -> str:
    case_url = journey.start_referral(client, place.school_id, place.authority_id)
    journey.fill_in(client, case_url)
    if subject:
        journey.save(client, f"{case_url}/person", {**journey.SUBJECT, **subject})
    journey.send(client, case_url)
    return f"/authorities/{place.authority_id}/cases/{journey.case_id_of(case_url)}"


def _move(client: PortalClient, url: str, data: dict[str, object]) -> object:
    """The move's form as a browser sends it: with the version the page was drawn at."""
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'<input[^>]*name="version"[^>]*>', page)
    assert found, page
    version = re.search(r'value="(\d+)"', found.group(0))
    assert version
    return client.post_form(url, {"version": version.group(1), **data})


def _due(app: Flask, due_at: datetime, case_id: uuid.UUID | None = None) -> None:
    """Open deadlines (of one case, or all) made due at ``due_at``: through the session,
    as the portal changes them, so each case's next deadline follows."""
    with app.app_context():
        query = select(Deadline).where(Deadline.met_at.is_(None))
        if case_id is not None:
            query = query.where(Deadline.case_id == case_id)
        for deadline in db.session.scalars(query):
            deadline.due_at = due_at
        db.session.commit()


DECISION = {"criteria": ["harmed_child"], "harm_category": "physical"}


@pytest.fixture
def lado(app: Flask, place: Place) -> PortalClient:
    return signed_in_as(app, place.lado)


def test_the_queue_lists_open_cases_what_is_due_first(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    later = _sent(app, place, dsl, full_name="Later Person")
    sooner = _sent(app, place, dsl, full_name="Sooner Person")
    _due(app, utcnow() - timedelta(days=3), journey.case_id_of(sooner))  # arrived long ago
    page = html.unescape(
        lado.get(f"/authorities/{place.authority_id}/queue").get_data(as_text=True)
    )
    # The initials as a cell's whole text: "SP" alone could be part of a random token.
    assert ">SP<" in page
    assert ">LP<" in page
    assert "Sooner Person" not in page  # initials only
    assert page.index(">SP<") < page.index(">LP<")
    assert "Overdue" in page
    assert re.search(r"Overdue</p>\s*<p[^>]*>\s*<a[^>]*>1<", page)
    overdue = lado.get(f"/authorities/{place.authority_id}/queue?overdue=yes").get_data(
        as_text=True
    )
    assert ">SP<" in overdue
    assert ">LP<" not in overdue
    assert journey.case_id_of(later).hex[:8] not in overdue


def test_the_queue_counts_and_lists_officers_with_open_cases_even_after_they_leave(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    mine, leavers, _nobodys = (_sent(app, place, dsl) for _ in range(3))
    leaver = make_account(app, Role.LADO, authority_id=place.authority_id, full_name="Lee Leaver")
    _due(app, utcnow() - timedelta(days=1), journey.case_id_of(mine))
    with app.app_context():
        db.session.get_one(Case, journey.case_id_of(mine)).assigned_to_id = place.lado.id
        db.session.get_one(Case, journey.case_id_of(leavers)).assigned_to_id = leaver.id
        membership = db.session.scalars(
            select(Membership).where(Membership.user_id == leaver.id)
        ).one()
        membership.deactivated_at = utcnow()
        db.session.commit()
        authority = db.session.get_one(Authority, place.authority_id)
        figures = queue.counts(authority)
    assert (figures.open, figures.overdue, figures.unassigned) == (3, 1, 1)
    assert figures.officers == {place.lado.id, leaver.id}
    page = html.unescape(
        lado.get(f"/authorities/{place.authority_id}/queue").get_data(as_text=True)
    )
    select_starts = page.index('name="officer"')
    officers = page[select_starts : page.index("</select>", select_starts)]
    assert f'value="{leaver.id}">Lee Leaver<' in officers  # their cases need passing on
    assert f'value="{place.lado.id}"' in officers
    # Once their cases are passed on, they are no longer offered.
    with app.app_context():
        db.session.get_one(Case, journey.case_id_of(leavers)).assigned_to_id = place.lado.id
        db.session.commit()
    page = lado.get(f"/authorities/{place.authority_id}/queue").get_data(as_text=True)
    assert "Lee Leaver" not in page


def test_the_queue_filters_ignore_nonsense(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    _sent(app, place, dsl)
    for query in ("?status=nonsense", "?officer=not-a-uuid", "?page=-4", "?page=x", "?sector=%00"):
        response = lado.get(f"/authorities/{place.authority_id}/queue{query}")
        assert response.status_code == 200, query
    physical = lado.get(f"/authorities/{place.authority_id}/queue?category=physical")
    assert "1 case," in physical.get_data(as_text=True)
    sexual = lado.get(f"/authorities/{place.authority_id}/queue?category=sexual")
    assert "0 cases," in sexual.get_data(as_text=True)


def test_the_case_page_shows_the_referral_and_its_deadlines(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    page = html.unescape(lado.get(case_url).get_data(as_text=True))
    assert journey.SUBJECT["full_name"] in page
    assert journey.INCIDENT["allegation"] in page
    assert "Respond to the referrer" in page
    assert "Start triage" in page
    file_link = re.search(rf'href="({case_url}/files/[0-9a-f-]{{36}})"', page)
    assert file_link
    # The original document: a fresh authenticator code first, however recent the sign-in.
    asked = lado.get(file_link.group(1))
    assert asked.status_code == 302
    confirm = asked.headers["Location"]
    assert confirm.startswith("/account/confirm-it-is-you?next=")
    for code, message in (
        ("", "Enter the security code from your authenticator app"),
        ("000000", "The security code is not right or has already been used"),
    ):
        refused = lado.submit(confirm, {"code": code})
        assert refused.status_code == 200
        assert message in html.unescape(refused.get_data(as_text=True))
    assert place.lado.totp_secret
    given = lado.submit(confirm, {"code": fresh_code(app, place.lado.id, place.lado.totp_secret)})
    assert given.headers["Location"] == file_link.group(1)
    download = lado.get(file_link.group(1))
    assert download.headers["Content-Disposition"].startswith("attachment;")
    # Not asked again for a while; and never sent anywhere but this site.
    assert lado.get(file_link.group(1)).status_code == 200
    elsewhere = lado.submit(
        "/account/confirm-it-is-you?next=https://evil.example/",
        {"code": fresh_code(app, place.lado.id, place.lado.totp_secret)},
    )
    assert elsewhere.headers["Location"] == "/"


def test_a_threshold_decision_needs_a_rationale_and_keeps_what_was_typed(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    assert _move(lado, f"{case_url}/start_triage", {}).status_code == 302  # type: ignore[attr-defined]
    response: Any = _move(
        lado,
        f"{case_url}/accept_referral",
        {"criteria": ["harmed_child"], "harm_category": "sexual", "rationale": " "},
    )
    page = html.unescape(response.get_data(as_text=True))
    assert "Enter the reasons for this decision" in page
    assert 'value="sexual" checked' in page
    response = _move(
        lado,
        f"{case_url}/accept_referral",
        {
            "criteria": ["harmed_child"],
            "harm_category": "sexual",
            "strategy_discussion": "y",
            "rationale": "Meets the harm test",
        },
    )
    assert response.headers["Location"] == case_url
    page = html.unescape(lado.get(case_url).get_data(as_text=True))
    assert "Meets the harm test" in page
    assert "Strategy discussion" in page
    assert "Allegations meeting" in page
    with app.app_context():
        case = db.session.get_one(Case, journey.case_id_of(case_url))
        assert case.status == CaseStatus.REFERRAL
        assert case.harm_category is not None
        assert case.harm_category.value == "sexual"


def test_a_stale_page_is_told_and_loses_nothing(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    _move(lado, f"{case_url}/start_triage", {})
    page = lado.get(f"{case_url}/give_advice").get_data(as_text=True)  # drawn now...
    token = lado.csrf_token
    version = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', page)
    assert version
    colleague = signed_in_as(app, make_account(app, Role.LADO, authority_id=place.authority_id))
    answer = _move(colleague, f"{case_url}/give_advice", {**DECISION, "rationale": "Quick"})
    assert answer.status_code == 302  # type: ignore[attr-defined]
    # ...and sent after the colleague's decision: told, and nothing typed is lost.
    response = lado.post(
        f"{case_url}/give_advice",
        data={
            "csrf_token": token,
            "version": version.group(1),
            **DECISION,
            "rationale": "My careful advice",
        },
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Someone else has changed this case" in page
    assert "My careful advice" in page


def test_a_missed_deadline_asks_why(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    _due(app, utcnow() - timedelta(hours=1))
    form = html.unescape(lado.get(f"{case_url}/start_triage").get_data(as_text=True))
    assert "A time-scale has been missed (respond to the referrer)" in form
    response: Any = _move(lado, f"{case_url}/start_triage", {})
    assert "Select why the time-scale was missed" in html.unescape(response.get_data(as_text=True))
    response = _move(
        lado, f"{case_url}/start_triage", {"delay_reason": "complexity", "delay_detail": "Weekend"}
    )
    assert response.headers["Location"] == case_url
    page = html.unescape(lado.get(case_url).get_data(as_text=True))
    assert "The complexity of the case" in page


def test_moves_the_machine_forbids_are_404(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    for name in ("close", "record_outcome", "submit", "nonsense", "give_advice"):
        assert lado.get(f"{case_url}/{name}").status_code == 404, name
    support = signed_in_as(
        app, make_account(app, Role.BUSINESS_SUPPORT, authority_id=place.authority_id)
    )
    assert support.get(f"{case_url}/start_triage").status_code == 200
    _move(support, f"{case_url}/start_triage", {})
    assert support.get(f"{case_url}/give_advice").status_code == 404  # the LADO decides


def test_another_authority_and_partners_cannot_reach_the_case(
    app: Flask, place: Place, dsl: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    elsewhere = make_authority(app)
    stranger = signed_in_as(app, make_account(app, Role.LADO, authority_id=elsewhere))
    moved = case_url.replace(str(place.authority_id), str(elsewhere))
    for url in (
        case_url,
        moved,
        f"{moved}/start_triage",
        f"/authorities/{place.authority_id}/queue",
    ):
        assert stranger.get(url).status_code == 404, url
    assert stranger.get(f"/authorities/{elsewhere}/queue").status_code == 200
    assert "0 cases," in stranger.get(f"/authorities/{elsewhere}/queue").get_data(as_text=True)
    assert dsl.get(case_url).status_code == 404


def test_notes_are_sealed_kept_when_wrong_and_never_shown_to_partners(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    lado.get(case_url)
    too_long = "x" * 5001
    response = lado.post_form(f"{case_url}/notes", {"text": too_long})
    page = html.unescape(response.get_data(as_text=True))
    assert "The note must be 5,000 characters or fewer" in page
    assert too_long in page
    empty = html.unescape(
        lado.post_form(f"{case_url}/notes", {"text": "  "}).get_data(as_text=True)
    )
    assert "Enter the note" in empty
    response = lado.post_form(f"{case_url}/notes", {"text": "Called the DSL (note-canary)"})
    assert response.headers["Location"] == case_url
    assert "Called the DSL (note-canary)" in lado.get(case_url).get_data(as_text=True)
    partner_view = dsl.get(
        f"/organisations/{place.school_id}/referrals/{journey.case_id_of(case_url)}"
    )
    assert "note-canary" not in partner_view.get_data(as_text=True)
    with app.app_context():
        from sqlalchemy import select, text

        from portal.models import AuditEvent, AuditKind, CaseNote

        note = db.session.scalars(select(CaseNote)).one()
        assert note.author_id == place.lado.id
        raw = db.session.execute(text("SELECT text FROM case_notes")).scalar_one()
        assert b"note-canary" not in bytes(raw)
        added = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.CASE_NOTE_ADDED)
        ).one()
        assert "canary" not in str(added.detail)


def test_a_case_is_assigned_to_an_officer_and_the_queue_filters_by_them(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    lado.get(case_url)
    response = lado.post_form(f"{case_url}/assign", {"officer": str(place.lado.id)})
    assert response.headers["Location"] == case_url
    queue_url = f"/authorities/{place.authority_id}/queue"
    mine = lado.get(f"{queue_url}?officer={place.lado.id}").get_data(as_text=True)
    assert "1 case," in mine
    assert place.lado.full_name in mine
    # Someone who is not one of the authority's officers cannot be chosen.
    outsider = make_account(app, Role.LADO, authority_id=make_authority(app))
    lado.get(case_url)
    lado.post_form(f"{case_url}/assign", {"officer": str(outsider.id)})
    assert "Select one of the officers listed" in lado.get(case_url).get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.get_one(Case, journey.case_id_of(case_url)).assigned_to_id == place.lado.id
        )


def test_a_lado_manager_sees_who_viewed_a_case(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    lado.get(case_url)
    assert "Who viewed this case" not in lado.get(case_url).get_data(as_text=True)
    manager = signed_in_as(
        app, make_account(app, Role.LADO_MANAGER, authority_id=place.authority_id)
    )
    page = html.unescape(manager.get(case_url).get_data(as_text=True))
    assert "Who viewed this case" in page
    viewed = page[page.index("Who viewed this case") :]
    assert place.lado.full_name in viewed
    assert place.dsl.full_name in viewed  # the referrer, on their own pages


def test_the_queue_sorts_by_reference_or_received(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    _sent(app, place, dsl, full_name="Alpha First")
    _sent(app, place, dsl, full_name="Beta Second")
    queue_url = f"/authorities/{place.authority_id}/queue"
    by_reference = lado.get(f"{queue_url}?sort=reference").get_data(as_text=True)
    assert by_reference.index(">AF<") < by_reference.index(">BS<")
    newest_first = lado.get(f"{queue_url}?sort=received").get_data(as_text=True)
    assert newest_first.index(">BS<") < newest_first.index(">AF<")
    assert 'aria-sort="descending"' in newest_first
    assert lado.get(f"{queue_url}?sort=nonsense").status_code == 200


def test_a_progress_summary_meets_the_three_monthly_clock_and_starts_the_next(
    app: Flask, place: Place, dsl: PortalClient, lado: PortalClient
) -> None:
    case_url = _sent(app, place, dsl)
    assert "progress summary" not in html.unescape(lado.get(case_url).get_data(as_text=True))
    _move(lado, f"{case_url}/start_triage", {})
    _move(lado, f"{case_url}/accept_referral", {**DECISION, "rationale": "Threshold met"})
    page = html.unescape(lado.get(case_url).get_data(as_text=True))
    assert "This note is the case's progress summary" in page
    lado.submit(f"{case_url}/notes", {"text": "An ordinary note"})
    lado.submit(f"{case_url}/notes", {"text": "Police still investigating", "progress": "y"})
    with app.app_context():
        clocks = db.session.scalars(
            select(Deadline)
            .where(Deadline.kind == DeadlineKind.PROGRESS_SUMMARY)
            .order_by(Deadline.due_at)
        ).all()
        assert [d.met_at is not None for d in clocks] == [True, False]
        written = clocks[0].met_at
        assert written is not None
        assert clocks[1].due_at == Timescale(3, Unit.MONTHS).due(written)
    assert "Progress summary" in html.unescape(lado.get(case_url).get_data(as_text=True))
