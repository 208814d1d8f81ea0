"""The referral form: how a partner tells the LADO about an allegation, and how the
LADO's team logs a contact that came by phone, e-mail or letter. Sections are saved as
the person goes; nothing is lost if they stop, make a mistake or are signed out."""

from flask import Blueprint

bp = Blueprint("referrals", __name__)

from portal.referrals import rescue, views  # noqa: E402,F401  (registers the routes)
