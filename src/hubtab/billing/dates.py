"""When billing happens in a hub's time: the morning a scheduled payment runs, the first morning a
notice allows, and the hub's today."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hubtab.accounts.selectors import credit_settings_of
from hubtab.core.dates import morning_of
from hubtab.core.models import Hub


def hub_today(*, hub: Hub, now: datetime) -> date:
    return now.astimezone(ZoneInfo(hub.timezone)).date()


def charge_moment(*, hub: Hub, day: date, morning_hour: int | None = None) -> datetime:
    """The hub's morning hour on `day`, in its time zone (computed per date: right across DST)."""
    hour = credit_settings_of(hub=hub).morning_hour if morning_hour is None else morning_hour
    return morning_of(day, timezone_name=hub.timezone, hour=hour)


def first_charge_day(*, hub: Hub, now: datetime, notice_days: int, morning_hour: int | None = None) -> date:
    """The first morning that comes after a notice given now has run its days: told at 14:00 on
    Monday with a day's notice, charged on Wednesday morning; with none, the next morning."""
    told_enough = now + timedelta(days=notice_days)
    day = hub_today(hub=hub, now=told_enough)
    if charge_moment(hub=hub, day=day, morning_hour=morning_hour) < told_enough:
        day += timedelta(days=1)
    return day
