"""The forms of meetings: arranging one, asking an agency for information, and an
agency's answers (one field per question of its checklist, built from the data in
portal.checklists)."""

from __future__ import annotations

import datetime
import re
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect
from wtforms import Field, FileField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from portal.checklists import Agency, Question
from portal.fields import (
    Checkboxes,
    ChoiceField,
    DateInputField,
    Form,
    MultipleChoiceField,
    RadioChoiceField,
    Radios,
    choices_of,
    email_field,
    long_text_field,
    radio_field,
    submit_field,
    text_field,
)
from portal.models import DelayReason
from portal.workdays import UK

# 9:30, 09:30, 14:00, 9.30am, 2pm, 2:15 pm
TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
LENGTHS = [
    SelectChoice(str(n), f"{n} minutes" if n < 60 else label)
    for n, label in (
        (30, ""),
        (60, "1 hour"),
        (90, "1 hour 30 minutes"),
        (120, "2 hours"),
        (180, "3 hours"),
    )
]


def parse_time(text: str) -> datetime.time | None:
    """A time of day as people type it, or None."""
    found = TIME.match(text.strip())
    if not found:
        return None
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    elif found.group(2) is None:
        return None  # "9" alone could be morning or evening
    if hour > 23 or minute > 59:
        return None
    return datetime.time(hour, minute)


def _a_time(form: Any, field: Field) -> None:
    if field.data and parse_time(field.data) is None:
        raise ValidationError("Enter the start time like 9:30am or 14:00")


