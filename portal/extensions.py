"""The Flask extension objects, created once and bound to the app in create_app()."""

import sqlite3
from typing import Any

from flask import session
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal.models.base import Base


class PortalLoginManager(LoginManager):  # type: ignore[misc]
    """Flask-Login with ``session_protection = "strong"``, checked only for signed-in
    sessions. Flask-Login otherwise "fails" protection for every anonymous session that
    holds anything (a CSRF token), rewriting the session and clearing a remember-me
    cookie we never set, on every anonymous page view."""

    def _session_protection_failed(self) -> bool:
        if not session or "_user_id" not in session:
            return False
        return bool(super()._session_protection_failed())


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = PortalLoginManager()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: enforce foreign keys, and let several gunicorn workers read while one
    writes (WAL) instead of failing with 'database is locked'."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
