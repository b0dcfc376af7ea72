"""Dates and times formatted in a hub's locale (Babel), to sit beside its money."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime


def day_short(value: date, locale: str) -> str:
    """'23 Nov' / '23 nov.'"""
    return format_date(value, "d MMM", locale=locale)


def moment_short(value: datetime, locale: str) -> str:
    """'23 Nov 2026, 07:01' / '23 nov. 2026, 07:01', in the time zone `value` carries."""
    return format_datetime(value, "d MMM y, HH:mm", tzinfo=value.tzinfo, locale=locale)


def moment_recent(value: datetime, locale: str) -> str:
    """'23 Nov, 07:01': the year left out, for lists of recent activity."""
    return format_datetime(value, "d MMM, HH:mm", tzinfo=value.tzinfo, locale=locale)
