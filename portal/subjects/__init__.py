"""A subject without an employer: the LADO invites them to an account of their own, and
they read only the updates published to them on their own cases."""

from flask import Blueprint

bp = Blueprint("subjects", __name__)

# Importing them registers the routes.
from portal.subjects import views as views  # noqa: E402
