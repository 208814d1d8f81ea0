"""Server-side sessions stored in the database, with idle and absolute time-outs.

The cookie carries a random token only; its SHA-256 is the row's key. Signing in
regenerates the token (no session fixation); signing out deletes the row, so a copied
cookie is worthless afterwards. Rows are read and written with SQLAlchemy Core on their
own short transaction, independent of whatever the view did with ``db.session``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask, Request, Response, abort, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import CallbackDict

from portal import keystore
from portal.crypto.envelope import DecryptionError
from portal.crypto.keys import KeyOwner
from portal.extensions import db
from portal.models import WebSession, utcnow
from portal.tokens import hash_token, new_token

log = logging.getLogger(__name__)

# Writing last_seen_at on every request would turn every page view into a write; a
# minute's resolution is plenty for a 15-minute idle time-out.
TOUCH_INTERVAL = timedelta(seconds=60)
USER_ID_KEY = "_user_id"  # where Flask-Login keeps the signed-in user's id

serializer = TaggedJSONSerializer()
SESSIONS = cast(Table, WebSession.__table__)


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        token: str | None = None,
        created_at: datetime | None = None,
        last_seen_at: datetime | None = None,
        timed_out_user_id: uuid.UUID | None = None,
        timed_out_data: dict[str, Any] | None = None,
        unavailable: bool = False,
    ) -> None:
        def on_update(session: ServerSession) -> None:
            session.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.created_at = created_at
        self.last_seen_at = last_seen_at
        # Set when the browser presented a signed-in session that had just expired: the
        # sign-in page then explains why, and the time-out is audited.
        self.timed_out_user_id = timed_out_user_id
        # What that session held, for this request only: a form posted just after the
        # time-out is matched to it (its CSRF token) so its answers can be kept.
        self.timed_out_data = timed_out_data or {}
        # The session store (the database) could not be reached: the request is answered
        # with a 503 by refuse_if_unavailable, and nothing is written back.
        self.unavailable = unavailable
        self.modified = False
        self.regenerate_requested = False
        self.end_requested = False

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.token is None

    def regenerate(self) -> None:
        """Give this session a new token and a fresh absolute lifetime (at sign-in)."""
        self.regenerate_requested = True
        self.modified = True

    def end(self) -> None:
        """Delete the session on the server and in the browser (sign-out)."""
        self.clear()
        self.end_requested = True


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, idle_timeout: timedelta, absolute_timeout: timedelta) -> None:
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return ServerSession()
        table = SESSIONS
        try:
            # On the request's own connection: the page's queries follow on it, rather
            # than each request taking (and checking) two connections from the pool.
            row = db.session.execute(
                select(table.c.data, table.c.created_at, table.c.last_seen_at).where(
                    table.c.token_hash == hash_token(token)
                )
            ).first()
        except OperationalError:
            db.session.rollback()
            log.error("Session store unreachable")
            return ServerSession(unavailable=True)
        if row is None:
            return ServerSession()
        try:
            data = _open(row.data, token)
        except DecryptionError:
            log.error("A session could not be decrypted; it is discarded")
            self._delete(token)
            return ServerSession()
        now = utcnow()
        if (
            now - row.last_seen_at > self.idle_timeout
            or now - row.created_at > self.absolute_timeout
        ):
            self._delete(token)
            return ServerSession(timed_out_user_id=_user_id(data), timed_out_data=data)
        return ServerSession(
            data, token=token, created_at=row.created_at, last_seen_at=row.last_seen_at
        )

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession) or session.unavailable:
            return
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if session.end_requested:
            if session.token:
                self._delete(session.token)
            response.delete_cookie(
                name,
                domain=domain,
                path=path,
                secure=self.get_cookie_secure(app),
                httponly=True,
                samesite=self.get_cookie_samesite(app),
            )
            return
        now = utcnow()
        if session.regenerate_requested and session.token:
            self._delete(session.token)
            session.token = None
        if session.token is None:
            if not session:
                return  # nothing worth remembering: no row, no cookie
            session.token = new_token()
            self._insert(session, session.token, now)
            response.set_cookie(
                name,
                session.token,
                domain=domain,
                path=path,
                secure=self.get_cookie_secure(app),
                httponly=self.get_cookie_httponly(app),
                samesite=self.get_cookie_samesite(app),
            )
            response.vary.add("Cookie")
            return
        last_seen = session.last_seen_at or now
        if session.modified or now - last_seen > TOUCH_INTERVAL:
            self._update(session, session.token, now)
        response.vary.add("Cookie")

    # The three writes, each in its own short transaction.

    def _insert(self, session: ServerSession, token: str, now: datetime) -> None:
        with db.engine.begin() as connection, keystore.keys_written_with(connection):
            connection.execute(
                insert(SESSIONS).values(
                    token_hash=hash_token(token),
                    user_id=_user_id(session),
                    data=_seal(session, token),
                    created_at=now,
                    last_seen_at=now,
                )
            )

    def _update(self, session: ServerSession, token: str, now: datetime) -> None:
        table = SESSIONS
        with db.engine.begin() as connection, keystore.keys_written_with(connection):
            connection.execute(
                update(table)
                .where(table.c.token_hash == hash_token(token))
                .values(
                    user_id=_user_id(session),
                    data=_seal(session, token),
                    last_seen_at=now,
                )
            )

    def _delete(self, token: str) -> None:
        table = SESSIONS
        with db.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.token_hash == hash_token(token)))


def _seal(session: ServerSession, token: str) -> bytes:
    """Session data can hold names (in a confirmation) and a TOTP secret being set up:
    it is sealed like any personal field, bound to its row."""
    plaintext = serializer.dumps(dict(session)).encode()
    return keystore.keys().seal(
        KeyOwner.deployment(), "web_sessions", "data", hash_token(token), plaintext
    )


def _open(blob: bytes, token: str) -> dict[str, Any]:
    plaintext = keystore.keys().unseal("web_sessions", "data", hash_token(token), blob)
    data: dict[str, Any] = serializer.loads(plaintext.decode())
    return data


PENDING_KEY = "auth_pending"  # a sign-in between the password and the code


def _user_id(session: dict[str, Any]) -> uuid.UUID | None:
    """Whose session this is: signed in, or half way through signing in (so that ending
    all of a user's sessions also ends a sign-in someone else has half done)."""
    value = session.get(USER_ID_KEY) or (session.get(PENDING_KEY) or {}).get("user_id")
    return uuid.UUID(value) if value else None


def end_all_sessions_for(user_id: uuid.UUID, keep_token: str | None = None) -> None:
    """Sign a user out everywhere (deactivation, password reset), in the caller's
    transaction; ``keep_token`` spares the session that asked (a password change)."""
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token is not None:
        statement = statement.where(WebSession.token_hash != hash_token(keep_token))
    db.session.execute(statement)


def purge_expired_sessions(idle_timeout: timedelta, absolute_timeout: timedelta) -> int:
    now = utcnow()
    result = db.session.execute(
        delete(WebSession).where(
            (WebSession.last_seen_at < now - idle_timeout)
            | (WebSession.created_at < now - absolute_timeout)
        )
    )
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def refuse_if_unavailable() -> None:
    """before_request: answer 503 when the session store could not be read."""
    if getattr(session, "unavailable", False):
        abort(503)
