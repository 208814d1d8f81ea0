"""Two gunicorn instances on different ports, one PostgreSQL database, as behind a load
balancer: nothing a user relies on lives in one process's memory. A whole referral is
written with its requests alternating between the instances; the session, the sign-in
throttle, the outbox and submitting once hold across both."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pyotp
import pytest
import requests

from portal import ROOT
from portal.demo import ACCOUNTS, DEMO_PASSWORD
from tests.postgres import create_database
from tests.referrals import journey

BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ATTEMPTS_PER_ACCOUNT = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Deployment:
    bases: tuple[str, str]
    database_url: str
    env: dict[str, str]

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def deployment(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    instance = tmp_path_factory.mktemp("instance")
    url = create_database(postgres_server, f"portal_two_{uuid.uuid4().hex[:8]}")
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SIGN_IN_ATTEMPTS_PER_ACCOUNT": str(ATTEMPTS_PER_ACCOUNT),
    }
    ports = (_free_port(), _free_port())
    made = Deployment(
        tuple(f"http://127.0.0.1:{port}" for port in ports), url.replace("+psycopg", ""), env
    )  # type: ignore[arg-type]
    for command in (("secrets", "init"), ("keys", "init"), ("db", "upgrade"), ("demo-data",)):
        made.flask(*command)
    servers = [
        subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for base in made.bases:
            _wait_until_up(base)
        yield made
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def _wait_until_up(base: str) -> None:
    for _ in range(300):
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not start")


class Response:
    """What tests.referrals.journey reads of a response (status, headers, body)."""

    def __init__(self, response: requests.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.text = html.unescape(response.text)

    def get_data(self, as_text: bool = False) -> str:
        return self.text


class Alternating:
    """A browser whose every request goes to the other instance than the last one, as
    a load balancer without sticky sessions may send it."""

    def __init__(self, bases: tuple[str, str]) -> None:
        self.bases = bases
        self.turn = 0
        self.session = requests.Session()
        self.csrf_token: str | None = None

    def _next(self) -> str:
        self.turn += 1
        return self.bases[self.turn % 2]

    def get(self, path: str, base: str | None = None) -> Response:
        response = self.session.get((base or self._next()) + path, allow_redirects=False)
        found = CSRF.search(response.text)
        if found:
            self.csrf_token = found.group(1)
        return Response(response)

    def post_form(
        self, path: str, data: dict[str, Any] | None = None, base: str | None = None
    ) -> Response:
        payload = {"csrf_token": self.csrf_token, **(data or {})}
        return Response(
            self.session.post((base or self._next()) + path, data=payload, allow_redirects=False)
        )

    def submit(self, path: str, data: dict[str, Any] | None = None) -> Response:
        self.get(path)
        return self.post_form(path, data)


def _account(email: str) -> Any:
    return next(account for account in ACCOUNTS if account.email == email)


def _sign_in(client: Alternating, email: str) -> Response:
    """The password on one instance, the authenticator code on the other."""
    first = client.submit("/sign-in", {"email": email, "password": DEMO_PASSWORD})
    assert first.status_code == 302, first.text
    code = pyotp.TOTP(_account(email).totp_secret).now()
    return client.submit("/sign-in/security-code", {"code": code})


def test_a_session_begun_on_one_instance_carries_on_on_the_other(deployment: Deployment) -> None:
    client = Alternating(deployment.bases)
    signed_in = _sign_in(client, "dsl@oakwood.example")
    assert signed_in.status_code == 302, signed_in.text
    for base in deployment.bases:
        page = client.get("/", base=base)
        assert page.status_code == 200
        assert "Sign out" in page.text
    # Signed out on one: signed out on both.
    client.get("/", base=deployment.bases[0])
    assert client.post_form("/sign-out", base=deployment.bases[0]).status_code == 302
    for base in deployment.bases:
        assert client.get("/", base=base).headers["Location"].startswith("/sign-in")


def test_the_sign_in_limit_counts_attempts_on_both_instances(deployment: Deployment) -> None:
    client = Alternating(deployment.bases)
    for _ in range(ATTEMPTS_PER_ACCOUNT):  # half on each instance
        wrong = client.submit(
            "/sign-in", {"email": "head@oakwood.example", "password": "not-the-password"}
        )
        assert wrong.status_code == 200
        assert "Enter a correct email address and password" in wrong.text
    for base in deployment.bases:
        client.get("/sign-in", base=base)
        refused = client.post_form(
            "/sign-in", {"email": "head@oakwood.example", "password": DEMO_PASSWORD}, base=base
        )
        assert "too many attempts to sign in" in refused.text


def test_a_referral_written_across_both_is_sent_once_and_told_once(
    deployment: Deployment,
) -> None:
    client = Alternating(deployment.bases)
    # Another account than the first test's: a code is good once.
    assert _sign_in(client, "hr@riverside.example").status_code == 302
    riverside, brookfield = deployment.query(
        "SELECT o.id, a.id FROM organisations o, authorities a "
        "WHERE o.name LIKE 'Riverside%%' AND a.code = 'BRK'"
    )[0]
    case_url = journey.start_referral(client, riverside, brookfield)  # type: ignore[arg-type]
    for url, answers in (
        (f"{case_url}/about-you", journey.ABOUT_YOU),
        (f"{case_url}/person", journey.SUBJECT),
        (f"{case_url}/children", journey.CHILDREN_INVOLVED),
        (f"{case_url}/children/new", journey.CHILD),
        (f"{case_url}/what-happened", journey.INCIDENT),
        (f"{case_url}/actions", journey.ACTIONS),
    ):
        saved = client.submit(url, answers)
        assert saved.status_code == 302, (url, saved.text[:2000])
    # "Send" pressed on both instances at the same moment (a double click through a
    # load balancer): one submission.
    client.get(f"{case_url}/check")
    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(
            pool.map(
                lambda base: client.post_form(f"{case_url}/check", {}, base=base),
                deployment.bases,
            )
        )
    assert all(response.status_code in (200, 302) for response in sent), [r.text for r in sent]
    case_id = journey.case_id_of(case_url)
    assert deployment.query(
        "SELECT status, reference IS NOT NULL FROM cases WHERE id = %s", case_id
    ) == [("submitted", True)]
    assert deployment.query(
        "SELECT count(*) FROM case_events WHERE case_id = %s AND transition = 'submit'", case_id
    ) == [(1,)]
    # Its e-mails wait in the outbox table (not in either instance's memory); two senders
    # at once send each exactly once.
    pending = deployment.query("SELECT count(*) FROM outbox_messages WHERE status = 'pending'")
    assert pending[0][0] > 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: deployment.flask("outbox", "send"), range(2)))
    assert deployment.query(
        "SELECT count(*) FROM outbox_messages WHERE status <> 'sent' OR attempts <> 1"
    ) == [(0,)]
