"""Security headers, with exact values."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask

from portal.models import Role
from tests.client import PortalClient
from tests.factories import make_account, make_authority, sign_in


def expected_csp(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "font-src 'self'; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def test_every_page_has_the_security_headers(client: PortalClient) -> None:
    response = client.get("/sign-in")
    headers = response.headers
    nonce = re.search(r"'nonce-([^']+)'", headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]
    assert headers["Content-Security-Policy"] == expected_csp(nonce)
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["Cache-Control"] == "no-store"


def test_the_nonce_changes_per_request_and_matches_the_inline_script(client: PortalClient) -> None:
    nonces = set()
    for _ in range(2):
        response = client.get("/sign-in")
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]
        html = response.get_data(as_text=True)
        script = re.search(r'<script nonce="([^"]+)">(.*?)</script>', html, re.S)
        assert script
        assert script.group(1) == nonce
        nonces.add(nonce)
    assert len(nonces) == 2


def test_the_template_inline_script_is_govuk_frontend_6_3_0s(client: PortalClient) -> None:
    """The one inline script is govuk-frontend's own (FRONTEND.md gives its hash); a
    change here means the template changed and the CSP reasoning must be checked."""
    html = client.get("/sign-in").get_data(as_text=True)
    body = re.search(r'<script nonce="[^"]+">(.*?)</script>', html, re.S).group(1)  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert digest == "GUQ5ad8JK5KmEWmROf3LZd9ge94daqNvd8xy9YS1iDw="


def test_no_hsts_over_plain_http(app: Flask) -> None:
    response = app.test_client().get("/sign-in", base_url="http://localhost")
    assert "Strict-Transport-Security" not in response.headers


def test_signed_in_pages_are_never_cached(client: PortalClient, app: Flask) -> None:
    account = make_account(app, Role.LADO, authority_id=make_authority(app))
    sign_in(client, app, account)
    for url in ("/", "/account"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"


def test_static_assets_are_cacheable_and_never_sniffed(client: PortalClient) -> None:
    response = client.get("/assets/css/portal.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"
