"""When an office is open and which visits fit: all in the office's time zone, right across
daylight-saving changes (slots are built as local wall-clock times, then made aware)."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from townhall.calendar import is_working_day

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The dates any appointment input may name (slot searches, day views, bookings): far wider than any
# horizon or history, and far enough from the ends of Python's calendar (years 1 and 9999) that a day
# either side and any time zone's offset stay representable.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9000, 12, 31)
CALENDAR_RANGE = f"from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"

# The communities' own days, which an office may keep closed as well (the municipality's choice).
REGIONAL_HOLIDAYS = {"VLG": (7, 11), "WAL": (9, 27), "DG": (11, 15)}


def in_calendar(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def _national_holiday(day: date) -> bool:
    """A Belgian public holiday (weekdays only matter: weekends follow the weekly hours)."""
    return day.weekday() < 5 and not is_working_day(day)


@dataclass(frozen=True)
class Schedule:
    weekly: Mapping[str, list[list[str]]]
    exceptions: Mapping[str, list[list[str]]]
    regional_holiday: str | None
    time_zone: str

    def intervals(self, day: date) -> list[tuple[time, time]]:
        """Opening intervals of one day: an exception wins, then holidays close, then the week."""
        if day.isoformat() in self.exceptions:
            hours = self.exceptions[day.isoformat()]
        elif _national_holiday(day) or (self.regional_holiday
                                        and (day.month, day.day) == REGIONAL_HOLIDAYS[self.regional_holiday]):
            return []
        else:
            hours = self.weekly.get(WEEKDAYS[day.weekday()], [])
        return [(time.fromisoformat(opens), time.fromisoformat(closes)) for opens, closes in hours]

    def starts(self, first: date, last: date, minutes: int) -> Iterator[datetime]:
        """Every slot start from `first` to `last` (inclusive), as aware datetimes."""
        zone, step = ZoneInfo(self.time_zone), timedelta(minutes=minutes)
        day = first
        while day <= last:
            for opens, closes in self.intervals(day):
                start = datetime.combine(day, opens, tzinfo=zone)
                end = datetime.combine(day, closes, tzinfo=zone)
                if start.utcoffset() == end.utcoffset():  # the usual day: wall clock = absolute time
                    count = int((end - start) / step)
                    yield from (start + step * n for n in range(count))
                    continue
                # The night clocks change: step in absolute time, so an hour is skipped or repeated.
                current, stop = start.astimezone(UTC), end.astimezone(UTC)
                while current + step <= stop:
                    yield current.astimezone(zone)
                    current += step
            day += timedelta(days=1)
