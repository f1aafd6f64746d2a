"""The date as a municipality sees it: due dates, references and age rules count from the
municipality's own today (Europe/Brussels for the test towns), not from the machine's."""
from datetime import date, datetime
from zoneinfo import ZoneInfo


def municipal_today(zone: str = "Europe/Brussels") -> date:
    return datetime.now(ZoneInfo(zone)).date()
