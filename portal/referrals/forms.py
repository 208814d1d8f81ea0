"""The referral form's pages, one form each, with GOV.UK wording for every error.

Limits here are the encrypted columns' limits (portal.models.case), so what passes the
form always fits. Each form says how its fields are shown (``PARAMS``), so one template
renders them all.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovFileInput,
    GovSelect,
    GovTextInput,
)
from wtforms import FileField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Optional, ValidationError

from portal.fields import (
    NAME_MAX_LENGTH,
    Checkboxes,
    ChoiceField,
    DateInputField,
    Form,
    MultipleChoiceField,
    character_limit,
    choices_of,
    email_field,
    is_whole_number,
    long_text_field,
    optional_text_field,
    radio_field,
    submit_field,
    text_field,
)
from portal.vocabulary import (
    Answer,
    ChildGender,
    ContactMethod,
    EmploymentAction,
    HarmCategory,
    RegulatoryBody,
    SourceType,
    SubjectSector,
    ThresholdCriterion,
)

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
NOT_SURE = "not_sure"
PHONE = re.compile(r"^\+?[0-9 ()\-]{7,25}$")
PHONE_MESSAGE = "Enter a phone number, like 01632 960 001 or 07700 900 982"
WIDE = {"classes": "govuk-!-width-three-quarters"}
PHONE_PARAMS = {"type": "tel", "autocomplete": "tel", "classes": "govuk-input--width-20"}


def _phone(form: Any, field: StringField) -> None:
    if field.data and (not PHONE.match(field.data) or sum(c.isdigit() for c in field.data) < 7):
        raise ValidationError(PHONE_MESSAGE)


class SectionForm(Form):
    """A page of the referral. The two buttons: save and continue (answers checked), or
    save and come back later (kept as typed)."""

    PARAMS: ClassVar[dict[str, dict[str, Any]]] = {}

    submit = submit_field("Save and continue")

    def params_for(self, name: str) -> dict[str, Any]:
        params = dict(self.PARAMS.get(name, {}))
        field = self[name]
        if isinstance(field.widget, GovCharacterCount):
            params["maxlength"] = character_limit(field)
            params.setdefault("rows", 6)
        return params

    def questions(self) -> list[Any]:
        """The fields a person answers, in order (not the token or the button)."""
        return [field for field in self if field.name not in ("csrf_token", "submit")]

    def needed_answers(self) -> list[tuple[Any, bool, str]]:
        """Answers needed because of other answers: (field, whether needed, message).
        Checked here, not by validate_<field>, which an optional field's empty value
        never reaches (Optional stops the chain)."""
        return []

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        for field, needed, message in self.needed_answers():
            if needed and not str(field.data or "").strip() and not field.errors:
                field.errors = [message]
                valid = False
        return valid


class AboutYouForm(SectionForm):
    PARAMS: ClassVar = {
        "name": {"autocomplete": "name", "spellcheck": False, **WIDE},
        "role": WIDE,
        "phone": PHONE_PARAMS,
        "email": {"type": "email", "autocomplete": "email", "spellcheck": False, **WIDE},
    }

    name = text_field("Your full name", required="Enter your full name", max_length=NAME_MAX_LENGTH)
    role = text_field(
        "Your job title or role",
        required="Enter your job title or role",
        max_length=200,
        thing="Job title or role",
        description="For example, designated safeguarding lead or HR manager",
    )
    phone = text_field(
        "Phone number",
        required="Enter a phone number",
        max_length=40,
        extra=(_phone,),
        description="The LADO may call you about this referral",
    )
    email = email_field(description="The LADO will reply to this address")


class ContactForm(SectionForm):
    """Who contacted the LADO's team, and how (a contact the team logs)."""

    PARAMS: ClassVar = {
        "referrer_name": {"autocomplete": "off", "spellcheck": False, **WIDE},
        "referrer_role": WIDE,
        "referrer_organisation_name": WIDE,
        "phone": PHONE_PARAMS,
        "email": {"type": "email", "autocomplete": "off", "spellcheck": False, **WIDE},
    }

    source_type = radio_field(
        "Who did the contact come from?",
        choices_of(SourceType),
        required="Select who the contact came from",
    )
    contact_method = radio_field(
        "How did it reach you?",
        choices_of(ContactMethod),
        required="Select how the contact reached you",
    )
    received_on = DateInputField(
        "When did it reach you?",
        thing="The date it reached you",
        required="Enter the date it reached you",
        description="For example, 27 3 2026",
    )
    referrer_name = optional_text_field(
        "Their name",
        max_length=NAME_MAX_LENGTH,
        thing="Name",
        description="Leave this empty if they did not give one",
    )
    referrer_role = optional_text_field(
        "Their role or relationship to the child",
        max_length=200,
        thing="Role or relationship",
        description="For example, parent, headteacher or neighbour",
    )
    referrer_organisation_name = optional_text_field(
        "Their organisation, if any", max_length=200, thing="Organisation"
    )
    organisation = ChoiceField(
        "Is it a partner organisation on this portal?",
        widget=GovSelect(),
        choices=[],
        validators=[Optional()],
        description="If so, it can follow the referral online after you send it",
    )
    phone = optional_text_field(
        "Their phone number", max_length=40, thing="Phone number", extra=(_phone,)
    )
    email = optional_text_field(
        "Their email address",
        max_length=320,
        thing="Email address",
        extra=(
            Email(message="Enter an email address in the correct format, like name@example.com"),
        ),
    )

    def __init__(self, *args: Any, organisations: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = [SelectChoice("", "Not on the portal"), *organisations]

    @property
    def chosen_organisation(self) -> uuid.UUID | None:
        return uuid.UUID(self.organisation.data) if self.organisation.data else None


class SubjectForm(SectionForm):
    PARAMS: ClassVar = {
        "full_name": {"autocomplete": "off", "spellcheck": False, **WIDE},
        "other_names": {"autocomplete": "off", "spellcheck": False, **WIDE},
        "job_title": WIDE,
        "employer": WIDE,
        "regulator_other": WIDE,
    }

    full_name = text_field(
        "Their full name",
        required="Enter the full name of the person the allegation is about",
        max_length=NAME_MAX_LENGTH,
        thing="Full name",
    )
    other_names = optional_text_field(
        "Other names they are known by",
        max_length=500,
        thing="Other names",
        description="For example, a previous surname. Leave empty if none",
    )
    date_of_birth = DateInputField(
        "Their date of birth",
        thing="Date of birth",
        description="If you know it. For example, 27 3 1985",
    )
    address = long_text_field("Their home address", max_length=1000, thing="Address")
    job_title = text_field(
        "Their job title or role",
        required="Enter their job title or role",
        max_length=200,
        thing="Job title or role",
        description="For example, class teacher, foster carer or football coach",
    )
    has_employer = radio_field(
        "Do they have an employer?",
        YES_NO,
        required="Select whether they have an employer",
        description="Self-employed tutors, childminders, foster carers and volunteers with "
        "no organisation may not. The LADO then keeps them informed directly",
    )
    employer = optional_text_field(
        "Their employer or the setting where they work or volunteer",
        max_length=200,
        thing="Employer or setting",
    )
    sector = radio_field(
        "Which sector do they work or volunteer in?",
        choices_of(SubjectSector),
        required="Select the sector they work or volunteer in",
    )
    works_with_children = radio_field(
        "Are they still working with children?",
        choices_of(Answer),
        required="Select whether they are still working with children",
    )
    regulated = radio_field(
        "Are they registered with a regulatory body?",
        choices_of(Answer),
        required="Select whether they are registered with a regulatory body",
    )
    regulator = ChoiceField(
        "Which regulatory body?",
        widget=GovSelect(),
        choices=[SelectChoice("", "Choose a body"), *choices_of(RegulatoryBody)],
        validators=[Optional()],
        description="If they are registered with one",
    )
    regulator_other = optional_text_field(
        "If another body, which one", max_length=200, thing="Regulatory body"
    )

    def needed_answers(self) -> list[tuple[Any, bool, str]]:
        return [
            (
                self.employer,
                self.has_employer.data == "yes",
                "Enter the name of their employer or setting",
            ),
            (
                self.regulator,
                self.regulated.data == "yes",
                "Select which regulatory body they are registered with",
            ),
            (
                self.regulator_other,
                self.regulator.data == RegulatoryBody.OTHER,
                "Enter the name of the regulatory body",
            ),
        ]


class ChildrenInvolvedForm(SectionForm):
    children_involved = radio_field(
        "Is the allegation about particular children?",
        YES_NO,
        required="Select whether the allegation is about particular children",
        description="Select no if, for example, the concern is about their behaviour outside "
        "work and no child is known to be involved",
    )
    submit = submit_field("Continue")


class ChildForm(SectionForm):
    PARAMS: ClassVar = {
        "name": {"autocomplete": "off", "spellcheck": False, **WIDE},
        "age": {"inputmode": "numeric", "classes": "govuk-input--width-3"},
        "setting": WIDE,
    }

    name = text_field(
        "The child's name",
        required="Enter the child's name",
        max_length=NAME_MAX_LENGTH,
        thing="Name",
        description="If you do not know it, describe them, for example ‘a Year 4 pupil’",
    )
    date_of_birth = DateInputField(
        "Their date of birth", thing="Date of birth", description="For example, 27 3 2014"
    )
    age = StringField(
        "Their age at the time, if you do not know their date of birth",
        widget=GovTextInput(),
        validators=[Optional()],
    )
    gender = radio_field("Their gender", choices_of(ChildGender), required="Select their gender")
    setting = optional_text_field(
        "Their school or setting", max_length=200, thing="School or setting"
    )
    special_needs = radio_field(
        "Do they have special educational needs or a disability?",
        choices_of(Answer),
        required="Select whether they have special educational needs or a disability",
    )
    known_to_social_care = radio_field(
        "Are they known to children's social care?",
        choices_of(Answer),
        required="Select whether they are known to children's social care",
    )
    words = long_text_field(
        "What they said, in their own words",
        max_length=5000,
        thing="What they said",
        description="If it was recorded. Write it as they said it",
    )
    submit = submit_field("Save child")

    def needed_answers(self) -> list[tuple[Any, bool, str]]:
        return [
            (
                self.age,
                self.date_of_birth.data is None and not self.date_of_birth.errors,
                "Enter their date of birth or their age",
            )
        ]

    def validate_age(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if not is_whole_number(text):
            raise ValidationError("Age must be a whole number, like 9")
        if int(text) > 17:
            raise ValidationError("Age must be 17 or under: a child is under 18")


class IncidentForm(SectionForm):
    PARAMS: ClassVar = {"location": WIDE, "alleged_by": WIDE}

    incident_on = DateInputField(
        "When did it happen?",
        thing="The date it happened",
        description="If you know the date. For example, 27 3 2026",
    )
    incident_dates_detail = long_text_field(
        "If it happened more than once, or you are not sure when, tell us what you know",
        max_length=1000,
        thing="When it happened",
    )
    location = text_field(
        "Where did it happen?",
        required="Enter where it happened",
        max_length=500,
        thing="Where it happened",
    )
    allegation = long_text_field(
        "What is alleged?",
        max_length=10000,
        required="Enter what is alleged",
        thing="What is alleged",
        description="What the person is said to have done. Do not investigate or question "
        "the child or staff to find out more",
    )
    alleged_by = text_field(
        "Who made the allegation?",
        required="Enter who made the allegation",
        max_length=500,
        thing="Who made the allegation",
        description="For example, the child, a parent or a colleague",
    )
    came_to_light = long_text_field(
        "How did it come to light?",
        max_length=5000,
        required="Enter how it came to light",
        thing="How it came to light",
    )
    became_aware_on = DateInputField(
        "When did you become aware of it?",
        thing="The date you became aware",
        required="Enter the date you became aware of it",
        description="You should tell the LADO within 1 working day of becoming aware",
    )
    late_reason = long_text_field(
        "If you became aware more than 1 working day ago, why is it being reported now?",
        max_length=2000,
        thing="The reason",
    )
    harm_category = radio_field(
        "Which category of harm is it?",
        choices_of(HarmCategory),
        required="Select the category of harm",
    )
    criteria = MultipleChoiceField(
        "Which of these may apply?",
        widget=Checkboxes(),
        choices=[*choices_of(ThresholdCriterion), SelectChoice(NOT_SURE, "I am not sure")],
        validators=[
            DataRequired(message="Select which of these may apply, or select ‘I am not sure’")
        ],
        description="Select all that apply. These are the 4 criteria for a referral to the LADO",
    )

    def validate_became_aware_on(self, field: DateInputField) -> None:
        if self.incident_on.data and field.data and field.data < self.incident_on.data:
            raise ValidationError(
                "The date you became aware must be the same as or after the date it happened"
            )

    def validate_criteria(self, field: MultipleChoiceField) -> None:
        if NOT_SURE in field.data and len(field.data) > 1:
            raise ValidationError(
                "Select the criteria that may apply, or ‘I am not sure’, not both"
            )


class ActionsForm(SectionForm):
    PARAMS: ClassVar = {"crime_reference": {"classes": "govuk-input--width-20"}}

    police_informed = radio_field(
        "Have the police been told?", YES_NO, required="Select whether the police have been told"
    )
    crime_reference = optional_text_field(
        "Crime reference number",
        max_length=100,
        thing="Crime reference number",
        description="If the police gave you one",
    )
    csc_informed = radio_field(
        "Has children's social care been told?",
        YES_NO,
        required="Select whether children's social care has been told",
    )
    parents_informed = radio_field(
        "Have the child's parents or carers been told?",
        choices_of(Answer),
        required="Select whether the child's parents or carers have been told",
    )
    employment_action = radio_field(
        "What has the employer done about the person so far?",
        choices_of(EmploymentAction),
        required="Select what the employer has done so far",
        description="Do not suspend or dismiss anyone before talking to the LADO, unless "
        "a child is at immediate risk",
    )
    other_agencies = long_text_field(
        "Which other agencies have been told?",
        max_length=2000,
        thing="Other agencies",
        description="For example, Ofsted or the school's governors. Leave empty if none",
    )


class StartForm(Form):
    authority = radio_field(
        "Which council's LADO are you referring to?",
        [],
        required="Select the council",
        description="The council for the area where the adult works or volunteers. If "
        "you are not sure, choose the one where your organisation is: the LADO will pass "
        "it on if it belongs elsewhere",
    )
    submit = submit_field("Start")

    def __init__(self, *args: Any, authorities: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.authority.choices = authorities


class UploadForm(Form):
    file = FileField("Upload a file", widget=GovFileInput())
    submit = submit_field("Upload file")


class DeclarationForm(Form):
    submit = submit_field("Accept and send")


class ConfirmForm(Form):
    submit = submit_field("Yes, delete it")
