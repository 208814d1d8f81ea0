"""Meetings on a case (the LADO's team arranges them and reads the agencies' answers
side by side) and the information requests partner organisations answer before one."""

from flask import Blueprint

bp = Blueprint("meetings", __name__)

# Importing them registers the routes.
from portal.meetings import checklist_views as checklist_views  # noqa: E402
from portal.meetings import partner_views as partner_views  # noqa: E402
from portal.meetings import views as views  # noqa: E402
