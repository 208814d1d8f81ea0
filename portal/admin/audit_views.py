"""The audit trail of an authority, for its LADO managers and administrators
(AUTHORITY_AUDIT_VIEW): every event filtered by case, person, organisation, kind and
dates, newest first, and the same as CSV. Only the authority's own events are read."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta

from flask import Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, Select, select
from wtforms.fields.choices import SelectChoice

from portal import access, audit
from portal.access import Permission, requires
from portal.admin import bp
from portal.admin.forms import AuditFilterForm
from portal.auth.views import address_hash
from portal.extensions import db
from portal.models import AuditEvent, AuditKind, Authority, Case, User
from portal.reports.export import safe
from portal.workdays import UK, start_of_uk_day

AUDIT = Permission.AUTHORITY_AUDIT_VIEW
PAGE = 50
CSV_LIMIT = 100_000


def _form(authority: Authority) -> tuple[AuditFilterForm, dict[str, User], dict[str, str]]:
    people = {str(u.id): u for u in db.session.scalars(access.staff_of(authority))}
    organisations = {
        str(o.id): o.name for o in db.session.scalars(access.organisations_of(authority))
    }
    form = AuditFilterForm(
        formdata=request.args or None,
        people=[
            SelectChoice(k, u.full_name)
            for k, u in sorted(people.items(), key=lambda p: p[1].full_name)
        ],
        organisations=[SelectChoice(k, name) for k, name in organisations.items()],
        kinds=[SelectChoice(kind.value, kind.value) for kind in AuditKind],
    )
    return form, people, organisations


def _query(authority: Authority, form: AuditFilterForm) -> Select[AuditEvent] | None:
    """The events the filters choose (None: a filter names nothing, so nothing matches)."""
    conditions: list[ColumnElement[bool]] = [AuditEvent.authority_id == authority.id]
    if form.reference.data:
        case_id = db.session.scalar(
            select(Case.id).where(
                Case.authority_id == authority.id,
                Case.reference == form.reference.data.strip().upper(),
            )
        )
        if case_id is None:
            form.reference.errors = ["No case of this authority has that reference"]
            return None
        conditions.append(AuditEvent.case_id == case_id)
    if form.person.data:
        conditions.append(AuditEvent.actor_id == uuid.UUID(form.person.data))
    if form.organisation.data:
        conditions.append(AuditEvent.organisation_id == uuid.UUID(form.organisation.data))
    if form.kind.data:
        conditions.append(AuditEvent.kind == AuditKind(form.kind.data))
    if form.start.data:
        conditions.append(AuditEvent.occurred_at >= start_of_uk_day(form.start.data))
    if form.end.data:
        conditions.append(
            AuditEvent.occurred_at < start_of_uk_day(form.end.data + timedelta(days=1))
        )
    return select(AuditEvent).where(*conditions).order_by(AuditEvent.occurred_at.desc())


@bp.route("/authorities/<uuid:authority_id>/audit")
@requires(AUDIT)
def audit_trail(user: User, authority: Authority) -> ResponseReturnValue:
    form, people, organisations = _form(authority)
    query = _query(authority, form) if (not request.args or form.validate()) else None
    return _page(authority, form, query, people, organisations)


def _page(
    authority: Authority,
    form: AuditFilterForm,
    query: Select[AuditEvent] | None,
    people: dict[str, User],
    organisations: dict[str, str],
) -> ResponseReturnValue:
    asked = request.args.get("page", "1")
    page = max(int(asked), 1) if asked.isdigit() else 1
    events = (
        db.session.scalars(query.offset((page - 1) * PAGE).limit(PAGE + 1)).all()
        if query is not None
        else []
    )
    references = dict(
        db.session.execute(
            select(Case.id, Case.reference).where(
                Case.id.in_({e.case_id for e in events if e.case_id})
            )
        ).all()
    )
    # Partners, subjects and former staff who acted: named too (only this page's).
    others = {str(e.actor_id) for e in events if e.actor_id} - people.keys()
    if others:
        people = people | {
            str(u.id): u
            for u in db.session.scalars(
                select(User).where(User.id.in_([uuid.UUID(i) for i in others]))
            )
        }
    return render_template(
        "admin/audit.html",
        authority=authority,
        form=form,
        events=events[:PAGE],
        more=len(events) > PAGE,
        page=page,
        people=people,
        organisations=organisations,
        references=references,
        query_args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.route("/authorities/<uuid:authority_id>/audit.csv")
@requires(AUDIT)
def audit_csv(user: User, authority: Authority) -> ResponseReturnValue:
    form, people, organisations = _form(authority)
    query = _query(authority, form) if (not request.args or form.validate()) else None
    if query is None:
        return _page(authority, form, None, people, organisations)  # it says what is wrong
    names = {key: person.full_name for key, person in people.items()}  # before the commit
    audit.record(
        AuditKind.AUDIT_EXPORTED,
        actor_id=user.id,
        authority_id=authority.id,
        address_hash=address_hash(),
        filters={k: v for k, v in request.args.items() if v and k != "page"},
    )
    db.session.commit()

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["When (UK)", "What", "Who", "Organisation", "Case", "Detail"])
        for event in db.session.scalars(query.limit(CSV_LIMIT)).yield_per(1000):
            name = _name(names, event.actor_id)
            writer.writerow(
                [
                    safe(cell)
                    for cell in (
                        event.occurred_at.astimezone(UK).strftime("%Y-%m-%d %H:%M:%S"),
                        event.kind.value,
                        name or (str(event.actor_id) if event.actor_id else ""),
                        organisations.get(str(event.organisation_id), "")
                        if event.organisation_id
                        else "",
                        str(event.case_id or ""),
                        ", ".join(f"{k}={v}" for k, v in sorted(event.detail.items())),
                    )
                ]
            )
            yield out.getvalue()
            out.seek(0)
            out.truncate()

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{authority.code.lower()}.csv"'
        },
    )


def _name(names: dict[str, str], actor_id: uuid.UUID | None) -> str | None:
    """Who acted, looked up once per person (staff are known already)."""
    if actor_id is None:
        return None
    key = str(actor_id)
    if key not in names:
        found = db.session.get(User, actor_id)
        names[key] = found.full_name if found else key
    return names[key]
