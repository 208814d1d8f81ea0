"""Figures the authority publishes: the annual report (and, next, the timeliness
dashboard), counted by the database from clear columns."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from portal.reports import views as views  # noqa: E402  (registers the routes)
