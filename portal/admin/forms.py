"""Forms for authority settings, people and organisations."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect
from wtforms import FileField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Optional, ValidationError

from portal.fields import (
    EMAIL_FORMAT,
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    Checkboxes,
    ChoiceField,
    DateInputField,
    EndNotBeforeStart,
    Form,
    MultipleChoiceField,
    RadioChoiceField,
    Radios,
    choices_of,
    email_field,
    full_name_field,
    optional_text_field,
    submit_field,
    text_field,
)
from portal.models import Organisation, Role
from portal.vocabulary import MeetingName, OrganisationType, SectorGroup


def _role_choices(roles: tuple[Role, ...]) -> list[SelectChoice]:
    return [SelectChoice(role.value, role.label) for role in roles]


def roles_field() -> MultipleChoiceField:
    return MultipleChoiceField(
        "Roles",
        widget=Checkboxes(),
        choices=[],
        validators=[DataRequired(message="Select at least one role")],
    )


class _ChoosesRoles(Form):
    def __init__(self, *args: Any, roles: tuple[Role, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roles.choices = _role_choices(roles)

    @property
    def chosen_roles(self) -> list[Role]:
        return [Role(value) for value in self.roles.data]


class InviteForm(_ChoosesRoles):
    full_name = full_name_field()
    email = email_field(description="We will send the invitation to this address")
    roles = roles_field()
    submit = submit_field("Send invitation")


class RolesForm(_ChoosesRoles):
    roles = roles_field()
    submit = submit_field("Save roles")


class ConfirmForm(Form):
    """A button that needs a CSRF token: deactivate, reactivate, reset, resend, cancel."""

    submit = submit_field("Confirm")


class AuthoritySettingsForm(Form):
    display_name = text_field(
        "Name shown in the portal",
        required="Enter the name shown in the portal",
        max_length=NAME_MAX_LENGTH,
        thing="The name",
        description="For example, Brookfield Borough Council",
    )
    meeting_name = RadioChoiceField(
        "What do you call the allegations meeting?",
        widget=Radios(),
        choices=choices_of(MeetingName),
        validators=[DataRequired(message="Select what you call the allegations meeting")],
    )
    privacy_notice_url = text_field(
        "Privacy notice web address",
        required="Enter the web address of your privacy notice",
        max_length=500,
        thing="The web address",
        description="The page on your council's website, starting https://",
    )
    minutes_working_days = RadioChoiceField(
        "Minutes are sent within",
        widget=Radios(),
        choices=[SelectChoice("10", "10 working days"), SelectChoice("15", "15 working days")],
        validators=[DataRequired(message="Select when minutes are sent")],
    )
    contact_email = optional_text_field(
        "The LADO team's email address (optional)",
        max_length=EMAIL_MAX_LENGTH,
        thing="The email address",
        extra=(Email(message=EMAIL_FORMAT),),
        description="Shown to subjects who read their updates in the portal",
    )
    contact_phone = optional_text_field(
        "The LADO team's phone number (optional)",
        max_length=40,
        thing="The phone number",
    )
    submit = submit_field("Save settings")

    def validate_privacy_notice_url(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if not value.startswith("https://") or " " in value or len(value) < len("https://a.b"):
            raise ValidationError(
                "Enter a web address in the correct format, like https://www.example.gov.uk/privacy"
            )


class OrganisationForm(Form):
    name = text_field(
        "Organisation name",
        required="Enter the organisation's name",
        max_length=NAME_MAX_LENGTH,
        thing="The name",
    )
    type = RadioChoiceField(
        "What kind of organisation is it?",
        widget=Radios(),
        choices=choices_of(OrganisationType),
        validators=[DataRequired(message="Select what kind of organisation it is")],
    )
    sector = ChoiceField(
        "Sector",
        description="The sector its staff and volunteers work in",
        widget=GovSelect(),
        choices=[SelectChoice("", "Select a sector"), *choices_of(SectorGroup)],
        validators=[DataRequired(message="Select a sector")],
    )
    submit = submit_field("Save organisation")


class LinkOrganisationForm(Form):
    organisation = ChoiceField(
        "Organisation",
        widget=GovSelect(),
        choices=[],
        validators=[DataRequired(message="Select an organisation")],
    )
    submit = submit_field("Add organisation")

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = [
            SelectChoice("", "Select an organisation"),
            *(SelectChoice(str(o.id), o.name) for o in organisations),
        ]


class TrackerForm(Form):
    file = FileField(
        "The tracker (CSV or XLSX)",
        widget=GovFileInput(),
        description="Smaller than 20MB, with the template's columns",
    )
    check = submit_field("Check the file")
    import_ = submit_field("Check and import")


class AuditFilterForm(EndNotBeforeStart, Form):
    """The audit trail's filters: a GET form (it changes nothing, so no CSRF token)."""

    reference = optional_text_field("Case reference", max_length=30, thing="The reference")
    person = ChoiceField("Who", widget=GovSelect(), choices=[], validators=[Optional()])
    organisation = ChoiceField(
        "Organisation", widget=GovSelect(), choices=[], validators=[Optional()]
    )
    kind = ChoiceField("What", widget=GovSelect(), choices=[], validators=[Optional()])
    start = DateInputField("From", thing="The start date")
    end = DateInputField("To", thing="The end date")
    show = submit_field("Show the events")

    def __init__(
        self,
        *args: Any,
        people: list[SelectChoice],
        organisations: list[SelectChoice],
        kinds: list[SelectChoice],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, meta={"csrf": False}, **kwargs)
        self.person.choices = [SelectChoice("", "Anyone"), *people]
        self.organisation.choices = [SelectChoice("", "Any"), *organisations]
        self.kind.choices = [SelectChoice("", "Anything"), *kinds]
