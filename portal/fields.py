"""Form fields and widgets shared by every area, with GOV.UK wording and markup.

The govuk-frontend-wtf widgets are used as they are, except for two traps fixed here
once: radios and checkboxes lose their legend (the question) when a template passes any
``fieldset`` parameter, and render an empty hint that ``aria-describedby`` points at.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.main import wtforms_errors
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    Field,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.models.base import utcnow
from portal.vocabulary import LabelledEnum
from portal.workdays import uk_date

EMAIL_MAX_LENGTH = 320
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"
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
                max=max_length,
                message=f"{thing or label} must be {max_length:,} characters or fewer",
            ),
            *extra,
        ],
        **kwargs,
    )


def optional_text_field(
    label: str,
    *,
    max_length: int,
    thing: str | None = None,
    extra: tuple[Any, ...] = (),
    **kwargs: Any,
) -> StringField:
    """A one-line answer that may be left empty."""
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(
                max=max_length,
                message=f"{thing or label} must be {max_length:,} characters or fewer",
            ),
            *extra,
        ],
        **kwargs,
    )


def long_text_field(
    label: str,
    *,
    max_length: int,
    required: str | None = None,
    thing: str | None = None,
    **kwargs: Any,
) -> TextAreaField:
    """A text area that shows its limit (GOV.UK character count)."""
    presence = DataRequired(message=required) if required else Optional()
    return TextAreaField(
        label,
        widget=GovCharacterCount(),
        validators=[
            presence,
            Length(
                max=max_length,
                message=f"{thing or label} must be {max_length:,} characters or fewer",
            ),
        ],
        **kwargs,
    )


def character_limit(field: Any) -> int | None:
    """A field's length limit, for GOV.UK's character count (not the HTML attribute,
    which would silently cut off what someone pastes)."""
    return next((v.max for v in field.validators if isinstance(v, Length) and v.max > 0), None)


def radio_field(label: str, choices: list[SelectChoice], *, required: str, **kwargs: Any) -> Any:
    return RadioChoiceField(
        label,
        widget=Radios(),
        choices=choices,
        validators=[DataRequired(message=required)],
        **kwargs,
    )


def email_field(label: str = "Email address", **kwargs: Any) -> StringField:
    return text_field(
        label,
        required="Enter an email address",
        max_length=EMAIL_MAX_LENGTH,
        extra=(Email(message=EMAIL_FORMAT),),
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


def is_whole_number(text: str) -> bool:
    """0-9 only: str.isdigit() also takes "²" and other digits int() refuses."""
    return text.isascii() and text.isdigit()


class DateInput(_KeepsQuestion, GovDateInput):
    """GOV.UK's date input: as for radios, a template that only styles the legend keeps
    the field's label as its words."""


class EndNotBeforeStart:
    """For a form with ``start`` and ``end`` dates: the range may not run backwards."""

    start: DateInputField

    def validate_end(self, field: DateInputField) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("The end date must be on or after the start date")


class DateInputField(Field):
    """A GOV.UK date input (day, month, year), with GOV.UK's error messages.

    ``thing`` names the date in messages ("Date of birth must include a month").
    Empty is allowed unless ``required`` is given; ``past`` refuses future dates; no date
    before 1900 is taken. What was typed is kept and shown again when it is wrong.
    """

    widget = DateInput()
    EARLIEST = datetime.date(1900, 1, 1)

    def __init__(
        self,
        label: str,
        *,
        thing: str,
        required: str | None = None,
        past: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, **kwargs)
        self.thing = thing
        self.required = required
        self.past = past
        self.data: datetime.date | None = None

    # The error summary links to the day input, which is what it focuses.
    @property
    def error_anchor(self) -> str:
        return f"{self.id}-day"

    def _value(self) -> str:
        return ""

    @property
    def required_date(self) -> datetime.date:
        """The date of a required field that has validated."""
        if self.data is None:
            raise ValueError(f"{self.name} has no date: was the form validated?")
        return self.data

    def process_formdata(self, valuelist: list[Any]) -> None:
        # Exactly three parts, whatever was posted: the widget unpacks three.
        parts = [str(value).strip() for value in [*valuelist, "", "", ""][:3]]
        self.raw_data = parts
        self.data = None
        if not any(parts):
            return
        missing = [
            name for name, part in zip(("day", "month", "year"), parts, strict=True) if not part
        ]
        if missing:
            raise ValueError(f"{self.thing} must include a {' and a '.join(missing)}")
        if not all(is_whole_number(part) for part in parts):
            raise ValueError(f"{self.thing} must be a real date")
        if len(parts[2]) != 4:
            raise ValueError("Year must include 4 numbers")
        try:
            self.data = datetime.date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            raise ValueError(f"{self.thing} must be a real date") from None

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # already among the errors
            return
        if self.data is None:
            if self.required:
                raise ValidationError(self.required)
            return
        if self.data < self.EARLIEST:
            raise ValidationError(f"{self.thing} must be after 1 January 1900")
        if self.past and self.data > uk_date(utcnow()):
            raise ValidationError(f"{self.thing} must be today or in the past")


def error_summary(form: Any) -> dict[str, Any]:
    """The error summary for a form, each error linking to what it is about: a date's
    day input rather than its wrapper (GOV.UK's pattern)."""
    summary: dict[str, Any] = wtforms_errors(form)
    anchors = {
        f"#{field.id}": f"#{field.error_anchor}"
        for field in form
        if getattr(field, "error_anchor", None)
    }
    for item in summary["errorList"]:
        item["href"] = anchors.get(item["href"], item["href"])
    return summary
