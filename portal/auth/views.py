"""Sign-in (password, then authenticator code), set-up, sign-out, password reset,
invitations and the user's own account page. Thin: parse, call the service, render."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, cast

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import Field

from portal import access
from portal.access import View, public, signed_in
from portal.auth import bp, invitations, mfa, resets, service, throttle
from portal.auth.forms import (
    ChangeAuthenticatorForm,
    ChangePasswordForm,
    ConfirmInvitationForm,
    ConfirmWithCodeForm,
    NewPasswordForm,
    PasswordResetRequestForm,
    RecoveryCodeForm,
    SecurityCodeForm,
    SignInForm,
    StepUpForm,
)
from portal.auth.links import LinkAlreadyUsedError, LinkProblem
from portal.auth.service import Outcome
from portal.config import current_settings
from portal.extensions import db
from portal.models import Invitation, PasswordReset, User, utcnow
from portal.places import place_name
from portal.sessions import PENDING_KEY, ServerSession

# Between the password and the authenticator code the user is not signed in yet; the
# half-done sign-in lasts this long.
PENDING_LIFETIME = timedelta(minutes=10)
ENROL_SECRET_KEY = "enrol_secret"  # noqa: S105 (a session key's name, not a secret)
NEXT_KEY = "next"
RESET_KEY = "password_reset_id"
INVITATION_KEY = "invitation_id"
SIGNED_OUT_REASON_KEY = "signed_out_reason"
# The reason when a form posted after the time-out had its answers kept for later.
ANSWERS_KEPT = "timeout_answers_kept"

WRONG_CREDENTIALS = "Enter a correct email address and password"
THROTTLED = (
    "There have been too many attempts to sign in. Wait 5 minutes, then try again, or "
    "reset your password"
)


def address_hash() -> str:
    return throttle.address_key(request.remote_addr or "unknown")


def _server_session() -> ServerSession:
    current = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(current, ServerSession):
        raise RuntimeError("the portal's database session interface is not installed")
    return current


def note_timed_out_session() -> None:
    """before_request: audit a session that just timed out, and tell the user why."""
    timed_out = getattr(session, "timed_out_user_id", None)
    if timed_out is not None:
        service.record_time_out(timed_out, address_hash=address_hash())
        session[SIGNED_OUT_REASON_KEY] = "timeout"


# The half-signed-in state between the two factors


def _begin_pending(user: User) -> None:
    _server_session().regenerate()  # a new session id once the password is proven
    session[PENDING_KEY] = {
        "user_id": str(user.id),
        "since": utcnow().isoformat(),
        "stamp": _security_stamp(user),
    }


def _security_stamp(user: User) -> str:
    """Changes when the password or the authenticator does: a half-done sign-in begun
    before a password reset (by someone who knew the old one) cannot be finished."""
    return f"{user.password_changed_at}|{user.mfa_enrolled_at}"


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not pending:
        return None
    if utcnow() - datetime.fromisoformat(pending["since"]) > PENDING_LIFETIME:
        session.pop(PENDING_KEY, None)
        session.pop(ENROL_SECRET_KEY, None)
        return None
    user = db.session.get(User, uuid.UUID(pending["user_id"]))
    if (
        user is None
        or not user.is_active
        or user.password_hash is None
        or pending.get("stamp") != _security_stamp(user)
    ):
        return None
    return user


def _finish_sign_in(user: User) -> Response:
    session.pop(PENDING_KEY, None)
    session.pop(ENROL_SECRET_KEY, None)
    session.pop(SIGNED_OUT_REASON_KEY, None)
    target = session.pop(NEXT_KEY, None)
    _server_session().regenerate()
    login_user(user)  # no remember-me cookie, ever
    return redirect(target if access.is_safe_next(target) else url_for("main.home"))


def _restart(message: str | None = None) -> Response:
    if message:
        flash(message, "important")
    return redirect(url_for("auth.sign_in"))


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    target = request.args.get("next")
    if access.is_safe_next(target):
        session[NEXT_KEY] = target
    form = SignInForm()
    if form.validate_on_submit():
        result = service.check_password(
            form.email.data, form.password.data, address_hash=address_hash()
        )
        if result.outcome is Outcome.OK and result.user is not None:
            _begin_pending(result.user)
            if result.user.mfa_enrolled:
                return redirect(url_for("auth.security_code"))
            return redirect(url_for("auth.set_up_authenticator"))
        message = {
            Outcome.WRONG: WRONG_CREDENTIALS,
            Outcome.THROTTLED: THROTTLED,
            Outcome.INACTIVE: (
                "Your account has been deactivated. Ask your organisation's administrator "
                "to reactivate it"
            ),
        }[result.outcome]
        form.email.errors = [message]
    reason = session.get(SIGNED_OUT_REASON_KEY)
    return render_template(
        "auth/sign_in.html",
        form=form,
        timed_out=reason in ("timeout", ANSWERS_KEPT),
        answers_kept=reason == ANSWERS_KEPT,
    )


@bp.route("/sign-in/security-code", methods=["GET", "POST"])
@public
def security_code() -> ResponseReturnValue:
    return _second_factor(SecurityCodeForm(), recovery=False)


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
@public
def recovery_code() -> ResponseReturnValue:
    return _second_factor(RecoveryCodeForm(), recovery=True)


def _second_factor(
    form: SecurityCodeForm | RecoveryCodeForm, *, recovery: bool
) -> ResponseReturnValue:
    user = _pending_user()
    if user is None or not user.mfa_enrolled:
        return _restart("Sign in again to continue")
    if form.validate_on_submit():
        outcome = service.check_second_factor(
            user, form.code.data, address_hash=address_hash(), recovery=recovery
        )
        if outcome is Outcome.OK:
            if recovery:
                remaining = mfa.unused_recovery_codes(user)
                flash(
                    f"You used a recovery code. You have {remaining} left. If you have lost "
                    "your phone, change your authenticator app from ‘Your account’.",
                    "important",
                )
            return _finish_sign_in(user)
        if outcome is Outcome.THROTTLED:
            form.code.errors = [THROTTLED]
        elif recovery:
            form.code.errors = ["The recovery code is not right or has already been used"]
        else:
            form.code.errors = [
                "The security code is not right or has already been used. Wait for a new "
                "code in your app and enter it"
            ]
    template = "auth/recovery_code.html" if recovery else "auth/security_code.html"
    return render_template(template, form=form)


@bp.route("/sign-in/set-up-authenticator", methods=["GET", "POST"])
@public
def set_up_authenticator() -> ResponseReturnValue:
    user = _pending_user()
    if user is None or user.mfa_enrolled:
        return _restart("Sign in again to continue")
    secret = session.get(ENROL_SECRET_KEY)
    if not secret:
        secret = session[ENROL_SECRET_KEY] = mfa.new_totp_secret()
    form = SecurityCodeForm()
    if form.validate_on_submit():
        codes = service.save_authenticator(
            user, secret, form.code.data, address_hash=address_hash()
        )
        if isinstance(codes, list):
            _finish_sign_in(user)
            return render_template("auth/recovery_codes.html", codes=codes, first_time=True)
        form.code.errors = [_enrolment_problem(codes)]
    return render_template(
        "auth/set_up_authenticator.html", form=form, **_enrolment_context(user, secret)
    )


def _enrolment_problem(outcome: Outcome) -> str:
    if outcome is Outcome.THROTTLED:
        return THROTTLED
    return (
        "The security code is not right. Check the app shows the account you just added, "
        "wait for a new code and enter it"
    )


def _enrolment_context(user: User, secret: str) -> dict[str, Any]:
    issuer = current_settings().service_name
    uri = mfa.provisioning_uri(secret, user.email, issuer)
    return {
        "qr_code": mfa.qr_code_svg(uri, "QR code to add this account to an authenticator app"),
        "secret": mfa.grouped_secret(secret),
        "issuer": issuer,
    }


@bp.route("/sign-out", methods=["POST"])
@signed_in
def sign_out(user: User) -> ResponseReturnValue:
    service.record_sign_out(user, address_hash=address_hash())
    logout_user()
    _server_session().end()
    return redirect(url_for("auth.signed_out"))


@bp.route("/signed-out")
@public
def signed_out() -> ResponseReturnValue:
    return render_template("auth/signed_out.html")


# Password reset


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password() -> ResponseReturnValue:
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        resets.request_password_reset(form.email.data, address_hash=address_hash())
        return redirect(url_for("auth.reset_link_sent"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/forgot-password/check-your-email")
@public
def reset_link_sent() -> ResponseReturnValue:
    lifetime = current_settings().password_reset_lifetime
    return render_template(
        "auth/reset_link_sent.html", lifetime_hours=round(lifetime.total_seconds() / 3600)
    )


@bp.route("/reset-password/<token>")
@public
def open_password_reset(token: str) -> ResponseReturnValue:
    """The e-mailed link: swap the token for a session entry and drop it from the URL,
    so it is not left in the browser's history or sent on as a referrer."""
    reset = resets.password_reset_for_token(token)
    if isinstance(reset, LinkProblem):
        return _link_problem(reset, "password_reset")
    session[RESET_KEY] = str(reset.id)
    return redirect(url_for("auth.reset_password"))


