"""No answer, however odd, produces a 500: every form of the portal is fed hostile values
in every field, by a signed-in administrator and by an anonymous visitor."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter

from portal.models import Role
from tests.client import PortalClient
from tests.factories import make_account, make_authority, make_organisation, sign_in

HOSTILE = [
    "\x00",
    "a\x00b",
    "x" * 20_000,
    "'; DROP TABLE users; --",
    '<script>alert("x")</script>',
    "\u202e\u200b\ufeff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀",
    "../../etc/passwd",
    "%00%0d%0a",
    "١٢٣٤٥٦",  # Arabic-Indic digits: not a security code
    "１２３４５６",  # full-width digits
    "1e309",
    "-1",
    str(uuid.uuid4()),
]
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
INPUT = re.compile(r"<input([^>]*)>")
OPTION = re.compile(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')
# Plausible answers by field name, so that one hostile field at a time gets past the
# others' validation and reaches the services and the database.
GOOD = {
    "email": "fuzz@test.example",
    "password": "velvet-compass-orchard-19",
    "current_password": "correct-otter-basalt-91",
    "full_name": "Fuzz Person",
    "name": "Fuzz School",
    "display_name": "Fuzz Council",
    "privacy_notice_url": "https://fuzz.example/privacy",
    "code": "123456",
}


def good_answers(html: str) -> dict[str, object]:
    """The form as a careful user would fill it: current values, first choices."""
    answers: dict[str, object] = {}
    for match in INPUT.finditer(html):
        attributes = dict(ATTRIBUTE.findall(match.group(1)))
        name, kind = attributes.get("name"), attributes.get("type", "text")
        if not name or name == "csrf_token":
            continue
        if kind in ("radio", "checkbox"):
            answers.setdefault(name, attributes.get("value", "y"))
        else:
            answers[name] = attributes.get("value") or GOOD.get(name, "fuzz")
    for name, options in OPTION.findall(html):
        values = [value for value in re.findall(r'value="([^"]*)"', options) if value]
        if values:
            answers[name] = values[0]
    return answers


def form_urls(app: Flask, ids: dict[str, object]) -> list[str]:
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "POST" not in (rule.methods or ()) or "GET" not in (rule.methods or ()):
                continue
            values = {}
            for name in rule.arguments:
                converter = rule._converters[name]
                values[name] = (
                    next(iter(converter.items))
                    if isinstance(converter, AnyConverter)
                    else ids[name]
                )
            urls.append(url_for(rule.endpoint, **values))
    return urls


def fuzz(client: PortalClient, url: str) -> int:
    page = client.get(url)
    if page.status_code != 200:
        return 0
    html = page.get_data(as_text=True)
    names = {name for name in FIELD.findall(html) if name != "csrf_token"}
    baseline = good_answers(html)
    sent = 0
    for name in sorted(names):
        for value in HOSTILE:
            response = client.post_form(url, {**baseline, name: value})
            assert response.status_code < 500, (url, name, value[:20], response.status_code)
            sent += 1
        # A field sent several times, as a tampered form could.
        response = client.post_form(url, {name: ["a", "b"]})
        assert response.status_code < 500, (url, name)
    return sent


@pytest.mark.parametrize("who", ["administrator", "anonymous"])
def test_every_form_survives_hostile_answers(app: Flask, who: str) -> None:
    authority_id = make_authority(app)
    organisation_id = make_organisation(app, [authority_id])
    admin = make_account(app, Role.AUTHORITY_ADMIN, authority_id=authority_id)
    lado = make_account(app, Role.LADO, authority_id=authority_id)
    client = app.test_client()
    assert isinstance(client, PortalClient)
    if who == "administrator":
        sign_in(client, app, admin)
    ids = {
        "authority_id": authority_id,
        "organisation_id": organisation_id,
        "user_id": lado.id,
        "token": "not-a-token",
    }
    total = 0
    for url in form_urls(app, ids):
        total += fuzz(client, url)
        if who == "administrator" and client.get("/").status_code != 200:
            sign_in(client, app, admin)  # a fuzzed form may have signed us out
    assert total > (200 if who == "administrator" else 20)


def test_the_control_character_filter_is_added_once_per_form(app: Flask) -> None:
    from portal.auth.forms import SignInForm

    with app.test_request_context():
        for _ in range(3):
            form = SignInForm()
        assert len(form.email.filters) == 1
        assert SignInForm.email.kwargs.get("filters", ()) == ()
