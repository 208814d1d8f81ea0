"""Nothing typed into the referral form is lost to a refused request.

A long answer can outlast the 15-minute idle time-out: the page's POST then arrives with
a session that has just ended, and CSRF protection refuses it before the view runs. If
the form came from that very session (its CSRF token matches the expired session's),
its answers are kept in the encrypted draft as typed, and the user is sent to sign in
and back to the page, where the answers are waiting.

A file over the request limit is refused before the view runs too: the files page then
says so in its own error message rather than on a bare error page.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from flask import current_app, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException

from portal import access
from portal.auth.service import record_time_out
from portal.auth.views import ANSWERS_KEPT, SIGNED_OUT_REASON_KEY, address_hash
from portal.errors import handles_refused_forms
from portal.extensions import db
from portal.models import Case, CaseStatus, User
from portal.referrals import service
from portal.referrals.views import FLOWS, Flow, posted_answers
from portal.sessions import USER_ID_KEY

CSRF_FIELD = "csrf_token"
# Flask-WTF signs the session's raw token with this salt (flask_wtf.csrf.generate_csrf).
CSRF_SALT = "wtf-csrf-token"

ANSWER_PAGES = ("section", "child_new", "child")


def _kept_key(page: str, view_args: dict[str, Any]) -> str:
    if page == "section":
        return str(view_args["key"])
    if page == "child":
        return f"child-{view_args['child_id']}"
    return "child-new"


def _form_from_expired_session(expired: dict[str, Any]) -> bool:
    raw = expired.get(CSRF_FIELD)
    posted = request.form.get(CSRF_FIELD)
    if not raw or not posted:
        return False
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CSRF_SALT)
    try:
        token = serializer.loads(posted)
    except BadData:
        return False
    return isinstance(token, str) and hmac.compare_digest(token, raw)


def _draft_for(user: User, flow: Flow, view_args: dict[str, Any]) -> Case | None:
    """The draft the page is about, if the user may still reach it (else None: the
    ordinary expired-form page is shown and nothing is kept)."""
    if flow.permission.scope == "authority":
        place: Any = access.authority_for(user, view_args["authority_id"], flow.permission)
    else:
        place = access.organisation_for(user, view_args["organisation_id"], flow.permission)
    case = flow.find(place, view_args["case_id"])
    return case if case.status == CaseStatus.DRAFT else None


def keep_answers_after_time_out(error: HTTPException) -> ResponseReturnValue | None:
    expired = getattr(session, "timed_out_data", None)
    if not expired or not expired.get(USER_ID_KEY) or not _form_from_expired_session(expired):
        return None
    user = db.session.get(User, uuid.UUID(expired[USER_ID_KEY]))
    endpoint = (request.endpoint or "").removeprefix("referrals.")
    flow_name, _, page = endpoint.partition("_")
    view_args = request.view_args or {}
    if user is None or not user.is_active or flow_name not in FLOWS:
        return None
    try:
        case = _draft_for(user, FLOWS[flow_name], view_args)
    except HTTPException:  # no longer allowed there, or the draft is gone
        return None
    if case is None:
        return None
    hashed_address = address_hash()
    service.keep_answers(
        user, case, _kept_key(page, view_args), posted_answers(), hashed_address, why="timeout"
    )
    record_time_out(user.id, address_hash=hashed_address)
    session[SIGNED_OUT_REASON_KEY] = ANSWERS_KEPT
    return redirect(url_for("auth.sign_in", next=request.path))


def too_large(error: HTTPException) -> ResponseReturnValue | None:
    """An upload refused for its size comes back to its page with the reason; any other
    refusal (a stale form) gets the standard page, not a wrong "too large"."""
    if error.code != 413:
        return None
    return redirect(f"{request.path}?error=too-large")


for _name in FLOWS:
    handles_refused_forms(*(f"referrals.{_name}_{page}" for page in ANSWER_PAGES))(
        keep_answers_after_time_out
    )
    handles_refused_forms(f"referrals.{_name}_files")(too_large)
