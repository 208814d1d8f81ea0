"""The referral tests' council and school, and the agencies a meeting asks: a police
force and a children's social care team, each with someone to answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from flask import Flask

from portal.models import Role
from portal.vocabulary import OrganisationType, SectorGroup
from tests.factories import Account, make_account, make_organisation
from tests.referrals.conftest import Place, dsl, place  # noqa: F401  (fixtures shared)


@dataclass(frozen=True)
class Agencies:
    police_id: uuid.UUID
    officer: Account
    social_care_id: uuid.UUID
    social_worker: Account


@pytest.fixture
def agencies(app: Flask, place: Place) -> Agencies:  # noqa: F811  (the shared fixture)
    police_id = make_organisation(
        app,
        [place.authority_id],
        name="Brookshire Police",
        type=OrganisationType.POLICE,
        sector=SectorGroup.POLICE,
    )
    social_care_id = make_organisation(
        app,
        [place.authority_id],
        name="Children's Social Care North",
        type=OrganisationType.CHILDRENS_SOCIAL_CARE,
        sector=SectorGroup.SOCIAL_WORK,
    )
    return Agencies(
        police_id,
        make_account(app, Role.PARTNER_MEMBER, organisation_id=police_id),
        social_care_id,
        make_account(app, Role.PARTNER_MEMBER, organisation_id=social_care_id),
    )
