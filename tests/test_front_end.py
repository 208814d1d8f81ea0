"""The council's brand: GOV.UK Frontend without the crown or the GDS Transport font."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from portal import assets
from tests.client import PortalClient

ROOT = Path(__file__).resolve().parent.parent


def test_built_css_has_no_gds_transport_and_no_gov_uk_images() -> None:
    for name in ("govuk-frontend.min.css", "moj-frontend.min.css"):
        css = (ROOT / "static" / "vendor" / name).read_text()
        for forbidden in assets.FORBIDDEN:
            assert forbidden not in css, (name, forbidden)
        assert "arial" in css


def test_the_font_stripping_itself() -> None:
    css = (
        '@font-face{font-family:"GDS Transport";src:url(/assets/fonts/a.woff2)}'
        ".a{font-family:GDS Transport,arial,sans-serif}/*# sourceMappingURL=x.map */"
    )
    assert assets.strip_gov_uk_brand(css) == ".a{font-family:arial,sans-serif}"


def test_every_asset_a_page_links_exists(client: PortalClient) -> None:
    html = client.get("/sign-in").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)
    assert len(links) >= 4
    for link in links:
        assert client.get(link).status_code == 200, link
    script = client.get("/assets/js/portal.mjs").get_data(as_text=True)
    for imported in re.findall(r'from "(/assets/[^"]+)"', script):
        assert client.get(imported).status_code == 200, imported


def test_the_header_names_the_council(client: PortalClient, app: Flask) -> None:
    from tests.factories import make_authority

    make_authority(app, name="Northtown Borough Council")
    html = client.get("/sign-in").get_data(as_text=True)
    assert "govuk-generic-header" in html
    assert "Northtown Borough Council" in html


def test_error_pages_are_gov_uk_style(client: PortalClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_a_partner_sees_the_council_their_organisation_works_with(app: Flask) -> None:
    from portal.models import Role
    from tests.factories import make_account, make_authority, make_organisation, sign_in

    brookfield = make_authority(app, name="Brookfield Borough Council")
    eastmere = make_authority(app, name="Eastmere City Council")
    school = make_organisation(app, [brookfield])
    trust = make_organisation(app, [brookfield, eastmere])
    for organisation, header, footer in (
        (school, "Brookfield Borough Council", "Brookfield Borough Council"),
        (trust, "LADO partner portal", "Brookfield Borough Council and Eastmere City Council"),
    ):
        partner = make_account(app, Role.PARTNER_MEMBER, organisation_id=organisation)
        browser = app.test_client()
        sign_in(browser, app, partner)  # type: ignore[arg-type]
        html = browser.get("/").get_data(as_text=True)
        logo = re.search(r'homepage-link">\s*(.*?)\s*</a>', html)
        assert logo is not None
        assert logo.group(1) == header
        assert f"of {footer}." in html


def test_a_view_that_fails_after_writing_still_saves_the_session(
    app: Flask, make_app: Callable[[], Flask]
) -> None:
    """What the view wrote is undone before the session row is written: on SQLite, its
    write lock would otherwise hold that up until it failed."""
    from flask import session
    from sqlalchemy import func, select

    from portal.access import public
    from portal.extensions import db
    from portal.models import Authority, WebSession
    from portal.vocabulary import MeetingName
    from tests.factories import make_authority

    authority_id = make_authority(app)
    failing = make_app()

    @public
    def fails_after_writing() -> str:
        authority = db.session.get(Authority, authority_id)
        assert authority
        authority.meeting_name = MeetingName.POT
        db.session.flush()  # holds SQLite's write lock from here
        session["seen"] = "yes"
        raise RuntimeError("a bug")

    failing.add_url_rule("/fails-after-writing", view_func=fails_after_writing)
    failing.config["PROPAGATE_EXCEPTIONS"] = False
    browser = failing.test_client()
    browser.check_pages = False  # type: ignore[attr-defined]
    response = browser.get("/fails-after-writing")
    assert response.status_code == 500
    with failing.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == 1
        authority = db.session.get(Authority, authority_id)
        assert authority
        assert authority.meeting_name == MeetingName.ASV
