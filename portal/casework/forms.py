"""The forms of the LADO's case pages: a move of the case (a threshold decision, a
meeting held, a pause...) with its rationale and, where a time-scale was missed, why."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSelect
from wtforms import BooleanField, IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import HiddenInput

from portal.auth.forms import SecurityCodeForm
from portal.fields import (
    Checkboxes,
    ChoiceField,
    DateInputField,
    Form,
    MultipleChoiceField,
    choices_of,
    long_text_field,
    optional_text_field,
    radio_field,
    submit_field,
    text_field,
)
from portal.models import DelayReason
from portal.vocabulary import (
    ConcludingAction,
    HarmCategory,
    OnwardBody,
    Outcome,
    ThresholdCriterion,
)
from portal.workflow import Transition


class MoveForm(Form):
    """Every question a move may ask; ``for_move`` removes those it does not."""

    # The case's version when the page was drawn: a move from a stale page is refused.
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    criteria = MultipleChoiceField(
        "Which of the harm criteria are met?",
        widget=Checkboxes(),
        choices=choices_of(ThresholdCriterion),
        validators=[Optional()],
        description="Select all that apply. Leave empty if none is met",
    )
    harm_category = radio_field(
        "Category of harm", choices_of(HarmCategory), required="Select the category of harm"
    )
    strategy_discussion = BooleanField(
        "A strategy discussion with the police is needed (within 2 working days)",
        widget=GovCheckboxInput(),
    )
    to_authority = ChoiceField(
        "Which authority is it transferred to?",
        widget=GovSelect(),
        choices=[],
        validators=[DataRequired(message="Select the authority to transfer it to")],
    )
    outcome = radio_field(
        "What is the outcome?",
        choices_of(Outcome),
        required="Select the outcome",
        description="On the balance of probabilities",
    )
    actions = MultipleChoiceField(
        "What were the concluding actions?",
        widget=Checkboxes(),
        choices=choices_of(ConcludingAction),
        validators=[DataRequired(message="Select the concluding actions, or no further action")],
        description="Select all that apply",
    )
    actions_on = DateInputField(
        "When were they taken?",
        thing="The date",
        required="Enter the date the concluding actions were taken",
    )
    referred_to = MultipleChoiceField(
        "Was the person referred to the DBS or a regulator?",
        widget=Checkboxes(),
        choices=choices_of(OnwardBody),
        validators=[Optional()],
        description="Select all that apply. Leave empty if not",
    )
    referred_on = DateInputField("When were they referred?", thing="The date of the referral")
    referred_other = optional_text_field(
        "Which other body?", max_length=200, thing="The other body"
    )
    rationale = long_text_field(
        "Your reasons",
        max_length=10000,
        required="Enter the reasons for this decision",
        thing="Your reasons",
        description="Recorded on the case. The referrer does not see it",
    )
    delay_reason = radio_field(
        "Why was the time-scale missed?",
        choices_of(DelayReason),
        required="Select why the time-scale was missed",
    )
    delay_detail = long_text_field(
        "More about the delay", max_length=2000, thing="More about the delay"
    )
    submit = submit_field("Save")

    @classmethod
    def for_move(
        cls,
        transition: Transition,
        *,
        late: bool,
        authorities: list[SelectChoice],
        **kwargs: Any,
    ) -> MoveForm:
        form = cls(**kwargs)
        keep = {"csrf_token", "version", "submit"}
        if transition.rationale:
            keep.add("rationale")
        if "criteria" in transition.detail_keys:
            keep |= {"criteria", "harm_category"}
        if transition.may_start:
            keep.add("strategy_discussion")
        if "outcome" in transition.detail_keys:
            keep.add("outcome")
        if "actions" in transition.detail_keys:
            keep |= {"actions", "actions_on", "referred_to", "referred_on", "referred_other"}
        if "to_authority_id" in transition.detail_keys:
            keep.add("to_authority")
            form.to_authority.choices = [SelectChoice("", "Choose an authority"), *authorities]
        if late:
            keep |= {"delay_reason", "delay_detail"}
        for name in [field.name for field in form if field.name not in keep]:
            delattr(form, name)
        form.submit.label.text = transition.label
        return form

    def validate(self, extra_validators: Any = None) -> bool:
        """A referral on needs its date, and "another body" its name: questions that
        depend on another answer, so checked once every answer has been read."""
        valid: bool = super().validate(extra_validators)
        if "referred_to" not in self or not self.referred_to.data:
            return valid
        needed = [(self.referred_on, "Enter the date of the referral")]
        if OnwardBody.OTHER.value in self.referred_to.data:
            needed.append((self.referred_other, "Enter which other body"))
        for field, message in needed:
            if not field.data and not field.errors:
                field.errors = [message]
                valid = False
        return valid

    def questions(self) -> list[Any]:
        return [field for field in self if field.name not in ("csrf_token", "version", "submit")]


class AssignForm(Form):
    officer = ChoiceField("Officer", widget=GovSelect(), choices=[], validators=[Optional()])
    assign = submit_field("Assign")  # not "submit": two forms share the case page

    def __init__(self, *args: Any, officers: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.officer.choices = [SelectChoice("", "Not assigned"), *officers]


class NoteForm(Form):
    text = long_text_field(
        "Add a note",
        max_length=5000,
        required="Enter the note",
        thing="The note",
        description="Only the LADO's team can read notes",
    )
    progress = BooleanField(
        "This note is the case's progress summary (due every 3 months while it is open)",
        widget=GovCheckboxInput(),
    )
    add_note = submit_field("Add note")


class LegalHoldForm(Form):
    reason = long_text_field(
        "Why must this case be kept?",
        max_length=2000,
        required="Enter why the case must be kept",
        thing="The reason",
        description="For example, a claim against the council, an inquiry or a police "
        "request. Only the LADO's team can read it.",
    )
    place_hold = submit_field("Place a legal hold")


class ApproveDestructionForm(SecurityCodeForm):
    """Destroying records asks for a fresh code, however recently the manager signed in."""

    submit = submit_field("Approve and destroy these cases")


class SubjectAccessForm(Form):
    full_name = text_field(
        "Full name",
        required="Enter the person's full name",
        max_length=200,
        thing="The name",
        description="As the referral gave it: the search matches names whole, ignoring case",
    )
    date_of_birth = DateInputField(
        "Date of birth",
        thing="Date of birth",
        required="Enter the person's date of birth",
        description="For example, 27 3 1985",
    )
    find = submit_field("Find their records")


class ExportForm(SecurityCodeForm):
    """Handing over a person's records asks for a fresh code, as destroying them does."""

    submit = submit_field("Export their records")
