"""A payment runs once, on its day, at the hub's morning hour in the hub's own time: across the
daylight-saving changes of Europe/Paris (last Sunday of October, of March) and in Pacific/Auckland,
whose morning is the evening before in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hubtab.accounts.services import credit_settings_update
from hubtab.billing.billing_settings import billing_settings_update
from hubtab.billing.run import billing_run
from hubtab.billing.scheduling import debt_bill, earliest_charge_day
from hubtab.billing.tests.conftest import paris
from hubtab.core.models import Hub
from hubtab.payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _bill_for(billing, day: date, billed_at: datetime):
    marie = billing.customer("Marie", owes_minor=1200)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], run_on=day, now=billed_at)
    return marie


def _charged_at(billing, person, moments: list[datetime]) -> list[int]:
    """How many charges the customer has after each run."""
    seen = []
    for moment in moments:
        billing_run(now=moment)
        seen.append(Payment.objects.filter(customer=person, off_session=True, status="succeeded").count())
    return seen


def test_on_the_autumn_change_day_in_paris_the_payment_runs_at_five_local_not_five_summer_time(billing):
    marie = _bill_for(billing, date(2026, 10, 25), paris(2026, 10, 20, 12, 0))
    # 05:00 in Paris that Sunday is 04:00 UTC (winter time since 03:00 summer time); 03:00 UTC is 04:00.
    runs = [utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0), utc(2026, 10, 25, 3, 59), utc(2026, 10, 25, 4, 0),
            utc(2026, 10, 25, 4, 10), utc(2026, 10, 26, 4, 0)]  # fmt: skip
    assert _charged_at(billing, marie, runs) == [0, 0, 0, 1, 1, 1]
    assert billing.balance(marie) == 0


def test_a_morning_hour_that_comes_twice_on_the_autumn_change_day_runs_the_payment_once(billing):
    credit_settings_update(hub=billing.hub, actor=billing.owner, morning_hour=2)
    marie = _bill_for(billing, date(2026, 10, 25), paris(2026, 10, 20, 12, 0))
    # 02:00 comes at 00:00 UTC (summer time) and again at 01:00 UTC (winter time): the first counts.
    runs = [utc(2026, 10, 24, 23, 59), utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 30)]
    assert _charged_at(billing, marie, runs) == [0, 1, 1, 1]


def test_a_morning_hour_the_spring_change_skips_runs_at_the_first_moment_after_it(billing):
    credit_settings_update(hub=billing.hub, actor=billing.owner, morning_hour=2)
    marie = _bill_for(billing, date(2027, 3, 28), paris(2027, 3, 20, 12, 0))
    # 02:00 does not exist in Paris on 28 March 2027: clocks go from 02:00 to 03:00 (01:00 UTC).
    runs = [utc(2027, 3, 28, 0, 59), utc(2027, 3, 28, 1, 0), utc(2027, 3, 28, 2, 0)]
    assert _charged_at(billing, marie, runs) == [0, 1, 1]


def test_an_auckland_hubs_payment_runs_at_its_five_in_the_morning_which_is_the_day_before_in_utc(billing):
    Hub.objects.filter(id=billing.hub.id).update(timezone="Pacific/Auckland")
    billing.hub.refresh_from_db()
    marie = _bill_for(billing, date(2026, 12, 9), utc(2026, 12, 6, 1, 0))
    # 05:00 on 9 December in Auckland (summer time, UTC+13) is 16:00 UTC on the 8th.
    runs = [utc(2026, 12, 8, 4, 0), utc(2026, 12, 8, 15, 59), utc(2026, 12, 8, 16, 0), utc(2026, 12, 9, 4, 0),
            utc(2026, 12, 9, 16, 0)]  # fmt: skip
    assert _charged_at(billing, marie, runs) == [0, 0, 1, 1, 1]


def test_the_first_day_a_notice_allows_is_counted_in_the_hubs_own_time(billing):
    # Monday 14:00 in Paris with a day's notice: Wednesday. Monday 03:00 with none: that same morning.
    assert earliest_charge_day(hub=billing.hub, now=paris(2026, 12, 7, 14, 0)) == date(2026, 12, 9)
    billing_settings_update(hub=billing.hub, actor=billing.owner, notice_days=0)
    assert earliest_charge_day(hub=billing.hub, now=paris(2026, 12, 7, 3, 0)) == date(2026, 12, 7)
    assert earliest_charge_day(hub=billing.hub, now=paris(2026, 12, 7, 5, 30)) == date(2026, 12, 8)
