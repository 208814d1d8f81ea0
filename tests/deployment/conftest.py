"""Gunicorn instances on 127.0.0.1 over one PostgreSQL database, with the demo data, and
a browser-like client for them: for the deployment tests."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pyotp
import pytest
import requests

from portal import ROOT
from portal.demo import ACCOUNTS, DEMO_PASSWORD
from tests.postgres import create_database, free_port
from tests.referrals import journey

BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ATTEMPTS_PER_ACCOUNT = 4


@dataclass
class Deployment:
    bases: tuple[str, str]
    database_url: str
    env: dict[str, str]
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def worker_of(self, server: int) -> int:
        """The pid of the one worker of gunicorn ``server`` (0 or 1) now."""
        master = self.servers[server].pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(BIN / "flask"), "--app", "wsgi", *args)

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """``command`` run with the deployment's settings, as cron or a shell on the
        server would; its output."""
        return subprocess.run(
            command,
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
    ports = (free_port(), free_port())
    made = Deployment(
        tuple(f"http://127.0.0.1:{port}" for port in ports), url.replace("+psycopg", ""), env
    )  # type: ignore[arg-type]
    for command in (("secrets", "init"), ("keys", "init"), ("db", "upgrade"), ("demo-data",)):
        made.flask(*command)
    made.servers = [
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
        for server in made.servers:
            server.terminate()
        for server in made.servers:
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
        self.raw = response.text
        self.text = html.unescape(response.text)

    def get_data(self, as_text: bool = False) -> str:
        return self.raw


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


def account(email: str) -> Any:
    return next(account for account in ACCOUNTS if account.email == email)


def sign_in(client: Alternating, email: str) -> Response:
    """The password on one instance, the authenticator code on the other."""
    first = client.submit("/sign-in", {"email": email, "password": DEMO_PASSWORD})
    assert first.status_code == 302, first.text
    code = pyotp.TOTP(account(email).totp_secret).now()
    return client.submit("/sign-in/security-code", {"code": code})


def written_referral(deployment: Deployment, client: Alternating, organisation_like: str) -> str:
    """A referral from the demo organisation whose name starts so, to Brookfield, with
    every page answered (no file): ready to check and send. Its task list's path."""
    organisation, brookfield = deployment.query(
        "SELECT o.id, a.id FROM organisations o, authorities a "
        "WHERE o.name LIKE %s AND a.code = 'BRK'",
        f"{organisation_like}%",
    )[0]
    case_url = journey.start_referral(client, organisation, brookfield)  # type: ignore[arg-type]
    for page, answers in journey.PAGES:
        saved = client.submit(f"{case_url}/{page}", answers)
        assert saved.status_code == 302, (page, saved.text[:2000])
    return case_url
