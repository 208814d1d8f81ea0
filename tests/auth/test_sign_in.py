"""Signing in: password, then an authenticator code; throttling; sessions."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import AuditEvent, Role, User, WebSession, utcnow
from tests.client import PortalClient
from tests.factories import Account, fresh_code, make_account, make_authority, sign_in


@pytest.fixture
def lado(app: Flask) -> Account:
    authority_id = make_authority(app)
    return make_account(app, Role.LADO, authority_id=authority_id)


def audit_kinds(app: Flask) -> list[str]:
    with app.app_context():
        return [
            event.kind.value
            for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at))
        ]


def session_cookie(client: PortalClient) -> str | None:
    cookie = client.get_cookie("__Host-portal-session")
    return cookie.value if cookie else None


def test_signing_in_with_password_and_code_reaches_home(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    response = sign_in(client, app, lado)
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert f"Hello, {lado.full_name}" in home.get_data(as_text=True)
    assert "sign_in.succeeded" in audit_kinds(app)


def test_a_password_alone_does_not_sign_in(client: PortalClient, lado: Account) -> None:
    client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_wrong_password_and_unknown_email_get_the_same_message(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    wrong = client.submit("/sign-in", {"email": lado.email, "password": "not-the-password-1"})
    unknown = client.submit(
        "/sign-in", {"email": "nobody@test.example", "password": "not-the-password-1"}
    )
    for response in (wrong, unknown):
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "Enter a correct email address and password" in body
        assert "There is a problem" in body
        assert "<title>Error: Sign in" in body
    # The email typed is kept, the password is not.
    assert f'value="{lado.email}"' in wrong.get_data(as_text=True)
    assert "not-the-password-1" not in wrong.get_data(as_text=True)
    assert audit_kinds(app).count("sign_in.failed") == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "password": ""}, "Enter an email address"),
        (
            {"email": "not-an-email", "password": "x"},
            "Enter an email address in the correct format",
        ),
        ({"email": "a@test.example", "password": ""}, "Enter your password"),
        (
            {"email": "a" * 400 + "@test.example", "password": "x"},
            "Email address must be 320 characters or fewer",
        ),
    ],
)
def test_sign_in_form_errors(client: PortalClient, data: dict[str, str], message: str) -> None:
    response = client.submit("/sign-in", data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert message in body
    assert 'class="govuk-error-summary' in body
    assert 'href="#email"' in body or 'href="#password"' in body


def test_ten_failures_lock_the_account_for_five_minutes_even_with_the_right_password(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    for _ in range(10):
        client.submit("/sign-in", {"email": lado.email, "password": "wrong-password-123"})
    response = client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert response.status_code == 200
    assert "too many attempts" in response.get_data(as_text=True)
    assert "sign_in.throttled" in audit_kinds(app)
    # Five minutes later the failures no longer count.
    with app.app_context():
        from portal.models import SignInAttempt

        db.session.execute(
            update(SignInAttempt).values(attempted_at=utcnow() - timedelta(minutes=5, seconds=1))
        )
        db.session.commit()
    response = client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert response.headers["Location"] == "/sign-in/security-code"


def test_an_unknown_address_is_throttled_like_a_real_one(client: PortalClient) -> None:
    """Otherwise the lock-out would tell an attacker which addresses have accounts."""
    for _ in range(10):
        client.submit("/sign-in", {"email": "ghost@test.example", "password": "wrong-password-123"})
    response = client.submit("/sign-in", {"email": "ghost@test.example", "password": "x"})
    assert "too many attempts" in response.get_data(as_text=True)


def test_the_throttle_holds_across_workers(
    client: PortalClient, app: Flask, lado: Account, make_app: object
) -> None:
    """Failures counted by one worker stop sign-in at another: they live in the database."""
    for _ in range(10):
        client.submit("/sign-in", {"email": lado.email, "password": "wrong-password-123"})
    other_worker = make_app()  # type: ignore[operator]
    other_client = other_worker.test_client()
    response = other_client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert "too many attempts" in response.get_data(as_text=True)


def test_the_per_address_limit(app: Flask, make_app: object) -> None:
    strict = make_app(sign_in_attempts_per_address=3)  # type: ignore[operator]
    client = strict.test_client()
    for number in range(3):
        client.submit("/sign-in", {"email": f"p{number}@test.example", "password": "wrong-pass-1"})
    response = client.submit("/sign-in", {"email": "fresh@test.example", "password": "x"})
    assert "too many attempts" in response.get_data(as_text=True)
    # Another address is not affected.
    elsewhere = strict.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    response = elsewhere.submit("/sign-in", {"email": "fresh@test.example", "password": "x"})
    assert "Enter a correct email address and password" in response.get_data(as_text=True)


def test_wrong_codes_count_towards_the_lock_out(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    assert lado.totp_secret
    client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    for _ in range(10):
        client.submit("/sign-in/security-code", {"code": "000000"})
    right_code = fresh_code(app, lado.id, lado.totp_secret)
    response = client.submit("/sign-in/security-code", {"code": right_code})
    assert "too many attempts" in response.get_data(as_text=True)
    assert "mfa.failed" in audit_kinds(app)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the security code"),
        ("12345", "must be 6 numbers"),
        ("abcdef", "must be 6 numbers"),
    ],
)
def test_security_code_form_errors(
    client: PortalClient, lado: Account, code: str, message: str
) -> None:
    client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    response = client.submit("/sign-in/security-code", {"code": code})
    assert message in response.get_data(as_text=True)


def test_a_code_cannot_be_used_twice(client: PortalClient, app: Flask, lado: Account) -> None:
    assert lado.totp_secret
    code = fresh_code(app, lado.id, lado.totp_secret)
    client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert client.submit("/sign-in/security-code", {"code": code}).status_code == 302
    client.post_form("/sign-out")

    again = app.test_client()
    again.submit("/sign-in", {"email": lado.email, "password": lado.password})
    response = again.submit("/sign-in/security-code", {"code": code})
    assert response.status_code == 200
    assert "already been used" in response.get_data(as_text=True)


def test_a_code_from_the_wrong_time_is_refused(client: PortalClient, lado: Account) -> None:
    assert lado.totp_secret
    stale = pyotp.TOTP(lado.totp_secret).at(utcnow() - timedelta(minutes=5))
    client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    response = client.submit("/sign-in/security-code", {"code": stale})
    assert response.status_code == 200


def test_the_code_page_needs_the_password_first(client: PortalClient) -> None:
    response = client.get("/sign-in/security-code")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"


def test_signing_in_gives_a_new_session_id(client: PortalClient, app: Flask, lado: Account) -> None:
    client.get("/sign-in")
    before = session_cookie(client)
    assert before
    sign_in(client, app, lado)
    after = session_cookie(client)
    assert after
    assert after != before


def test_session_cookie_is_secure_httponly_and_lax(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    response = client.get("/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-portal-session=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Expires" not in cookie
    assert "Max-Age" not in cookie
    response = sign_in(client, app, lado)
    assert not any("remember" in header for header in response.headers.getlist("Set-Cookie"))


def test_signing_out_ends_the_session_on_the_server(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    sign_in(client, app, lado)
    stolen = session_cookie(client)
    client.get("/")
    response = client.post_form("/sign-out")
    assert response.headers["Location"] == "/signed-out"
    assert "sign_out" in audit_kinds(app)

    replay = app.test_client()
    replay.set_cookie("__Host-portal-session", stolen or "", domain="localhost")
    response = replay.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_sign_out_needs_a_csrf_token(client: PortalClient, app: Flask, lado: Account) -> None:
    sign_in(client, app, lado)
    response = client.post("/sign-out")
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # still signed in


def _age_sessions(app: Flask, **ages: timedelta) -> None:
    with app.app_context():
        values = {column: utcnow() - age for column, age in ages.items()}
        db.session.execute(update(WebSession).values(**values))
        db.session.commit()


def test_fifteen_idle_minutes_sign_the_user_out(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    sign_in(client, app, lado)
    _age_sessions(app, last_seen_at=timedelta(minutes=15, seconds=5))
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/account"
    page = client.get(response.headers["Location"])
    assert "we signed you out" in page.get_data(as_text=True)
    assert "session.timed_out" in audit_kinds(app)


def test_activity_keeps_the_session_alive(client: PortalClient, app: Flask, lado: Account) -> None:
    sign_in(client, app, lado)
    _age_sessions(app, last_seen_at=timedelta(minutes=14))
    assert client.get("/").status_code == 200
    _age_sessions(app, last_seen_at=timedelta(minutes=14))
    assert client.get("/").status_code == 200


def test_twelve_hours_after_sign_in_the_session_ends_however_active(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    sign_in(client, app, lado)
    _age_sessions(app, created_at=timedelta(hours=12, seconds=5), last_seen_at=timedelta(0))
    response = client.get("/")
    assert response.status_code == 302


def test_a_session_used_from_another_browser_is_dropped(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    """Flask-Login's strong session protection."""
    sign_in(client, app, lado)
    client.environ_base["HTTP_USER_AGENT"] = "another-browser/2.0"
    response = client.get("/")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/account", "/account"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/%0d%0aSet-Cookie:%20x=y", "/"),
        ("/account%09", "/"),
    ],
)
def test_next_only_goes_to_local_paths(
    client: PortalClient, app: Flask, lado: Account, next_path: str, expected: str
) -> None:
    response = sign_in(client, app, lado, next_path=next_path)
    assert response.headers["Location"] == expected


