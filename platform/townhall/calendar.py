"""Working days: no weekends, no Belgian public holidays."""

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _belgian_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("BE", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _belgian_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (0: `start` itself)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current
