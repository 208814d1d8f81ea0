"""Administration: authority settings, staff, partner organisations and their members."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import audit_views, views  # noqa: E402,F401  (registers the routes)
