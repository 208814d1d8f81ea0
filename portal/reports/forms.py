"""The dashboard's date range: a GET form (nothing is changed, so no CSRF token)."""

from __future__ import annotations

from typing import Any

from wtforms.validators import ValidationError

from portal.fields import DateInputField, Form, submit_field


class RangeForm(Form):
    start = DateInputField("From", thing="The start date", required="Enter the start date")
    end = DateInputField("To", thing="The end date", required="Enter the end date")
    show = submit_field("Show the figures")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, meta={"csrf": False}, **kwargs)

    def validate_end(self, field: DateInputField) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("The end date must be on or after the start date")
