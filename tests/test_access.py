"""Every view declares its access rule; anonymous users are sent to sign in; another
tenant's objects are not found (404). Walks ``app.url_map``, so a new route is covered
the day it is added."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import AnyConverter, Rule

from portal.access import PUBLIC, SIGNED_IN, Permission, access_rule_of
from portal.auth import invitations
from portal.extensions import db
from portal.models import Authority, Role, User
from tests.client import PortalClient
from tests.factories import make_account, make_authority, make_organisation, sign_in

# The endpoints anyone may reach. Sign-in's own steps, the links in e-mails and the
# pages every public service must publish; nothing that shows case or account data.
PUBLIC_ENDPOINTS = {
    "main.healthz",
    "main.accessibility_statement",
    "main.cookies",
    "main.privacy",
    "auth.sign_in",
    "auth.security_code",
    "auth.recovery_code",
    "auth.set_up_authenticator",
    "auth.signed_out",
    "auth.forgot_password",
    "auth.reset_link_sent",
    "auth.open_password_reset",
    "auth.reset_password",
    "auth.open_invitation",
    "auth.accept_invitation",
}


def routed_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_every_view_declares_an_access_rule(app: Flask) -> None:
    missing = [
        rule.endpoint
        for rule in routed_rules(app)
        if access_rule_of(app.view_functions[rule.endpoint]) is None
    ]
    assert missing == []


def test_only_the_listed_views_are_public(app: Flask) -> None:
    public = {
        rule.endpoint
        for rule in routed_rules(app)
        if access_rule_of(app.view_functions[rule.endpoint]) == PUBLIC
    }
    assert public == PUBLIC_ENDPOINTS


def test_scoped_views_name_their_scope_in_the_url(app: Flask) -> None:
    """A permission is checked in the authority or organisation the URL names."""
    for rule in routed_rules(app):
        access = access_rule_of(app.view_functions[rule.endpoint])
        if isinstance(access, Permission):
            assert f"{access.scope}_id" in rule.arguments, rule.rule


def test_a_view_without_a_rule_is_refused(app: Flask) -> None:
    """Deny by default: enforce_access refuses an endpoint that forgot its decorator."""
    bare = Flask("bare")
    from portal.access import enforce_access

    bare.before_request(enforce_access)
    bare.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert bare.test_client().get("/forgotten").status_code == 403


def _arguments(rule: Rule, ids: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            values[name] = next(iter(converter.items))
        else:
            values[name] = ids.get(name, uuid.uuid4())
    return values


def _url(app: Flask, rule: Rule, ids: dict[str, Any]) -> str:
    with app.test_request_context():
        from flask import url_for

        values = _arguments(rule, ids)
        if "token" in rule.arguments:
            values["token"] = "a-token"
        return url_for(rule.endpoint, **values)


def test_anonymous_users_are_sent_to_sign_in_from_every_private_view(
    client: PortalClient, app: Flask
) -> None:
    client.get("/sign-in")  # a CSRF token, so POSTs reach the access check
    for rule in routed_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _url(app, rule, {})
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        response = (
            client.get(url)
            if method == "GET"
            else client.post(url, data={"csrf_token": client.csrf_token})
        )
        assert response.status_code == 302, (rule.endpoint, response.status_code)
        assert response.headers["Location"].startswith("/sign-in"), rule.endpoint


@pytest.fixture
def two_tenants(app: Flask) -> dict[str, Any]:
    """Authority A with its admin (who also administers school A); authority B with a
    school, a member of staff and a pending invitation, all of which A must not see."""
    authority_a = make_authority(app)
    authority_b = make_authority(app)
    school_a = make_organisation(app, [authority_a])
    school_b = make_organisation(app, [authority_b])
    admin_a = make_account(app, Role.AUTHORITY_ADMIN, authority_id=authority_a)
    with app.app_context():
        from portal.models import Membership

        db.session.add(
            Membership(user_id=admin_a.id, organisation_id=school_a, role=Role.ORGANISATION_ADMIN)
        )
        db.session.commit()
    staff_b = make_account(app, Role.LADO, authority_id=authority_b)
    member_b = make_account(app, Role.PARTNER_MEMBER, organisation_id=school_b)
    with app.app_context():
        authority = db.session.get(Authority, authority_b)
        actor = db.session.get(User, staff_b.id)
        assert authority
        assert actor
        invitation = invitations.invite(
            actor=actor,
            email="pending@test.example",
            full_name="Pending Person",
            roles=[Role.LADO],
            place=authority,
        )
        invitation_b = invitation.id
    return {
        "admin_a": admin_a,
        "authority_b": authority_b,
        "school_b": school_b,
        "staff_b": staff_b,
        "member_b": member_b,
        "invitation_b": invitation_b,
    }


def test_another_tenants_objects_answer_404_on_every_scoped_view(
    client: PortalClient, app: Flask, two_tenants: dict[str, Any]
) -> None:
    sign_in(client, app, two_tenants["admin_a"])
    client.get("/")
    checked = 0
    for rule in routed_rules(app):
        access = access_rule_of(app.view_functions[rule.endpoint])
        if not isinstance(access, Permission):
            continue
        ids = {
            "authority_id": two_tenants["authority_b"],
            "organisation_id": two_tenants["school_b"],
            "user_id": (
                two_tenants["staff_b"].id
                if access.scope == "authority"
                else two_tenants["member_b"].id
            ),
            "invitation_id": two_tenants["invitation_b"],
        }
        url = _url(app, rule, ids)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            response = (
                client.get(url)
                if method == "GET"
                else client.post(url, data={"csrf_token": client.csrf_token})
            )
            assert response.status_code == 404, (method, url, response.status_code)
            checked += 1
    assert checked >= 15
    # Nothing of B changed.
    with app.app_context():
        staff = db.session.get(User, two_tenants["staff_b"].id)
        assert staff
        assert staff.is_active
        from portal.models import Invitation

        assert db.session.scalars(select(Invitation)).one().is_pending


def test_signed_in_only_views_act_on_the_users_own_account(app: Flask) -> None:
    signed_in_views = sorted(
        rule.endpoint
        for rule in routed_rules(app)
        if access_rule_of(app.view_functions[rule.endpoint]) == SIGNED_IN
    )
    assert signed_in_views == [
        "admin.index",
        "auth.account",
        "auth.change_authenticator",
        "auth.change_password",
        "auth.new_recovery_codes",
        "auth.sign_out",
        "auth.step_up",  # a fresh code from the user's own authenticator
        "main.home",
        "referrals.index",  # chooses among the user's own organisations
    ]
    for endpoint in signed_in_views:
        rule = next(r for r in routed_rules(app) if r.endpoint == endpoint)
        assert not rule.arguments, f"{endpoint} takes ids, so it needs a scoped permission"
