"""An appointment as an iCalendar file (RFC 5545): CRLF line ends, lines folded at 75 octets,
times in UTC (so no VTIMEZONE is needed and every calendar shows the right local time), and no
METHOD, since there is no ORGANIZER: it is a copy for the citizen's calendar, not an invitation."""

from collections.abc import Iterable
from datetime import UTC, datetime

from townhall.appointments.models import Appointment, Office


def _text(value: str) -> str:
    """TEXT values escape backslash, semicolon, comma and newlines (RFC 5545 §3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a UTF-8 character;
    continuation lines start with one space (which counts towards their 75)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:  # a continuation byte: step back
            end -= 1
        parts.append(encoded[start:end].decode())
        start, limit = end, 74
    return "\r\n ".join(parts)


def calendar(appointment: Appointment, office: Office, title: str, host: str) -> bytes:
    """The same bytes on every download until the visit changes: DTSTAMP (without METHOD, the time
    the event was last revised, RFC 5545 §3.8.7.2) and LAST-MODIFIED are when it was booked, moved or
    cancelled, and SEQUENCE counts those changes, so a subscribed calendar sees a new version only then."""
    lines: Iterable[str] = (
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Townhall//Appointments//EN",
        "CALSCALE:GREGORIAN",
        "BEGIN:VEVENT",
        f"UID:{appointment.id}@{host}",
        f"DTSTAMP:{_utc(appointment.changed_at)}",
        f"CREATED:{_utc(appointment.created_at)}",
        f"LAST-MODIFIED:{_utc(appointment.changed_at)}",
        f"DTSTART:{_utc(appointment.starts_at)}",
        f"DTEND:{_utc(appointment.ends_at)}",
        f"SUMMARY:{_text(title)}",
        f"LOCATION:{_text(f'{office.name}, {office.address}')}",
        f"GEO:{office.lat:.6f};{office.long:.6f}",
        f"DESCRIPTION:{_text(office.accessibility or title)}",
        "STATUS:" + ("CANCELLED" if appointment.status == "cancelled" else "CONFIRMED"),
        f"SEQUENCE:{appointment.sequence}",
        "END:VEVENT",
        "END:VCALENDAR",
    )
    return "".join(fold(line) + "\r\n" for line in lines).encode()
