"""Working days in England and Wales."""

from __future__ import annotations

import datetime

import pytest

from portal.workdays import add_working_days, is_working_day, uk_date, working_days_between

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


def test_an_instant_counts_on_its_uk_date() -> None:
    evening = datetime.datetime(2026, 7, 6, 23, 30, tzinfo=datetime.UTC)  # 00:30 BST
    assert uk_date(evening) == D(2026, 7, 7)
