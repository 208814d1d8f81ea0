"""How dates and times read on the page: UK local time, GOV.UK style ("23 November 2026",
"2:05pm")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Protocol

from flask import Flask

from portal.fields import error_summary
from portal.models.base import utcnow
from portal.workdays import UK


class Answered(Protocol):
    question: str
    answer: str


def long_date(value: date | datetime | None) -> str:
    """A day as GOV.UK writes it; an instant is taken on its UK date."""
    if value is None:
        return ""
    day = value.astimezone(UK) if isinstance(value, datetime) else value
    return f"{day.day} {day:%B %Y}"


def date_and_time(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(UK)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    time = f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local:%M}{suffix}"
    return f"{long_date(value)} at {time}"


def summary_rows(rows: Iterable[Answered]) -> list[dict[str, Any]]:
    """Questions and answers as GOV.UK summary list rows (answers escaped as text)."""
    return [{"key": {"text": row.question}, "value": {"text": row.answer}} for row in rows]


def init_app(app: Flask) -> None:
    app.add_template_global(summary_rows, "summary_rows")
    app.add_template_global(utcnow, "now")
    app.add_template_global(error_summary, "error_summary")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(date_and_time, "date_and_time")
