"""Working days: no weekends, no Belgian public holidays."""

from datetime import date, timedelta
from functools import cache, lru_cache

import holidays


@cache
def _belgian_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("BE", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _belgian_holidays(day.year)


@lru_cache(maxsize=4096)  # every case opened today asks the same few questions
def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (0: `start` itself)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`; negative when `end` comes first.
    Bounded to ten years either way (rules call this with citizens' input)."""
    if abs((end - start).days) > 3660:
        raise ValueError("working_days spans at most ten years")
    sign, low, high = (1, start, end) if end >= start else (-1, end, start)
    count, current = 0, low
    while current < high:
        current += timedelta(days=1)
        count += is_working_day(current)
    return sign * count
