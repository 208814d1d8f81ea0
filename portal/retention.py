"""How long a case's records are kept: until the subject reaches normal pension age, or
for 10 years from the date of the allegation, whichever is longer (KCSIE).

Normal pension age is the State Pension age by date of birth, from the Pensions Acts
1995, 2007, 2011 and 2014 as they stand. Before 6 December 1953 it differed for women
and men; the portal does not record sex, so it uses the men's age (65), the later one,
which keeps records no shorter than the rule.
"""

from __future__ import annotations

from datetime import date

ALLEGATION_YEARS = 10

# Pensions Act 2011, Schedule 1: born 6 December 1953 to 5 October 1954 reach State
# Pension age on a date (each row: born on or after the first date -> that date).
_PHASED_2011 = (
    (date(1953, 12, 6), date(2019, 3, 6)),
    (date(1954, 1, 6), date(2019, 5, 6)),
    (date(1954, 2, 6), date(2019, 7, 6)),
    (date(1954, 3, 6), date(2019, 9, 6)),
    (date(1954, 4, 6), date(2019, 11, 6)),
    (date(1954, 5, 6), date(2020, 1, 6)),
    (date(1954, 6, 6), date(2020, 3, 6)),
    (date(1954, 7, 6), date(2020, 5, 6)),
    (date(1954, 8, 6), date(2020, 7, 6)),
    (date(1954, 9, 6), date(2020, 9, 6)),
)
# Pensions Act 2007, Schedule 3: born 6 April 1977 to 5 April 1978 (67 to 68).
_PHASED_2007 = (
    (date(1977, 4, 6), date(2044, 5, 6)),
    (date(1977, 5, 6), date(2044, 7, 6)),
    (date(1977, 6, 6), date(2044, 9, 6)),
    (date(1977, 7, 6), date(2044, 11, 6)),
    (date(1977, 8, 6), date(2045, 1, 6)),
    (date(1977, 9, 6), date(2045, 3, 6)),
    (date(1977, 10, 6), date(2045, 5, 6)),
    (date(1977, 11, 6), date(2045, 7, 6)),
    (date(1977, 12, 6), date(2045, 9, 6)),
    (date(1978, 1, 6), date(2045, 11, 6)),
    (date(1978, 2, 6), date(2046, 1, 6)),
    (date(1978, 3, 6), date(2046, 3, 6)),
)


def add_years(day: date, years: int, months: int = 0) -> date:
    """The same day so many years and months on; 29 February becomes 1 March (as a
    birthday is counted in law) when the year has none."""
    month_index = day.month - 1 + months
    year = day.year + years + month_index // 12
    month = month_index % 12 + 1
    try:
        return day.replace(year=year, month=month)
    except ValueError:  # 29, 30 or 31 in a shorter month
        return date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)


def _phased(born: date, table: tuple[tuple[date, date], ...]) -> date:
    reached = table[0][1]
    for starts, on in table:
        if born >= starts:
            reached = on
    return reached


def state_pension_date(born: date) -> date:
    """The day someone born on ``born`` reaches State Pension age."""
    if born < date(1953, 12, 6):
        return add_years(born, 65)
    if born < date(1954, 10, 6):
        return _phased(born, _PHASED_2011)
    if born < date(1960, 4, 6):
        return add_years(born, 66)
    if born < date(1961, 3, 6):
        # Pensions Act 2014, s.26: 66 and 1 month (born 6 April to 5 May 1960) up to 66
        # and 11 months (born 6 February to 5 March 1961).
        months = (born.year - 1960) * 12 + born.month - 4 + (1 if born.day >= 6 else 0)
        return add_years(born, 66, months)
    if born < date(1977, 4, 6):
        return add_years(born, 67)
    if born < date(1978, 4, 6):
        return _phased(born, _PHASED_2007)
    return add_years(born, 68)


def retained_until(allegation_on: date, born: date | None) -> date:
    """The last day the case is kept. Without a date of birth, pension age cannot be
    known: 10 years from the allegation, and the case page says why."""
    ten_years = add_years(allegation_on, ALLEGATION_YEARS)
    if born is None:
        return ten_years
    return max(ten_years, state_pension_date(born))
