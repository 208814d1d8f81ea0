"""Working days and time-scales: every statutory time-scale in working days counts
Mondays to Fridays that are not bank holidays in England and Wales (from the `holidays`
package, which knows the one-off days such as 19 September 2022); some are in hours
(actions within 24 hours) or calendar days, weeks and months (a review within 6 weeks).

Days are UK calendar days: an event at 23:30 on a Monday in summer (22:30 UTC) happened
on that Monday, so instants are converted to UK local time before taking their date. A
time-scale in days ends at the end of its last UK day; one in hours ends to the minute.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UK = ZoneInfo("Europe/London")


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def uk_date(instant: datetime.datetime) -> datetime.date:
    """The UK calendar day of a timezone-aware instant."""
    return instant.astimezone(UK).date()


def add_working_days(start: datetime.date, count: int) -> datetime.date:
    """The working day ``count`` working days after ``start`` (which need not be one):
    a referral received on a Friday is due a response on Monday, or Tuesday after a bank
    holiday Monday."""
    day = start
    remaining = count
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_day_before(day: datetime.date) -> datetime.date:
    """The last working day before ``day``: information for a Monday meeting is due on
    the Friday before (the Thursday, when that Friday is a bank holiday)."""
    day -= datetime.timedelta(days=1)
    while not is_working_day(day):
        day -= datetime.timedelta(days=1)
    return day


def working_days_between(earlier: datetime.date, later: datetime.date) -> int:
    """How many working days come after ``earlier`` up to and including ``later``: 0 on
    the same day, 1 from a Friday to the next Monday. Counted by whole weeks (the queue
    asks it for every row), less the bank holidays that fall on weekdays between."""
    if later <= earlier:
        return 0
    weeks, rest = divmod((later - earlier).days, 7)
    weekdays = weeks * 5 + sum(
        1 for offset in range(1, rest + 1) if (earlier + datetime.timedelta(offset)).weekday() < 5
    )
    closed = sum(
        1
        for year in range(earlier.year, later.year + 1)
        for holiday in _bank_holidays(year)
        if earlier < holiday <= later and holiday.weekday() < 5
    )
    return weekdays - closed


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day if it is shorter: 31
    January and a month is 28 (or 29) February."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def start_of_uk_day(day: datetime.date) -> datetime.datetime:
    """The first moment (midnight) of a UK calendar day, as an aware instant."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=UK).astimezone(datetime.UTC)


def uk_noon(day: datetime.date) -> datetime.datetime:
    """Noon (UK time) on a day: on that day whatever the clocks do, for an event known
    only by its date."""
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=UK).astimezone(datetime.UTC)


def end_of_uk_day(day: datetime.date) -> datetime.datetime:
    """The last moment of a UK calendar day, as an aware instant."""
    return datetime.datetime.combine(day, datetime.time.max, tzinfo=UK).astimezone(datetime.UTC)


class Unit(StrEnum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WEEKS = "weeks"
    MONTHS = "months"


@dataclass(frozen=True)
class Timescale:
    """A statutory time-scale: "within 5 working days", "within 24 hours"."""

    amount: int
    unit: Unit

    def due(self, start: datetime.datetime) -> datetime.datetime:
        """When something started at ``start`` is due, at the latest."""
        if self.unit is Unit.HOURS:
            return start + datetime.timedelta(hours=self.amount)
        day = uk_date(start)
        if self.unit is Unit.WORKING_DAYS:
            return end_of_uk_day(add_working_days(day, self.amount))
        if self.unit is Unit.MONTHS:
            return end_of_uk_day(add_months(day, self.amount))
        days = self.amount * (7 if self.unit is Unit.WEEKS else 1)
        return end_of_uk_day(day + datetime.timedelta(days=days))

    def __str__(self) -> str:
        words = {
            Unit.WORKING_DAYS: "working day",
            Unit.HOURS: "hour",
            Unit.CALENDAR_DAYS: "day",
            Unit.WEEKS: "week",
            Unit.MONTHS: "month",
        }[self.unit]
        return f"{self.amount} {words}{'' if self.amount == 1 else 's'}"
