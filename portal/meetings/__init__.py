"""Meetings on a case (the LADO's team arranges them and reads the agencies' answers
side by side) and the information requests partner organisations answer before one."""

from flask import Blueprint

bp = Blueprint("meetings", __name__)

from portal.meetings import views as views  # noqa: E402  (registers the routes)
