"""A council, a school working with it, two of the school's staff, another school, and
the council's LADO: the people most referral tests need."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from flask import Flask

from portal.models import Role
from tests.client import PortalClient
from tests.factories import Account, make_account, make_authority, make_organisation, sign_in


@dataclass(frozen=True)
class Place:
    authority_id: uuid.UUID
    school_id: uuid.UUID
    dsl: Account
    colleague: Account
    other_school_id: uuid.UUID
    other_dsl: Account
    lado: Account


@pytest.fixture
def place(app: Flask) -> Place:
    authority_id = make_authority(app, code="BRO")
    school_id = make_organisation(app, [authority_id])
    other_school_id = make_organisation(app, [authority_id])
    return Place(
        authority_id=authority_id,
        school_id=school_id,
        dsl=make_account(app, Role.PARTNER_MEMBER, organisation_id=school_id),
        colleague=make_account(app, Role.PARTNER_MEMBER, organisation_id=school_id),
        other_school_id=other_school_id,
        other_dsl=make_account(app, Role.PARTNER_MEMBER, organisation_id=other_school_id),
        lado=make_account(app, Role.LADO, authority_id=authority_id),
    )


def signed_in_as(app: Flask, account: Account) -> PortalClient:
    client = app.test_client()
    assert isinstance(client, PortalClient)
    sign_in(client, app, account)
    return client


@pytest.fixture
def dsl(app: Flask, place: Place) -> PortalClient:
    return signed_in_as(app, place.dsl)
