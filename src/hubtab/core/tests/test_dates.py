"""A hub's morning, the moment its scheduled money work runs: the same local hour every day,
across daylight-saving changes (Kill Bill and others billed an hour off after one)."""

from datetime import UTC, date, datetime

import pytest

from hubtab.core.dates import month_start_of, morning_of


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2026, 3, 28), 4),  # Saturday before the spring change: CET, UTC+1
        (date(2026, 3, 29), 3),  # last Sunday of March: CEST from 02:00, UTC+2
        (date(2026, 10, 24), 3),  # Saturday before the autumn change: CEST
        (date(2026, 10, 25), 4),  # last Sunday of October: CET again from 03:00
    ],
)
def test_five_in_the_morning_in_paris_is_five_local_on_both_change_days(day, utc_hour):
    morning = morning_of(day, timezone_name="Europe/Paris", hour=5)
    assert (morning.date(), morning.hour, morning.minute) == (day, 5, 0)
    assert morning.astimezone(UTC) == datetime(day.year, day.month, day.day, utc_hour, tzinfo=UTC)


def test_an_hour_the_spring_change_skips_is_the_first_moment_after_it():
    morning = morning_of(date(2026, 3, 29), timezone_name="Europe/Paris", hour=2)
    assert morning.astimezone(UTC) == datetime(2026, 3, 29, 1, tzinfo=UTC)  # 03:00 CEST


@pytest.mark.parametrize(
    ("moment", "month_starts"),
    [
        # 00:30 on 1 November in Paris is still 31 October in UTC: the hub's November has begun.
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), datetime(2026, 10, 31, 23, 0, tzinfo=UTC)),
        # Late on 31 March in Paris (summer time, UTC+2) is still March there.
        (datetime(2026, 3, 31, 21, 59, tzinfo=UTC), datetime(2026, 2, 28, 23, 0, tzinfo=UTC)),
        (datetime(2026, 3, 31, 22, 0, tzinfo=UTC), datetime(2026, 3, 31, 22, 0, tzinfo=UTC)),
    ],
)
def test_a_month_starts_at_midnight_on_the_first_in_the_hubs_time(moment, month_starts):
    assert month_start_of(moment, timezone_name="Europe/Paris") == month_starts