class ArrangeForm(Form):
    kind = radio_field("What kind of meeting?", [], required="Select the kind of meeting")
    date = DateInputField(
        "Date", thing="The date", required="Enter the date of the meeting", past=False
    )
    time = text_field(
        "Start time",
        required="Enter the start time",
        max_length=10,
        extra=(_a_time,),
        description="For example, 9:30am or 14:00",
    )
    minutes_long = ChoiceField(
        "How long?", widget=GovSelect(), choices=LENGTHS, default="60", validators=[Optional()]
    )
    place = text_field(
        "Where",
        required="Enter where the meeting is held",
        max_length=500,
        thing="Where",
        description="A room and address, or the link to join online. Invitees read it "
        "after signing in",
    )
    chair = ChoiceField(
        "Chair",
        widget=GovSelect(),
        choices=[],
        validators=[DataRequired(message="Select who chairs the meeting")],
    )
    organisations = MultipleChoiceField(
        "Which organisations are invited?",
        widget=Checkboxes(),
        choices=[],
        validators=[Optional()],
        description="Everyone at each one who can answer requests is told",
    )
    staff = MultipleChoiceField(
        "Who else from your team?",
        widget=Checkboxes(),
        choices=[],
        validators=[Optional()],
    )
    date_reason = long_text_field(
        "Why on that date?",
        max_length=1000,
        thing="Why on that date",
        description="Needed when the meeting is in the past or not on a working day",
    )
    delay_reason = RadioChoiceField(
        "Why will the time-scale be missed?",
        widget=Radios(),
        choices=choices_of(DelayReason),
        validators=[Optional()],
    )
    delay_detail = long_text_field(
        "More about the delay", max_length=2000, thing="More about the delay"
    )
    arrange = submit_field("Arrange the meeting")

    def __init__(
        self,
        *args: Any,
        kinds: list[SelectChoice],
        officers: list[SelectChoice],
        organisations: list[SelectChoice],
        staff: list[SelectChoice],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = kinds
        self.chair.choices = [SelectChoice("", "Choose the chair"), *officers]
        self.organisations.choices = organisations
        self.staff.choices = staff

    def starts_at(self) -> datetime.datetime:
        """The UK local date and time chosen, as an aware instant (after validation)."""
        time = parse_time(self.time.data or "")
        if time is None:
            raise ValueError("the form was not validated")
        local = datetime.datetime.combine(self.date.required_date, time, tzinfo=UK)
        return local.astimezone(datetime.UTC)


class InvitePersonForm(Form):
    """One of an organisation's people, by name: found by their sign-in address."""

    organisation = ChoiceField(
        "Their organisation",
        widget=GovSelect(),
        choices=[],
        validators=[DataRequired(message="Select their organisation")],
    )
    email = email_field(description="The address they sign in to the portal with")
    invite = submit_field("Invite them")

    def __init__(self, *args: Any, organisations: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = [SelectChoice("", "Choose an organisation"), *organisations]


class RequestForm(Form):
    organisation = ChoiceField(
        "Which organisation?",
        widget=GovSelect(),
        choices=[],
        validators=[DataRequired(message="Select the organisation to ask")],
    )
    agency = radio_field(
        "Which checklist should they answer?",
        choices_of(Agency),
        required="Select the checklist",
    )
    due = DateInputField(
        "Due by the end of",
        thing="The due date",
        past=False,
        description="Leave empty for the working day before the meeting",
    )
    ask = submit_field("Send the request")

    def __init__(self, *args: Any, organisations: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation.choices = [SelectChoice("", "Choose an organisation"), *organisations]


ANSWER_LIMIT = 10000


def answer_form(questions: list[Question], **kwargs: Any) -> Any:
    """A form with a text area for each question of the checklist, in its order."""

    class AnswerForm(Form):
        file = FileField(
            "Add a document or photo (optional)",
            widget=GovFileInput(),
            description="PDF, Word (DOCX), Excel (XLSX), JPG or PNG, smaller than 20MB",
        )
        upload = submit_field("Upload file")
        save = submit_field("Save as draft")
        send = submit_field("Send to the LADO")

    for question in questions:
        setattr(
            AnswerForm,
            question.key,
            long_text_field(
                question.text,
                max_length=ANSWER_LIMIT,
                thing="Your answer",
                description=question.hint,
            ),
        )
    return AnswerForm(**kwargs)


class RecordForm(Form):
    attendance = long_text_field(
        "Who attended",
        max_length=5000,
        required="Enter who attended",
        thing="Who attended",
        description="Names and roles, and who sent apologies",
    )
    decisions = long_text_field(
        "What was decided",
        max_length=20000,
        required="Enter what was decided",
        thing="What was decided",
    )
    delay_reason = RadioChoiceField(
        "Why was the time-scale missed?",
        widget=Radios(),
        choices=choices_of(DelayReason),
        validators=[Optional()],
    )
    delay_detail = long_text_field(
        "More about the delay", max_length=2000, thing="More about the delay"
    )
    record = submit_field("Record the meeting")


class ActionForm(Form):
    text = long_text_field(
        "The action", max_length=2000, required="Enter the action", thing="The action"
    )
    owner = ChoiceField(
        "Who will do it?",
        widget=GovSelect(),
        choices=[],
        validators=[DataRequired(message="Select who will do it")],
    )
    due_on = DateInputField(
        "Due by", thing="The due date", required="Enter the date it is due by", past=False
    )
    add_action = submit_field("Add the action")

    def __init__(self, *args: Any, owners: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner.choices = [SelectChoice("", "Choose who"), *owners]


class MinutesForm(Form):
    minutes = long_text_field(
        "Minutes",
        max_length=100000,
        thing="The minutes",
        description="Invitees read them once they are sent. Type them here, upload them "
        "as a document below, or both",
    )
    file = FileField(
        "Minutes as a document (optional)",
        widget=GovFileInput(),
        description="PDF, Word (DOCX), Excel (XLSX), JPG or PNG, smaller than 20MB. A new "
        "one replaces the last",
    )
    save = submit_field("Save the minutes")
    send = submit_field("Save and send the minutes")


class QuestionForm(Form):
    agency = radio_field(
        "Which checklist?", choices_of(Agency), required="Select the checklist to add it to"
    )
    text = text_field(
        "Question", required="Enter the question", max_length=300, thing="The question"
    )
    hint = long_text_field("Help for whoever answers (optional)", max_length=500, thing="The help")
    add_question = submit_field("Add the question")
