"""The referral form's pages, served twice: to partners (their organisation's referrals)
and to the LADO's team (logging a contact that came by phone, e-mail or letter).

Each flow's routes are declared below under its own permission; the ``requires``
decorator checks it and passes the place (``organisation`` or ``authority``) in, and the
flow's scoped look-up finds the case in that place or answers 404. Handlers parse the
request, call the service, and render or redirect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from portal import access
from portal.access import Permission, requires, signed_in
from portal.auth.views import address_hash
from portal.extensions import db
from portal.models import Authority, Case, CaseStatus, Organisation, User, utcnow
from portal.pages import drawn_then_committed
from portal.places import Place, place_name
from portal.referrals import bp, forms, service, uploads
from portal.referrals.sections import (
    CONTACT_SECTIONS,
    PARTNER_SECTIONS,
    Section,
    rows_for_child,
)
from portal.vocabulary import Answer
from portal.workdays import uk_date
from portal.workflow import partner_status


@dataclass(frozen=True)
class Flow:
    name: str  # endpoint prefix: referrals.<name>_<page>
    place_url: str
    permission: Permission
    sections: tuple[Section, ...]
    find: Callable[[Any, uuid.UUID], Case]
    noun: str  # "referral" or "contact", in page text

    def url(self, place: Place, page: str, **values: Any) -> str:
        key = "authority_id" if isinstance(place, Authority) else "organisation_id"
        return url_for(f"referrals.{self.name}_{page}", **{key: str(place.id), **values})

    def section(self, key: str) -> Section:
        found = next((s for s in self.sections if s.key == key and s.form), None)
        return found or abort(404)


PARTNER = Flow(
    "referral",
    "/organisations/<uuid:organisation_id>/referrals",
    Permission.ORGANISATION_REFERRALS,
    PARTNER_SECTIONS,
    access.referral_or_404,
    "referral",
)
CONTACT = Flow(
    "contact",
    "/authorities/<uuid:authority_id>/contacts",
    Permission.AUTHORITY_CONTACTS_LOG,
    CONTACT_SECTIONS,
    access.logged_contact_or_404,
    "contact",
)
FLOWS = {flow.name: flow for flow in (PARTNER, CONTACT)}


PLACE_ARGUMENTS = ("organisation", "authority")  # what the access decorator passes in


def _place(scope: dict[str, Any]) -> Place:
    place = scope.get("organisation") or scope.get("authority")
    if not isinstance(place, (Authority, Organisation)):
        raise TypeError("a referral page was routed without its access decorator")
    return place


def _flow(place: Place) -> Flow:
    return CONTACT if isinstance(place, Authority) else PARTNER


def _context(flow: Flow, place: Place, case: Case | None = None) -> dict[str, Any]:
    return {
        "flow": flow,
        "place": place,
        "place_name": place_name(place),
        "case": case,
        "url": lambda page, **values: flow.url(place, page, **values),
        "authority": db.session.get(Authority, case.authority_id) if case else None,
    }


CasePage = Callable[..., ResponseReturnValue]


def _case_page(*, drafts_only: bool) -> Callable[[CasePage], CasePage]:
    """A page about one case: the handler gets the flow, the place and the case (404 if
    the case is not in that place)."""

    def decorator(handler: CasePage) -> CasePage:
        @wraps(handler)
        def wrapped(user: User, case_id: uuid.UUID, **scope: Any) -> ResponseReturnValue:
            place = _place(scope)
            flow = _flow(place)
            case = flow.find(place, case_id)
            if drafts_only and case.status != CaseStatus.DRAFT:
                return redirect(flow.url(place, "case", case_id=case.id))
            rest = {name: value for name, value in scope.items() if name not in PLACE_ARGUMENTS}
            return handler(user, flow, place, case, **rest)

        return wrapped

    return decorator


# Once a case is sent, its draft pages lead to what was sent.
draft_page = _case_page(drafts_only=True)
any_case_page = _case_page(drafts_only=False)


# Where partners start


@bp.route("/referrals")
@signed_in
def index(user: User) -> ResponseReturnValue:
    """ "Your referrals" for someone in one organisation; a choice for someone in several."""
    organisations = [
        db.session.get_one(Organisation, organisation_id)
        for organisation_id in access.organisations_where(user, Permission.ORGANISATION_REFERRALS)
    ]
    if len(organisations) == 1:
        return redirect(PARTNER.url(organisations[0], "list"))
    if not organisations:
        abort(403)
    return render_template("referrals/choose_organisation.html", organisations=organisations)


def referral_list(user: User, **scope: Any) -> ResponseReturnValue:
    organisation = _place(scope)
    if not isinstance(organisation, Organisation):
        abort(404)
    cases = db.session.scalars(
        access.referrals_of(organisation).order_by(Case.updated_at.desc())
    ).all()
    service.record_list_view(user, organisation, len(cases), address_hash())
    return render_template(
        "referrals/list.html",
        cases=cases,
        status=partner_status,
        draft_deleted_on=service.draft_deleted_on,
        authorities={a.id: a for a in db.session.query(Authority).all()},
        **_context(PARTNER, organisation),
    )


def start(user: User, **scope: Any) -> ResponseReturnValue:
    place = _place(scope)
    flow = _flow(place)
    if isinstance(place, Authority):
        form: Any = forms.DeclarationForm()
        if form.validate_on_submit():
            case = service.start_contact(user, place, address_hash())
            return redirect(flow.url(place, "case", case_id=case.id))
        started = db.session.scalars(
            access.contacts_being_logged(place).order_by(Case.updated_at.desc())
        ).all()
        return render_template(
            "referrals/start_contact.html",
            form=form,
            started=started,
            people=access.staff_by_id(place) if started else {},
            draft_deleted_on=service.draft_deleted_on,
            **_context(flow, place),
        )
    authorities = access.authorities_for_referral(place)
    form = forms.StartForm(
        authorities=[SelectChoice(str(a.id), a.display_name) for a in authorities]
    )
    if form.validate_on_submit():
        chosen = next(a for a in authorities if str(a.id) == form.authority.data)
        case = service.start_referral(user, place, chosen, address_hash())
        return redirect(flow.url(place, "case", case_id=case.id))
    return render_template("referrals/start.html", form=form, **_context(flow, place))


# The task list, or once sent, what was sent


@any_case_page
def case_page(user: User, flow: Flow, place: Place, case: Case) -> ResponseReturnValue:
    if case.status == CaseStatus.DRAFT:
        service.note_view(user, case, "task_list", address_hash())
        return drawn_then_committed(
            "referrals/task_list.html",
            sections=[(s, service.section_status(case, s)) for s in flow.sections],
            finished=all(service.is_complete(case, s) for s in flow.sections),
            **_context(flow, place, case),
        )
    service.note_view(user, case, "summary", address_hash())
    return drawn_then_committed(
        "referrals/view.html",
        summary=_summary(flow, case),
        status=partner_status(case),
        updates=db.session.scalars(access.updates_for(place, case.id)).all()
        if isinstance(place, Organisation)
        else None,
        **_context(flow, place, case),
    )


def _summary(flow: Flow, case: Case) -> list[tuple[Section, list[Any]]]:
    return [(section, rows) for section in flow.sections if (rows := section.summary(case))]


# A page of questions


@draft_page
def section_page(user: User, flow: Flow, place: Place, case: Case, key: str) -> ResponseReturnValue:
    section = flow.section(key)
    extra = _form_options(section, case)
    if request.method == "POST":
        if request.form.get("action") == "later":
            service.keep_answers(user, case, key, posted_answers(), address_hash(), why="later")
            flash("Your answers have been saved. You can come back to them at any time.")
            return redirect(flow.url(place, "case", case_id=case.id))
        form = section.form(**extra)  # type: ignore[misc]
        if form.validate_on_submit():
            service.save_section(user, case, section, form, address_hash())
            return redirect(flow.url(place, "case", case_id=case.id))
        # Wrong or missing answers: kept as typed, so leaving the page loses nothing.
        service.keep_answers(user, case, key, posted_answers(), address_hash(), why="errors")
    else:
        kept = service.kept_answers(case, key)
        if kept is not None:
            form = section.form(formdata=MultiDict(_pairs(kept)), **extra)  # type: ignore[misc]
        else:
            form = section.form(data=section.load(case, user), **extra)  # type: ignore[misc]
        service.note_view(user, case, key, address_hash())
    return drawn_then_committed(
        "referrals/section.html", form=form, section=section, **_context(flow, place, case)
    )


def _form_options(section: Section, case: Case) -> dict[str, Any]:
    if section.form is forms.ContactForm:
        authority = db.session.get_one(Authority, case.authority_id)
        return {
            "organisations": [
                SelectChoice(str(o.id), o.name)
                for o in db.session.scalars(access.organisations_of(authority))
            ]
        }
    return {}


def posted_answers() -> dict[str, list[str]]:
    return {name: request.form.getlist(name) for name in request.form}


def _pairs(kept: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, values in kept.items() for value in values]


# The children


@draft_page
def children_page(user: User, flow: Flow, place: Place, case: Case) -> ResponseReturnValue:
    data = {"children_involved": case.children_involved.value if case.children_involved else None}
    form = forms.ChildrenInvolvedForm(data=data)
    if form.validate_on_submit():
        involved = Answer(form.children_involved.data)
        if involved == Answer.NO and case.children:
            form.children_involved.errors = [
                "You have added children: remove them first, or select yes"
            ]
        else:
            service.set_children_involved(user, case, involved, address_hash())
            if involved == Answer.YES and not case.children:
                return redirect(flow.url(place, "child_new", case_id=case.id))
            if involved == Answer.NO:
                return redirect(flow.url(place, "case", case_id=case.id))
            return redirect(flow.url(place, "children", case_id=case.id))
    elif request.method == "GET":
        service.note_view(user, case, "children", address_hash())
    return drawn_then_committed(
        "referrals/children.html",
        form=form,
        rows_for_child=rows_for_child,
        **_context(flow, place, case),
    )


@draft_page
def child_page(
    user: User, flow: Flow, place: Place, case: Case, child_id: uuid.UUID | None = None
) -> ResponseReturnValue:
    child = service.child_of(case, child_id) if child_id else None
    if child_id and child is None:
        abort(404)
    kept_key = f"child-{child_id}" if child_id else "child-new"
    if request.method == "POST":
        form = forms.ChildForm()
        if form.validate_on_submit():
            service.save_child(user, case, child, form, address_hash())
            flash("The child’s details have been saved.", "success")
            return redirect(flow.url(place, "children", case_id=case.id))
        service.keep_answers(user, case, kept_key, posted_answers(), address_hash(), why="errors")
    else:
        kept = service.kept_answers(case, kept_key)
        if kept is not None:
            form = forms.ChildForm(formdata=MultiDict(_pairs(kept)))
        else:
            form = forms.ChildForm(data=service.child_data(child) if child else {})
        service.note_view(user, case, "child", address_hash())
    return drawn_then_committed(
        "referrals/child.html", form=form, child=child, **_context(flow, place, case)
    )


@draft_page
def child_remove(
    user: User, flow: Flow, place: Place, case: Case, child_id: uuid.UUID
) -> ResponseReturnValue:
    child = service.child_of(case, child_id) or abort(404)
    return _confirm_removal(
        flow,
        place,
        case,
        question=f"Remove {child.name} from this {flow.noun}?",
        button="Yes, remove them",
        back_to="children",
        remove=lambda: service.remove_child(user, case, child, address_hash()),
        removed="The child has been removed from this referral.",
    )


def _confirm_removal(
    flow: Flow,
    place: Place,
    case: Case,
    *,
    question: str,
    button: str,
    back_to: str,
    remove: Callable[[], None],
    removed: str,
) -> ResponseReturnValue:
    """A "Remove ...?" page: on yes, remove, say so, and go back to the list."""
    back = flow.url(place, back_to, case_id=case.id)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        remove()
        flash(removed, "success")
        return redirect(back)
    return render_template(
        "referrals/remove.html",
        form=form,
        question=question,
        back=back,
        button=button,
        **_context(flow, place, case),
    )


# Files


@draft_page
def files_page(user: User, flow: Flow, place: Place, case: Case) -> ResponseReturnValue:
    form = forms.UploadForm()
    if request.method == "POST":
        upload = request.files.get("file")
        if form.validate_on_submit():
            if upload is None or not upload.filename:
                form.file.errors = [uploads.NONE_CHOSEN]
            else:
                try:
                    added = service.add_attachment(
                        user, case, upload.stream, upload.filename, address_hash()
                    )
                except uploads.UploadRefusedError as error:
                    form.file.errors = [str(error)]
                else:
                    flash(f"{added.filename} has been uploaded.", "success")
                    return redirect(flow.url(place, "files", case_id=case.id))
    else:
        if request.args.get("error") == "too-large":  # refused before it reached us
            form.file.errors = [uploads.TOO_LARGE]
        service.note_view(user, case, "files", address_hash())
    return drawn_then_committed("referrals/files.html", form=form, **_context(flow, place, case))


@any_case_page
def file_download(
    user: User, flow: Flow, place: Place, case: Case, attachment_id: uuid.UUID
) -> ResponseReturnValue:
    return attachment_download(user, case, attachment_id)


def attachment_download(user: User, case: Case, attachment_id: uuid.UUID) -> ResponseReturnValue:
    """A case's file, to whoever the caller has let reach the case: always as a download,
    never shown in the browser; audited."""
    attachment = service.attachment_of(case, attachment_id) or abort(404)
    opened = service.open_attachment(user, case, attachment, address_hash())
    return send_file(
        opened,
        mimetype=attachment.media_type,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )


@draft_page
def file_remove(
    user: User, flow: Flow, place: Place, case: Case, attachment_id: uuid.UUID
) -> ResponseReturnValue:
    attachment = service.attachment_of(case, attachment_id) or abort(404)
    name = attachment.filename
    return _confirm_removal(
        flow,
        place,
        case,
        question=f"Remove {name}?",
        button="Yes, remove it",
        back_to="files",
        remove=lambda: service.remove_attachment(user, case, attachment, address_hash()),
        removed=f"{name} has been removed.",
    )


# Checking and sending


@draft_page
def check_page(user: User, flow: Flow, place: Place, case: Case) -> ResponseReturnValue:
    form = forms.DeclarationForm()
    found_problems = service.problems(case, flow.sections, uk_date(utcnow()))
    if form.validate_on_submit() and not found_problems:
        service.submit(user, case, flow.sections, address_hash())
        return redirect(flow.url(place, "sent", case_id=case.id))
    if request.method == "GET":
        service.note_view(user, case, "check", address_hash())
    return drawn_then_committed(
        "referrals/check.html",
        form=form,
        problems=found_problems,
        summary=_summary(flow, case),
        **_context(flow, place, case),
    )


@any_case_page
def sent_page(user: User, flow: Flow, place: Place, case: Case) -> ResponseReturnValue:
    if case.status == CaseStatus.DRAFT:
        return redirect(flow.url(place, "case", case_id=case.id))
    service.note_view(user, case, "sent", address_hash())
    return drawn_then_committed(
        "referrals/sent.html", respond_by=service.response_due(case), **_context(flow, place, case)
    )


@draft_page
def delete_page(user: User, flow: Flow, place: Place, case: Case) -> ResponseReturnValue:
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        service.delete_draft(user, case, address_hash(), why="deleted")
        flash(f"The draft {flow.noun} has been deleted.", "success")
        if flow is PARTNER:
            return redirect(flow.url(place, "list"))
        return redirect(url_for("main.home"))
    return render_template(
        "referrals/remove.html",
        form=form,
        question=f"Delete this draft {flow.noun}?",
        hint="Everything in it, including any files, will be deleted. You cannot undo this.",
        back=flow.url(place, "case", case_id=case.id),
        button="Yes, delete it",
        **_context(flow, place, case),
    )


# Routes: each flow's pages under its own permission

CASE = "/<uuid:case_id>"
PAGES: tuple[tuple[str, str, Callable[..., ResponseReturnValue], list[str]], ...] = (
    ("/new", "start", start, ["GET", "POST"]),
    (CASE, "case", case_page, ["GET"]),
    (f"{CASE}/children", "children", children_page, ["GET", "POST"]),
    (f"{CASE}/children/new", "child_new", child_page, ["GET", "POST"]),
    (f"{CASE}/children/<uuid:child_id>", "child", child_page, ["GET", "POST"]),
    (f"{CASE}/children/<uuid:child_id>/remove", "child_remove", child_remove, ["GET", "POST"]),
    (f"{CASE}/files", "files", files_page, ["GET", "POST"]),
    (f"{CASE}/files/<uuid:attachment_id>", "file", file_download, ["GET"]),
    (f"{CASE}/files/<uuid:attachment_id>/remove", "file_remove", file_remove, ["GET", "POST"]),
    (f"{CASE}/check", "check", check_page, ["GET", "POST"]),
    (f"{CASE}/sent", "sent", sent_page, ["GET"]),
    (f"{CASE}/delete", "delete", delete_page, ["GET", "POST"]),
    # Last: any other word after the case is a section's page (404 if there is none).
    (f"{CASE}/<key>", "section", section_page, ["GET", "POST"]),
)

for _flow_def in FLOWS.values():
    _guard = requires(_flow_def.permission)
    for _path, _page, _handler, _methods in PAGES:
        bp.add_url_rule(
            f"{_flow_def.place_url}{_path}",
            f"{_flow_def.name}_{_page}",
            _guard(_handler),
            methods=_methods,
        )
bp.add_url_rule(PARTNER.place_url, "referral_list", requires(PARTNER.permission)(referral_list))
