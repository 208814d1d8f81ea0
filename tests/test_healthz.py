"""/healthz tells the load balancer whether this instance can reach its database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from portal import create_app
from tests.conftest import settings_for_tests


def test_healthz_answers_ok_when_the_database_answers(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "keys": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_needs_no_sign_in_and_sets_no_cookie(client: Any) -> None:
    response = client.get("/healthz")
    assert "Set-Cookie" not in response.headers


def _unreachable_app(tmp_path: Path, url: str) -> Flask:
    app = create_app(settings_for_tests(url, tmp_path, database_connect_timeout=1))
    return app


def test_healthz_answers_503_when_sqlite_cannot_be_opened(tmp_path: Path) -> None:
    app = _unreachable_app(tmp_path, f"sqlite:///{tmp_path}/missing-folder/portal.db")
    response = app.test_client().get("/healthz", base_url="https://localhost")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable", "keys": "unknown"}


def test_healthz_answers_503_when_postgresql_is_down(tmp_path: Path) -> None:
    # Nothing listens on port 9 of the loopback interface.
    app = _unreachable_app(tmp_path, "postgresql+psycopg://portal@127.0.0.1:9/portal")
    response = app.test_client().get("/healthz", base_url="https://localhost")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_pages_answer_a_friendly_503_when_the_database_is_down(tmp_path: Path) -> None:
    app = _unreachable_app(tmp_path, "postgresql+psycopg://portal@127.0.0.1:9/portal")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: error pages, not tracebacks
    client = app.test_client()
    client.set_cookie("portal-session", "a-session-from-before-the-outage")
    client.set_cookie("__Host-portal-session", "a-session-from-before-the-outage")
    response = client.get("/sign-in", base_url="https://localhost")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "Sorry, the service is unavailable" in body
    assert response.headers["Retry-After"] == "30"
