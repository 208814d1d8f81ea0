"""How long a case is kept: State Pension age by date of birth, or 10 years from the
allegation, whichever is later."""

from __future__ import annotations

from datetime import date

import pytest

from portal.retention import add_years, retained_until, state_pension_date


@pytest.mark.parametrize(
    ("born", "pension"),
    [
        (date(1950, 1, 1), date(2015, 1, 1)),  # 65 (the men's age, the later of the two)
        (date(1953, 12, 6), date(2019, 3, 6)),  # Pensions Act 2011: phased 65 to 66
        (date(1954, 9, 30), date(2020, 9, 6)),
        (date(1954, 10, 6), date(2020, 10, 6)),  # 66
        (date(1960, 4, 5), date(2026, 4, 5)),
        (date(1960, 4, 6), date(2026, 5, 6)),  # Pensions Act 2014: 66 and 1 month
        (date(1960, 5, 5), date(2026, 6, 5)),
        (date(1960, 5, 6), date(2026, 7, 6)),  # 66 and 2 months
        (date(1961, 3, 5), date(2028, 2, 5)),  # 66 and 11 months
        (date(1961, 3, 6), date(2028, 3, 6)),  # 67
        (date(1984, 6, 14), date(2052, 6, 14)),  # 68 under the 2007 Act
        (date(1970, 1, 1), date(2037, 1, 1)),
        (date(1977, 4, 6), date(2044, 5, 6)),  # Pensions Act 2007: phased 67 to 68
        (date(1978, 3, 31), date(2046, 3, 6)),
        (date(1978, 4, 6), date(2046, 4, 6)),  # 68
        (date(1980, 2, 29), date(2048, 2, 29)),
        (date(1981, 2, 28), date(2049, 2, 28)),
    ],
)
def test_state_pension_age_by_date_of_birth(born: date, pension: date) -> None:
    assert state_pension_date(born) == pension


def test_a_birthday_on_29_february_falls_on_1_march_in_other_years() -> None:
    assert add_years(date(1984, 2, 29), 1) == date(1985, 3, 1)
    assert add_years(date(1960, 8, 31), 66, 1) == date(2026, 10, 1)  # no 31 September


def test_kept_until_pension_age_or_ten_years_whichever_is_later() -> None:
    young = date(1990, 5, 1)
    assert retained_until(date(2026, 1, 10), young) == date(2058, 5, 1)  # pension age
    old = date(1958, 1, 1)
    assert retained_until(date(2026, 1, 10), old) == date(2036, 1, 10)  # 10 years
    assert retained_until(date(2026, 1, 10), None) == date(2036, 1, 10)  # unknown birth