@bp.route("/reset-password", methods=["GET", "POST"])
@public
def reset_password() -> ResponseReturnValue:
    reset_id = session.get(RESET_KEY)
    if not reset_id:
        return _link_problem(LinkProblem.NOT_FOUND, "password_reset")
    reset = resets.password_reset_by_id(uuid.UUID(reset_id))
    if isinstance(reset, LinkProblem):
        session.pop(RESET_KEY, None)
        return _link_problem(reset, "password_reset")
    form = NewPasswordForm(personal=(reset.user.email, reset.user.full_name))
    if form.validate_on_submit():
        try:
            _reset(reset, form.password.data)
        except LinkAlreadyUsedError:
            return _link_problem(LinkProblem.USED, "password_reset")
        flash("Your password has been changed. Sign in with your new password.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form)


def _reset(reset: PasswordReset, password: str) -> None:
    resets.complete_password_reset(reset, password, address_hash=address_hash())
    session.pop(RESET_KEY, None)
    if current_user.is_authenticated:
        logout_user()


def _link_problem(problem: LinkProblem, kind: str) -> ResponseReturnValue:
    return render_template("auth/link_problem.html", problem=problem.name.lower(), kind=kind), 404


# Invitations


@bp.route("/invitation/<token>")
@public
def open_invitation(token: str) -> ResponseReturnValue:
    invitation = invitations.invitation_for_token(token)
    if isinstance(invitation, LinkProblem):
        return _link_problem(invitation, "invitation")
    session[INVITATION_KEY] = str(invitation.id)
    return redirect(url_for("auth.accept_invitation"))


@bp.route("/invitation", methods=["GET", "POST"])
@public
def accept_invitation() -> ResponseReturnValue:
    invitation_id = session.get(INVITATION_KEY)
    if not invitation_id:
        return _link_problem(LinkProblem.NOT_FOUND, "invitation")
    invitation = invitations.invitation_by_id(uuid.UUID(invitation_id))
    if isinstance(invitation, LinkProblem):
        session.pop(INVITATION_KEY, None)
        return _link_problem(invitation, "invitation")
    context = {
        "invitation": invitation,
        "place": place_name(invitations.place_of(invitation)),
        "roles": [role.label for role in invitation.roles],
    }
    if invitations.acceptance_route(invitation) is invitations.Acceptance.SIGN_IN_FIRST:
        return _accept_for_existing_account(invitation, context)
    if current_user.is_authenticated:
        return render_template("auth/invitation_other_account.html", **context)
    form = NewPasswordForm(personal=(invitation.email, invitation.full_name))
    if form.validate_on_submit():
        try:
            user = invitations.accept_with_password(
                invitation, form.password.data, address_hash=address_hash()
            )
        except (LinkAlreadyUsedError, invitations.InvitationError):
            session.pop(INVITATION_KEY, None)
            return _link_problem(LinkProblem.USED, "invitation")
        session.pop(INVITATION_KEY, None)
        _begin_pending(user)
        if user.mfa_enrolled:  # a returning person keeps their authenticator app
            return redirect(url_for("auth.security_code"))
        return redirect(url_for("auth.set_up_authenticator"))
    returning = invitations.acceptance_route(invitation) is invitations.Acceptance.RETURNING
    return render_template("auth/accept_invitation.html", form=form, returning=returning, **context)


def _accept_for_existing_account(
    invitation: Invitation, context: dict[str, Any]
) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return render_template(
            "auth/invitation_sign_in.html",
            sign_in_url=url_for("auth.sign_in", next=url_for("auth.accept_invitation")),
            **context,
        )
    if current_user.email != invitation.email:
        return render_template("auth/invitation_other_account.html", **context)
    form = ConfirmInvitationForm()
    if form.validate_on_submit():
        try:
            invitations.accept_as_existing_user(
                invitation, current_user._get_current_object(), address_hash=address_hash()
            )
        except LinkAlreadyUsedError:
            session.pop(INVITATION_KEY, None)
            return _link_problem(LinkProblem.USED, "invitation")
        session.pop(INVITATION_KEY, None)
        flash(f"You now have access to {context['place']}.", "success")
        return redirect(url_for("main.home"))
    return render_template("auth/accept_invitation_existing.html", form=form, **context)


# The user's own account


def _current_password_problem(user: User, password: str) -> str | None:
    outcome = service.confirm_password(user, password, address_hash=address_hash())
    if outcome is Outcome.THROTTLED:
        return THROTTLED
    return None if outcome is Outcome.OK else "Your current password is not right"


@bp.route("/account")
@signed_in
def account(user: User) -> ResponseReturnValue:
    return render_template(
        "auth/account.html", account=user, recovery_codes_left=mfa.unused_recovery_codes(user)
    )


@bp.route("/account/change-password", methods=["GET", "POST"])
@signed_in
def change_password(user: User) -> ResponseReturnValue:
    form = ChangePasswordForm(personal=(user.email, user.full_name))
    if form.validate_on_submit():
        problem = _current_password_problem(user, form.current_password.data)
        if problem:
            form.current_password.errors = [problem]
        else:
            service.change_password(
                user,
                form.password.data,
                address_hash=address_hash(),
                current_session_token=_server_session().token,
            )
            flash(
                "Your password has been changed. You have been signed out on other devices.",
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@signed_in
def new_recovery_codes(user: User) -> ResponseReturnValue:
    form = ConfirmWithCodeForm()
    if form.validate_on_submit() and fresh_code_accepted(user, form.code):
        codes = service.regenerate_recovery_codes(user, address_hash=address_hash())
        return render_template("auth/recovery_codes.html", codes=codes, first_time=False)
    return render_template("auth/new_recovery_codes.html", form=form)


# After a fresh code, the pages that release original documents (a case's files, the
# minutes, an agency's files) open without another for this long.
STEPPED_UP_AT = "portal.stepped_up_at"
STEP_UP_LASTS = timedelta(minutes=5)


def stepped_up(view: View) -> View:
    """For a view under an access rule: a fresh authenticator code first, unless one was
    given in the last few minutes (then straight back here)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        given = session.get(STEPPED_UP_AT)
        if given is None or utcnow() - datetime.fromisoformat(given) > STEP_UP_LASTS:
            return redirect(url_for("auth.step_up", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(View, wrapped)


@bp.route("/account/confirm-it-is-you", methods=["GET", "POST"])
@signed_in
def step_up(user: User) -> ResponseReturnValue:
    target = request.args.get("next")
    if not access.is_safe_next(target):
        target = url_for("main.home")
    form = StepUpForm()
    if form.validate_on_submit() and fresh_code_accepted(user, form.code):
        session[STEPPED_UP_AT] = utcnow().isoformat()
        return redirect(target or "/")
    return render_template("auth/step_up.html", form=form, target=target)


def fresh_code_accepted(user: User, field: Field) -> bool:
    """Step-up: a code from the person's authenticator app, asked again however recently
    they signed in (recovery codes, destroying records, a subject access export). Used
    once, under the sign-in throttle; the field says why when it is refused."""
    outcome = service.confirm_code(user, field.data, address_hash=address_hash())
    if outcome is Outcome.OK:
        return True
    field.errors = [
        THROTTLED
        if outcome is Outcome.THROTTLED
        else "The security code is not right or has already been used"
    ]
    return False


@bp.route("/account/change-authenticator", methods=["GET", "POST"])
@signed_in
def change_authenticator(user: User) -> ResponseReturnValue:
    secret = session.get(ENROL_SECRET_KEY)
    if not secret:
        secret = session[ENROL_SECRET_KEY] = mfa.new_totp_secret()
    form = ChangeAuthenticatorForm()
    if form.validate_on_submit():
        problem = _current_password_problem(user, form.current_password.data)
        if problem:
            form.current_password.errors = [problem]
        else:
            codes = service.save_authenticator(
                user,
                secret,
                form.code.data,
                address_hash=address_hash(),
                current_session_token=_server_session().token,
            )
            if isinstance(codes, list):
                session.pop(ENROL_SECRET_KEY, None)
                return render_template(
                    "auth/recovery_codes.html", codes=codes, first_time=False, changed_app=True
                )
            form.code.errors = [_enrolment_problem(codes)]
    return render_template(
        "auth/change_authenticator.html", form=form, **_enrolment_context(user, secret)
    )
