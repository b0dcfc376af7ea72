"""Dates and times: formatted in a locale (Babel), and a hub's morning on a given day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime


def day_short(value: date, locale: str) -> str:
    """'23 Nov' / '23 nov.'"""
    return format_date(value, "d MMM", locale=locale)


def day_medium(value: date, locale: str) -> str:
    """'23 Nov 2026' / '23 nov. 2026'"""
    return format_date(value, "d MMM y", locale=locale)


def moment_short(value: datetime, locale: str) -> str:
    """'23 Nov 2026, 07:01' / '23 nov. 2026, 07:01', in the time zone `value` carries."""
    return format_datetime(value, "d MMM y, HH:mm", tzinfo=value.tzinfo, locale=locale)


def moment_recent(value: datetime, locale: str) -> str:
    """'23 Nov, 07:01': the year left out, for lists of recent activity."""
    return format_datetime(value, "d MMM, HH:mm", tzinfo=value.tzinfo, locale=locale)


def month_start_of(moment: datetime, *, timezone_name: str) -> datetime:
    """The first moment of `moment`'s calendar month in a hub's time zone (midnight on the 1st)."""
    local = moment.astimezone(ZoneInfo(timezone_name))
    return datetime.combine(local.date().replace(day=1), time(0), tzinfo=ZoneInfo(timezone_name))


def morning_of(day: date, *, timezone_name: str, hour: int) -> datetime:
    """The moment `hour`:00 comes on `day` in a hub's time zone, when its scheduled money work runs.
    Computed per date, so it stays at that local hour across daylight-saving changes; an hour the
    spring change skips is taken as the first moment after it."""
    zone = ZoneInfo(timezone_name)
    # Through UTC and back: a wall time that exists is unchanged, a skipped one moves past the gap.
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC).astimezone(zone)
