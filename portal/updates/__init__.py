"""Updates the LADO publishes about a case, redacted per audience (portal.redaction), and
the embargoes that hold them back; partners read those published to their organisation."""

from flask import Blueprint

bp = Blueprint("updates", __name__)

# Importing them registers the routes.
from portal.updates import views as views  # noqa: E402
