"""Working days: every statutory time-scale in working days counts Mondays to Fridays
that are not bank holidays in England and Wales (from the `holidays` package, which
knows the one-off days such as 19 September 2022).

Days are UK calendar days: an event at 23:30 on a Monday in summer (22:30 UTC) happened
on that Monday, so instants are converted to UK local time before taking their date.
"""

from __future__ import annotations

import datetime
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


def working_days_between(earlier: datetime.date, later: datetime.date) -> int:
    """How many working days come after ``earlier`` up to and including ``later``: 0 on
    the same day, 1 from a Friday to the next Monday."""
    if later <= earlier:
        return 0
    return sum(
        1
        for offset in range(1, (later - earlier).days + 1)
        if is_working_day(earlier + datetime.timedelta(days=offset))
    )
