"""Sign-in, MFA and password forms, worded as GOV.UK patterns word them."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
from wtforms.validators import DataRequired, ValidationError

from portal.auth import mfa, passwords
from portal.fields import Form, email_field, password_field, submit_field


class SignInForm(Form):
    email = email_field()
    password = password_field("Password", required_message="Enter your password")
    submit = submit_field("Continue")


class SecurityCodeForm(Form):
    code = StringField(
        "Security code",
        description="The 6-digit code shown in your authenticator app",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter the security code from your authenticator app")],
    )
    submit = submit_field("Continue")

    def validate_code(self, field: StringField) -> None:
        if not mfa.is_well_formed_code(field.data):
            raise ValidationError("The security code must be 6 numbers, like 123456")


class RecoveryCodeForm(Form):
    code = StringField(
        "Recovery code",
        description="One of the 10 codes you saved when you set up your account, like abcde-fghjk",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter a recovery code")],
    )
    submit = submit_field("Continue")

    def validate_code(self, field: StringField) -> None:
        if len(mfa.normalise_code(field.data)) != mfa.RECOVERY_CODE_LENGTH:
            raise ValidationError("A recovery code is 10 letters and numbers, like abcde-fghjk")


def new_password_field(label: str = "Create a password") -> Any:
    return password_field(
        label,
        required_message="Enter a password",
        description=(
            f"Use {passwords.MIN_LENGTH} characters or more. A good way is 3 random words, "
            "like ‘lemon desk planet’"
        ),
    )


class _ChecksNewPassword(Form):
    """Checks ``password`` against the policy, and the person's own name and e-mail."""

    def __init__(self, *args: Any, personal: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.personal = personal

    def validate_password(self, field: Any) -> None:
        problem = passwords.password_problem(field.data, personal=self.personal)
        if problem:
            raise ValidationError(problem)


class NewPasswordForm(_ChecksNewPassword):
    password = new_password_field()
    submit = submit_field("Continue")


class ChangePasswordForm(_ChecksNewPassword):
    current_password = password_field(
        "Current password", required_message="Enter your current password"
    )
    password = new_password_field("New password")
    submit = submit_field("Change password")


class PasswordResetRequestForm(Form):
    email = email_field()
    submit = submit_field("Send a reset link")


class ConfirmWithCodeForm(SecurityCodeForm):
    """Sensitive changes to one's own account ask for a fresh authenticator code."""

    submit = submit_field("Create new recovery codes")


class StepUpForm(SecurityCodeForm):
    """A fresh code before releasing original documents, however recent the sign-in."""


class ChangeAuthenticatorForm(SecurityCodeForm):
    """The code comes from the *new* app; the password proves it is still the owner."""

    current_password = password_field(
        "Current password", required_message="Enter your current password"
    )
    submit = submit_field("Change authenticator app")


class ConfirmInvitationForm(Form):
    submit = submit_field("Accept invitation")
