"""The closure letter to the subject, for the LADO's team (AUTHORITY_CASES_WORK, cases
through access.case_or_404): a page to print, and a PDF."""

from __future__ import annotations

import uuid

from flask import Response, abort, render_template
from flask.typing import ResponseReturnValue

from portal import access, closure
from portal.access import Permission, requires
from portal.casework import bp
from portal.models import Authority, Case, User

LETTER_URL = "/authorities/<uuid:authority_id>/cases/<uuid:case_id>/closure-letter"


def _with_outcome(authority: Authority, case_id: uuid.UUID) -> Case:
    case = access.case_or_404(authority, case_id)
    if case.outcome is None:
        abort(404)  # no letter before the outcome
    return case


@bp.route(LETTER_URL)
@requires(Permission.AUTHORITY_CASES_WORK)
def closure_letter(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = _with_outcome(authority, case_id)
    return render_template(
        "casework/closure_letter.html",
        case=case,
        authority=authority,
        letter=closure.letter(case, authority, user),
    )


@bp.route(f"{LETTER_URL}.pdf")
@requires(Permission.AUTHORITY_CASES_WORK)
def closure_letter_pdf(user: User, authority: Authority, case_id: uuid.UUID) -> ResponseReturnValue:
    case = _with_outcome(authority, case_id)
    document = closure.as_pdf(closure.letter(case, authority, user))
    return Response(
        document,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="closure-letter-{case.reference}.pdf"',
            "Cache-Control": "no-store",
        },
    )
