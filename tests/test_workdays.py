"""Working days in England and Wales."""

from __future__ import annotations

import datetime

import pytest

from portal.workdays import (
    UK,
    Timescale,
    Unit,
    add_months,
    add_working_days,
    end_of_uk_day,
    is_working_day,
    uk_date,
    working_days_between,
)

D = datetime.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 11, 23), True),  # a Monday
        (D(2026, 11, 28), False),  # a Saturday
        (D(2026, 12, 25), False),  # Christmas Day
        (D(2026, 12, 28), False),  # Boxing Day's substitute (26th is a Saturday)
        (D(2022, 9, 19), False),  # the Queen's funeral: a one-off bank holiday
        (D(2023, 5, 8), False),  # the King's coronation
        (D(2026, 3, 17), True),  # St Patrick's Day is a holiday in Northern Ireland only
    ],
)
def test_working_days_follow_england_and_wales(day: datetime.date, working: bool) -> None:
    assert is_working_day(day) is working


def test_adding_working_days_skips_weekends_and_bank_holidays() -> None:
    assert add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Friday to Monday
    assert add_working_days(D(2026, 12, 24), 1) == D(2026, 12, 29)  # over Christmas
    assert add_working_days(D(2026, 11, 28), 1) == D(2026, 11, 30)  # from a Saturday
    assert add_working_days(D(2026, 11, 23), 5) == D(2026, 11, 30)


def test_working_days_between() -> None:
    assert working_days_between(D(2026, 11, 23), D(2026, 11, 23)) == 0
    assert working_days_between(D(2026, 11, 27), D(2026, 11, 30)) == 1
    assert working_days_between(D(2026, 12, 24), D(2026, 12, 29)) == 1
    assert working_days_between(D(2026, 11, 30), D(2026, 11, 23)) == 0


def test_working_days_between_counts_what_is_working_day_says() -> None:
    """Counted by whole weeks less weekday bank holidays: the same as asking day by day,
    from every start day across two New Years, Easters and a coronation, up to 400 days."""
    for start in (D(2022, 12, 1) + datetime.timedelta(days=n) for n in range(0, 200, 3)):
        for length in (*range(0, 20), 45, 100, 222, 400):
            end = start + datetime.timedelta(days=length)
            by_day = sum(
                is_working_day(start + datetime.timedelta(days=n)) for n in range(1, length + 1)
            )
            assert working_days_between(start, end) == by_day, (start, end)


def test_an_instant_counts_on_its_uk_date() -> None:
    evening = datetime.datetime(2026, 7, 6, 23, 30, tzinfo=datetime.UTC)  # 00:30 BST
    assert uk_date(evening) == D(2026, 7, 7)


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        (D(2026, 4, 2), 1, D(2026, 4, 7)),  # Maundy Thursday: Good Friday, Easter Monday
        (D(2026, 4, 2), 5, D(2026, 4, 13)),
        (D(2026, 12, 31), 1, D(2027, 1, 4)),  # New Year's Day 2027 is a Friday
        (D(2027, 12, 24), 1, D(2027, 12, 29)),  # Christmas on a Saturday: 27 and 28 off
        (D(2023, 5, 5), 1, D(2023, 5, 9)),  # the coronation Monday, a one-off
        (D(2022, 9, 16), 1, D(2022, 9, 20)),  # the Queen's funeral, a one-off
        (D(2026, 8, 28), 1, D(2026, 9, 1)),  # the summer bank holiday
    ],
)
def test_working_days_over_bank_holidays(start: D, count: int, due: D) -> None:
    assert add_working_days(start, count) == due
    assert working_days_between(start, due) == count


def test_months_end_on_the_last_day_of_a_shorter_month() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)
    assert add_months(D(2028, 2, 29), 12) == D(2029, 2, 28)
    assert add_months(D(2026, 11, 23), 3) == D(2027, 2, 23)


def test_a_time_scale_in_days_ends_at_the_end_of_its_last_uk_day() -> None:
    friday_evening = datetime.datetime(2026, 7, 3, 23, 30, tzinfo=datetime.UTC)  # Sat in UK
    due = Timescale(1, Unit.WORKING_DAYS).due(friday_evening)
    assert due == end_of_uk_day(D(2026, 7, 6))  # Monday, not Saturday
    assert due.astimezone(UK).time() == datetime.time.max
    assert Timescale(6, Unit.WEEKS).due(friday_evening) == end_of_uk_day(D(2026, 8, 15))
    assert Timescale(30, Unit.CALENDAR_DAYS).due(friday_evening) == end_of_uk_day(D(2026, 8, 3))
    assert Timescale(3, Unit.MONTHS).due(friday_evening) == end_of_uk_day(D(2026, 10, 4))


def test_a_time_scale_in_hours_counts_real_hours_over_a_clock_change() -> None:
    # The clocks go forward at 01:00 UTC on 29 March 2026: 24 hours later is 13:00 BST.
    start = datetime.datetime(2026, 3, 28, 12, 0, tzinfo=datetime.UTC)
    due = Timescale(24, Unit.HOURS).due(start)
    assert due == datetime.datetime(2026, 3, 29, 12, 0, tzinfo=datetime.UTC)
    assert due.astimezone(UK).hour == 13
    assert Timescale(48, Unit.HOURS).due(start) - start == datetime.timedelta(hours=48)


def test_time_scales_read_as_people_say_them() -> None:
    assert str(Timescale(1, Unit.WORKING_DAYS)) == "1 working day"
    assert str(Timescale(24, Unit.HOURS)) == "24 hours"
    assert str(Timescale(6, Unit.WEEKS)) == "6 weeks"
