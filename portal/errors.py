"""GOV.UK-style error pages: 400 (including an expired form), 403, 404, 405, 413, 500,
and 503 when the database cannot be reached."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db

log = logging.getLogger(__name__)

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/400.html",
    413: "errors/413.html",
    500: "errors/500.html",
    503: "errors/503.html",
}


# A page may answer for its own form when the request is refused before its view runs
# (the session behind the form timed out; the upload was too large), so that nothing
# typed is lost: endpoint -> handler, which returns a response, or None for the
# standard error page.
RefusedFormHandler = Callable[[HTTPException], ResponseReturnValue | None]
_REFUSED_FORM_HANDLERS: dict[str, RefusedFormHandler] = {}


def handles_refused_forms(*endpoints: str) -> Callable[[RefusedFormHandler], RefusedFormHandler]:
    def register(handler: RefusedFormHandler) -> RefusedFormHandler:
        for endpoint in endpoints:
            _REFUSED_FORM_HANDLERS[endpoint] = handler
        return handler

    return register


def _handled_by_the_page(error: HTTPException) -> ResponseReturnValue | None:
    handler = _REFUSED_FORM_HANDLERS.get(request.endpoint or "")
    if handler is None or request.method != "POST":
        return None
    return handler(error)


def _page(code: int) -> ResponseReturnValue:
    return render_template(PAGES[code]), code


def _discard_unfinished_work() -> None:
    """A view that stopped part way may have written without committing: undo it now,
    not at teardown, so that (on SQLite) its lock does not hold up the session row
    written on the way out."""
    with contextlib.suppress(DBAPIError):
        db.session.rollback()


def http_error(error: HTTPException) -> ResponseReturnValue:
    _discard_unfinished_work()
    code = error.code or 500
    if code == 503:
        return _unavailable_page()
    if code == 413 and (handled := _handled_by_the_page(error)) is not None:
        return handled
    return _page(code if code in PAGES else 400)


def form_expired(error: CSRFError) -> ResponseReturnValue:
    if (handled := _handled_by_the_page(error)) is not None:
        return handled
    return render_template("errors/form_expired.html"), 400


def database_unavailable(error: Exception) -> ResponseReturnValue:
    log.error("Database unavailable: %s", type(error).__name__)
    _discard_unfinished_work()  # the connection is gone; the pool replaces it
    return _unavailable_page()


def _unavailable_page() -> ResponseReturnValue:
    return render_template("errors/503.html"), 503, {"Retry-After": "30"}


def internal_error(error: InternalServerError) -> ResponseReturnValue:
    # A failure before the view ran (opening the session) lands here, not in the
    # OperationalError handler: show the same 503 for an unreachable database.
    if isinstance(error.original_exception, OperationalError):
        return database_unavailable(error.original_exception)
    _discard_unfinished_work()
    return _page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, form_expired)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InternalServerError, internal_error)
    app.register_error_handler(HTTPException, http_error)
