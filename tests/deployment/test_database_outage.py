"""The database goes away and comes back: pages answer a friendly 503 and /healthz says
so meanwhile, and the portal recovers by itself, the signed-in session included."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from portal import create_app
from portal.extensions import db
from portal.models import Role
from tests.client import PortalClient
from tests.conftest import _migrate, settings_for_tests
from tests.factories import make_account, make_authority, sign_in
from tests.postgres import controllable_server, create_database


def test_the_portal_answers_503_while_the_database_is_down_and_recovers_by_itself(
    tmp_path: Path,
) -> None:
    with controllable_server() as server:
        url = create_database(server.url, "portal_outage")
        _migrate(url, tmp_path)
        app: Flask = create_app(settings_for_tests(url, tmp_path, database_connect_timeout=1))
        app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: error pages
        app.test_client_class = PortalClient
        account = make_account(app, Role.LADO, authority_id=make_authority(app))
        client = app.test_client()
        assert isinstance(client, PortalClient)
        sign_in(client, app, account)
        assert client.get("/").status_code == 200

        # "fast": the throwaway server runs without synchronous commit, so stopping it
        # "immediate" could lose the last commits, which a real server would keep.
        server.stop("fast")
        client.check_pages = False  # the 503 page is checked by test_healthz
        down = client.get("/")
        assert down.status_code == 503
        assert "Sorry, the service is unavailable" in down.get_data(as_text=True)
        balancer = app.test_client()  # a load balancer's check carries no cookie
        health = balancer.get("/healthz", base_url="https://localhost")
        assert health.status_code == 503
        assert health.json is not None
        assert health.json["database"] == "unreachable"

        server.start()  # no restart of the portal
        assert balancer.get("/healthz", base_url="https://localhost").status_code == 200
        back = client.get("/")
        assert back.status_code == 200  # still signed in: the session was in the database
        assert "Sign out" in back.get_data(as_text=True)
        with app.app_context():
            db.engine.dispose()
