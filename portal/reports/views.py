"""The annual report, for the authority's staff with AUTHORITY_REPORTS_VIEW: a page with
every table (and a print stylesheet), and the same as CSV and XLSX."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from portal.access import Permission, requires
from portal.models import Authority, User, utcnow
from portal.reports import bp
from portal.reports.annual import annual_report, reporting_year_of
from portal.reports.dashboard import dashboard
from portal.reports.export import as_csv, as_xlsx
from portal.reports.forms import RangeForm
from portal.retention import add_years
from portal.workdays import uk_date

REPORTS = Permission.AUTHORITY_REPORTS_VIEW
EARLIEST_YEAR = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year() -> int:
    """The reporting year asked for (its first year), or the current one. A year that is
    not a number, or out of range, is not a page."""
    current = reporting_year_of(uk_date(utcnow()))
    asked = request.args.get("year", "")
    if not asked:
        return current
    if not asked.isdigit() or not EARLIEST_YEAR <= int(asked) <= current:
        abort(404)
    return int(asked)


@bp.route("/authorities/<uuid:authority_id>/reports/annual")
@requires(REPORTS)
def annual(user: User, authority: Authority) -> ResponseReturnValue:
    year = _year()
    current = reporting_year_of(uk_date(utcnow()))
    return render_template(
        "reports/annual.html",
        authority=authority,
        report=annual_report(authority, year),
        years=list(range(current, current - 6, -1)),
        year=year,
    )


@bp.route("/authorities/<uuid:authority_id>/reports/annual.<any(csv, xlsx):kind>")
@requires(REPORTS)
def annual_download(user: User, authority: Authority, kind: str) -> ResponseReturnValue:
    report = annual_report(authority, _year())
    name = f"lado-annual-report-{authority.code.lower()}-{report.first_year}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        return Response(as_csv(report), mimetype="text/csv", headers=headers)
    return Response(as_xlsx(report), mimetype=XLSX, headers=headers)


@bp.route("/authorities/<uuid:authority_id>/reports/timeliness")
@requires(REPORTS)
def timeliness(user: User, authority: Authority) -> ResponseReturnValue:
    """The last 12 months unless a range is chosen; a wrong range says why and shows the
    last 12 months' figures meanwhile."""
    today = uk_date(utcnow())
    default_start = add_years(today, -1) + timedelta(days=1)
    asked = bool(request.args)
    form = RangeForm(
        formdata=request.args if asked else None,
        data=None if asked else {"start": default_start, "end": today},
    )
    start, end = default_start, today
    if asked and form.validate():
        start, end = form.start.required_date, form.end.required_date
    return render_template(
        "reports/timeliness.html",
        authority=authority,
        form=form,
        board=dashboard(authority, start, end),
    )
