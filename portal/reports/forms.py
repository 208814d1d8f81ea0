"""The dashboard's date range: a GET form (nothing is changed, so no CSRF token)."""

from __future__ import annotations

from typing import Any

from portal.fields import DateInputField, EndNotBeforeStart, Form, submit_field


class RangeForm(EndNotBeforeStart, Form):
    start = DateInputField("From", thing="The start date", required="Enter the start date")
    end = DateInputField("To", thing="The end date", required="Enter the end date")
    show = submit_field("Show the figures")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, meta={"csrf": False}, **kwargs)
