"""The update's forms: writing it, choosing each audience's redactions, embargoes."""

from __future__ import annotations

from typing import Any

from wtforms import HiddenField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.fields import (
    Checkboxes,
    DateInputField,
    Form,
    MultipleChoiceField,
    long_text_field,
    radio_field,
    submit_field,
)
from portal.redaction import Audience, Term

TEXT_LIMIT = 20000


class WriteForm(Form):
    text = long_text_field(
        "The update",
        max_length=TEXT_LIMIT,
        required="Enter the update",
        thing="The update",
        description="Write it once: you choose what each audience does not read next",
    )
    audiences = MultipleChoiceField(
        "Who is it for?",
        widget=Checkboxes(),
        choices=[],
        validators=[Optional()],
    )
    other_names = long_text_field(
        "Anyone else whose name should be kept out (optional)",
        max_length=2000,
        thing="The names",
        description="Witnesses, say: one name on each line. The children's and the "
        "referrer's names are known already",
    )
    next = submit_field("Choose what each audience reads")

    def __init__(self, *args: Any, audiences: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audiences.choices = audiences


def review_form(
    audiences: list[Audience], removable: dict[Audience, list[Term]], **kwargs: Any
) -> Any:
    """For each audience: the suggested redactions it may keep in (ticked: taken out),
    and text to take out as well."""

    class ReviewForm(Form):
        shown = HiddenField()
        preview = submit_field("Show the texts again")
        publish = submit_field("Publish")

    for audience in audiences:
        setattr(
            ReviewForm,
            f"redact_{audience.value}",
            MultipleChoiceField(
                "Take out",
                widget=Checkboxes(),
                choices=[
                    SelectChoice(term.text, f"{term.text} ({term.kind.label.lower()})")
                    for term in removable[audience]
                ],
                validators=[Optional()],
            ),
        )
        setattr(
            ReviewForm,
            f"added_{audience.value}",
            long_text_field(
                "Also take out",
                max_length=2000,
                thing="What to take out",
                description="Words as they appear in the update, one on each line",
            ),
        )
    return ReviewForm(**kwargs)


class EmbargoForm(Form):
    audience = radio_field(
        "Who may not be told?",
        [SelectChoice(a.value, a.label) for a in (Audience.SUBJECT, Audience.EMPLOYER)],
        required="Select who may not be told",
    )
    until = DateInputField(
        "Until the end of",
        thing="The date",
        required="Enter the date the embargo ends",
        past=False,
    )
    reason = long_text_field(
        "Why",
        max_length=2000,
        required="Enter why they may not be told",
        thing="Why",
        description="For example, the police have not yet interviewed the subject",
    )
    save = submit_field("Set the embargo")
