"""The LADO's side of a case: the triage queue, the case page, and the moves the state
machine (portal.workflow) allows from it."""

from flask import Blueprint

bp = Blueprint("casework", __name__)

from portal.casework import closure_views as closure_views  # noqa: E402
from portal.casework import retention_views as retention_views  # noqa: E402
from portal.casework import subject_access_views as subject_access_views  # noqa: E402
from portal.casework import views as views  # noqa: E402  (registers the routes)
