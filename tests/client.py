"""The test client: HTTPS, CSRF tokens handled as a browser would, every page checked."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.pagecheck import check_page

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class PageCheckError(AssertionError):
    pass


class PortalClient(FlaskClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_USER_AGENT"] = "portal-tests/1.0"
        self.csrf_token: str | None = None
        self.check_pages = True

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("base_url", "https://localhost")
        response = super().open(*args, **kwargs)
        # As a WSGI server does once the body is sent.
        response.get_data()
        response.close()
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            found = CSRF_INPUT.search(html)
            if found:
                self.csrf_token = found.group(1)
            if self.check_pages:
                problems = check_page(html, response.headers.get("Content-Security-Policy"))
                if problems:
                    raise PageCheckError(f"{response.request.path}: " + "; ".join(problems))
        return response

    def submit(
        self, url: str, data: dict[str, Any] | None = None, *, follow_redirects: bool = False
    ) -> TestResponse:
        """GET the form's page (as a browser would), then POST it with its CSRF token."""
        self.get(url)
        return self.post_form(url, data, follow_redirects=follow_redirects)

    def post_form(
        self, url: str, data: dict[str, Any] | None = None, *, follow_redirects: bool = False
    ) -> TestResponse:
        """POST with the CSRF token from the last page seen (a button on a list page)."""
        assert self.csrf_token, "no page with a CSRF token has been seen yet"
        payload = {"csrf_token": self.csrf_token, **(data or {})}
        return self.post(url, data=payload, follow_redirects=follow_redirects)
