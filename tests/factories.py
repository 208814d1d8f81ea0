"""Test data, made through the real models, hashing and database.

Factories return plain values (ids, an Account record), never ORM objects, so nothing
from one app context leaks into the requests a test makes.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from flask import Flask
from werkzeug.test import TestResponse

from portal.auth import mfa, passwords
from portal.extensions import db
from portal.models import (
    Authority,
    Membership,
    Organisation,
    OrganisationAuthority,
    Role,
    User,
    utcnow,
)
from portal.vocabulary import MeetingName, OrganisationType, SectorGroup
from tests.client import PortalClient

PASSWORD = "correct-otter-basalt-91"
_counter = itertools.count(1)


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    full_name: str
    password: str
    totp_secret: str | None


def make_authority(app: Flask, name: str | None = None, code: str | None = None) -> uuid.UUID:
    number = next(_counter)
    with app.app_context():
        authority = Authority(
            id=uuid.uuid4(),
            code=code or f"T{number:03d}",
            display_name=name or f"Testshire Council {number}",
            meeting_name=MeetingName.ASV,
            privacy_notice_url="https://www.testshire.example/privacy",
            minutes_working_days=10,
        )
        db.session.add(authority)
        db.session.commit()
        return authority.id


def make_organisation(
    app: Flask,
    authority_ids: list[uuid.UUID],
    name: str | None = None,
    type: OrganisationType = OrganisationType.EDUCATION,
    sector: SectorGroup = SectorGroup.EDUCATION,
) -> uuid.UUID:
    number = next(_counter)
    with app.app_context():
        organisation = Organisation(
            id=uuid.uuid4(),
            name=name or f"Test Primary School {number}",
            type=type,
            sector=sector,
        )
        db.session.add(organisation)
        for position, authority_id in enumerate(authority_ids):
            db.session.add(
                OrganisationAuthority(
                    organisation_id=organisation.id,
                    authority_id=authority_id,
                    manages_accounts=position == 0,
                )
            )
        db.session.commit()
        return organisation.id


def make_account(
    app: Flask,
    role: Role,
    *,
    authority_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    enrolled: bool = True,
    email: str | None = None,
    full_name: str | None = None,
) -> Account:
    number = next(_counter)
    email = email or f"person{number}@test.example"
    full_name = full_name or f"Test Person {number}"
    secret = mfa.new_totp_secret() if enrolled else None
    with app.app_context():
        user = User(
            id=uuid.uuid4(),
            email=email,
            full_name=full_name,
            password_hash=passwords.hash_password(PASSWORD),
            password_changed_at=utcnow(),
            totp_secret=secret,
            mfa_enrolled_at=utcnow() if enrolled else None,
        )
        user.memberships.append(
            Membership(role=role, authority_id=authority_id, organisation_id=organisation_id)
        )
        db.session.add(user)
        db.session.commit()
        return Account(user.id, email, full_name, PASSWORD, secret)


def add_role(
    app: Flask,
    account: Account,
    role: Role,
    *,
    authority_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
) -> None:
    with app.app_context():
        db.session.add(
            Membership(
                user_id=account.id,
                role=role,
                authority_id=authority_id,
                organisation_id=organisation_id,
            )
        )
        db.session.commit()


def fresh_code(app: Flask, user_id: uuid.UUID, secret: str) -> str:
    """A code the portal will accept now: codes are good once, so this picks the first
    time-step after the last one used, waiting for the clock if all three are spent."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        last = user.totp_last_counter
    totp = pyotp.TOTP(secret)
    while True:
        now = datetime.now(UTC)
        current = totp.timecode(now)
        # The portal accepts the steps either side of the current one. The previous step
        # is only safe while the clock is not about to tick past it.
        seconds_left = totp.interval - now.timestamp() % totp.interval
        candidates = [current, current + 1]
        if seconds_left > 3:
            candidates.insert(0, current - 1)
        for step in candidates:
            if last is None or step > last:
                return str(totp.generate_otp(step))
        time.sleep(1)


def sign_in(
    client: PortalClient, app: Flask, account: Account, *, next_path: str | None = None
) -> TestResponse:
    """The whole sign-in through HTTP: password, then a fresh authenticator code."""
    url = "/sign-in" + (f"?next={next_path}" if next_path else "")
    response = client.submit(url, {"email": account.email, "password": account.password})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/sign-in/security-code"
    assert account.totp_secret is not None
    response = client.submit(
        "/sign-in/security-code", {"code": fresh_code(app, account.id, account.totp_secret)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def step_up(client: PortalClient, app: Flask, account: Account) -> None:
    """A fresh authenticator code, as the pages that release original documents ask."""
    assert account.totp_secret is not None
    response = client.submit(
        "/account/confirm-it-is-you", {"code": fresh_code(app, account.id, account.totp_secret)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
