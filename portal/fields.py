"""Form fields and widgets shared by every area, with GOV.UK wording and markup.

The govuk-frontend-wtf widgets are used as they are, except for two traps fixed here
once: radios and checkboxes lose their legend (the question) when a template passes any
``fieldset`` parameter, and render an empty hint that ``aria-describedby`` points at.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError

from portal.vocabulary import LabelledEnum

EMAIL_MAX_LENGTH = 320
NAME_MAX_LENGTH = 200


class _KeepsQuestion:
    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
        if not field.description:
            params.pop("hint", None)
        legend = params.setdefault("fieldset", {}).setdefault("legend", {})
        legend.setdefault("text", field.label.text)
        return params


class Radios(_KeepsQuestion, GovRadioInput):
    pass


class Checkboxes(_KeepsQuestion, GovCheckboxesInput):
    pass


class _ChoicesSayWhatToSelect:
    """A value not among the choices (a tampered form) gets the field's own "Select ..."
    message, not WTForms' "'x' is not a valid choice for this field", which also echoes
    the value back."""

    validators: list[Any]

    def pre_validate(self, form: Any) -> None:
        try:
            super().pre_validate(form)  # type: ignore[misc]
        except ValidationError:
            required = next((v for v in self.validators if isinstance(v, DataRequired)), None)
            message = required.message if required and required.message else "Select an option"
            raise ValidationError(message) from None


class ChoiceField(_ChoicesSayWhatToSelect, SelectField):
    pass


class RadioChoiceField(_ChoicesSayWhatToSelect, RadioField):
    pass


class MultipleChoiceField(_ChoicesSayWhatToSelect, SelectMultipleField):
    pass


def choices_of(enum_class: type[LabelledEnum]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in enum_class.choices()]


def text_field(
    label: str,
    *,
    required: str,
    max_length: int,
    thing: str | None = None,
    extra: tuple[Any, ...] = (),
    **kwargs: Any,
) -> StringField:
    """A required one-line answer with a GOV.UK "Enter ..." message and a length limit
    worded as "<Thing> must be N characters or fewer"."""
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            DataRequired(message=required),
            Length(
                max=max_length, message=f"{thing or label} must be {max_length} characters or fewer"
            ),
            *extra,
        ],
        **kwargs,
    )


def email_field(label: str = "Email address", **kwargs: Any) -> StringField:
    return text_field(
        label,
        required="Enter an email address",
        max_length=EMAIL_MAX_LENGTH,
        extra=(
            Email(message="Enter an email address in the correct format, like name@example.com"),
        ),
        **kwargs,
    )


def full_name_field(label: str = "Full name", **kwargs: Any) -> StringField:
    return text_field(label, required="Enter their full name", max_length=NAME_MAX_LENGTH, **kwargs)


def password_field(label: str, *, required_message: str, **kwargs: Any) -> PasswordField:
    # Only presence and an upper bound here: the policy (length, deny-list) applies to new
    # passwords and is checked by the form that sets one.
    return PasswordField(
        label,
        widget=GovPasswordInput(),
        validators=[
            DataRequired(message=required_message),
            Length(max=1024, message="Password must be 128 characters or fewer"),
        ],
        **kwargs,
    )


def submit_field(label: str) -> SubmitField:
    return SubmitField(label, widget=GovSubmitInput())


# Control characters have no business in a form answer, and PostgreSQL refuses NUL in
# text outright: they are removed from every answer (tab and new lines are kept).
CONTROL_CHARACTERS = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def without_control_characters(value: Any) -> Any:
    return value.translate(CONTROL_CHARACTERS) if isinstance(value, str) else value


class Form(FlaskForm):
    """Base form. CSRF comes from Flask-WTF; failures are handled by an error page
    (errors.py), not shown as a field error tied to a hidden input."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            # A new unbound field each time: the class-level one is shared by every form
            # instance and must not be changed.
            filters = (without_control_characters, *unbound_field.kwargs.get("filters", ()))
            with_filter = unbound_field.field_class(
                *unbound_field.args, **{**unbound_field.kwargs, "filters": filters}
            )
            return with_filter.bind(form=form, **options)
