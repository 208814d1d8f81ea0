"""Sign-in, MFA, invitations, password reset and the user's own account."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import views  # noqa: E402,F401  (registers the routes)