def test_signed_in_users_are_sent_home_from_the_sign_in_page(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    sign_in(client, app, lado)
    response = client.get("/sign-in")
    assert response.status_code == 302


def test_a_deactivated_user_cannot_sign_in(client: PortalClient, app: Flask, lado: Account) -> None:
    with app.app_context():
        user = db.session.get(User, lado.id)
        assert user
        user.memberships[0].deactivated_at = utcnow()
        db.session.commit()
    response = client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert "Your account has been deactivated" in response.get_data(as_text=True)


def test_sign_in_records_no_personal_data_in_the_audit_trail(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    client.submit("/sign-in", {"email": "someone@test.example", "password": "wrong-pass-1"})
    sign_in(client, app, lado)
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            flat = repr(event.detail) + str(event.address_hash)
            assert "@" not in flat
            assert "127.0.0.1" not in flat


def test_sign_in_does_not_create_rows_per_page_view(client: PortalClient, app: Flask) -> None:
    for _ in range(3):
        client.get("/sign-in")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == 1


def test_a_right_password_does_not_wipe_wrong_codes(
    client: PortalClient, app: Flask, lado: Account
) -> None:
    """Otherwise whoever has phished the password could guess codes without end."""
    for _ in range(2):
        client.submit("/sign-in", {"email": lado.email, "password": lado.password})
        for _ in range(5):
            client.submit("/sign-in/security-code", {"code": "000000"})
    response = client.submit("/sign-in", {"email": lado.email, "password": lado.password})
    assert "too many attempts" in response.get_data(as_text=True)
