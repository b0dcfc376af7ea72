"""Who the billing pages list: customers in debt with what they owe (in credits and in money in a
named-credit hub), their last order, their card's state and any open payment; the filters; and
who is overdue (a payment failed for good, or debt older than the hub's overdue days)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hubtab.accounts.services import credit_unit_choose, unit_price_set
from hubtab.billing.billing_settings import billing_settings_update
from hubtab.billing.debtors import (
    DebtorFilter,
    debtor_ids,
    debtor_list,
    debtor_rows,
    overdue_list,
    overdue_overview,
)
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.scheduling import debt_bill
from hubtab.billing.tests.crew import Crew, months_from
from hubtab.crm.activity import ActivityKind, Ref, activity_record
from hubtab.crm.services import customer_archive, customer_credit_apply
from hubtab.testing import shop_objects

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(hub, other_hub):
    return Crew(hub, other_hub)


def _owed(hub, filters=None) -> dict[str, int]:
    return {c.first_name: c.owed_minor for c in debtor_list(hub=hub, filters=filters)}


def test_everyone_below_zero_is_listed_with_what_they_owe_most_first_and_nobody_else(crew, other_hub):
    crew.debtor("Marie", 1550)
    crew.debtor("Paul", 0)
    crew.debtor("Lea", 9000)
    archived = crew.debtor("Hugo", 300)
    customer_archive(hub=crew.hub, customer=archived)  # archiving settles nothing
    crew.debtor("Theirs", 700, hub=other_hub)
    assert list(_owed(crew.hub).items()) == [("Lea", 9000), ("Marie", 1550), ("Hugo", 300)]


def test_the_filters_take_a_tag_an_order_cycle_and_a_range_of_what_is_owed(crew):
    marie = crew.debtor("Marie", 1550, tags=("veg box",))
    crew.debtor("Paul", 800, tags=("veg box",))
    crew.debtor("Lea", 3000)
    cycle_id = shop_objects(crew.hub, marie)["cycle_id"]  # Marie ordered in this cycle
    assert set(_owed(crew.hub, DebtorFilter(tag="veg box"))) == {"Marie", "Paul"}
    assert set(_owed(crew.hub, DebtorFilter(cycle_id=cycle_id))) == {"Marie"}
    assert set(_owed(crew.hub, DebtorFilter(owed_min_minor=1000))) == {"Marie", "Lea"}
    assert set(_owed(crew.hub, DebtorFilter(owed_max_minor=1550))) == {"Marie", "Paul"}
    assert set(_owed(crew.hub, DebtorFilter(tag="veg box", owed_min_minor=1000))) == {"Marie"}
    assert len(debtor_ids(hub=crew.hub, filters=DebtorFilter(owed_min_minor=1))) == 3


def test_each_row_says_the_last_order_the_cards_state_and_the_open_payment(crew):
    now = timezone.now()
    people = {name: crew.debtor(name, 1000) for name in ("Valid", "Soon", "Later", "Expired", "None")}
    crew.card(people["Valid"], month=12, year=now.year + 3)
    crew.card(people["Soon"], month=now.month, year=now.year)  # this month: still charged, soon not
    crew.card(people["Later"], month=months_from(now, 1)[0], year=months_from(now, 1)[1])
    crew.card(people["Expired"], month=months_from(now, -1)[0], year=months_from(now, -1)[1])
    activity_record(
        customer=people["Valid"], kind=ActivityKind.ORDER_COMPLETED, key="order:1:completed",
        occurred_at=now - timedelta(days=3), amount_minor=1000, unit="EUR", ref=Ref("order", 1),
    )  # fmt: skip
    debt_bill(hub=crew.hub, actor=crew.owner, customer_ids=[people["Soon"].id])
    rows = {row.customer.first_name: row for row in debtor_rows(hub=crew.hub, customers=debtor_list(hub=crew.hub))}
    states = {name: row.card_state for name, row in rows.items()}
    assert states == {"Valid": "valid", "Soon": "expiring", "Later": "expiring", "Expired": "expired", "None": "none"}
    assert rows["Valid"].last_order_at == now - timedelta(days=3) and rows["None"].last_order_at is None
    assert rows["Soon"].scheduled is not None and rows["Soon"].scheduled.status == ScheduledPaymentStatus.SCHEDULED
    assert rows["Valid"].scheduled is None
    assert rows["Valid"].price_minor == 1000


def test_a_page_of_debtors_costs_the_same_few_queries_whatever_its_length(crew, django_assert_max_num_queries):
    for n in range(60):
        person = crew.debtor(f"Person{n}", 100 + n)
        if n % 2:
            crew.card(person)
    debt_bill(hub=crew.hub, actor=crew.owner, customer_ids=list(debtor_ids(hub=crew.hub))[:10])
    with django_assert_max_num_queries(8):
        page = list(debtor_list(hub=crew.hub)[:50])
        rows = debtor_rows(hub=crew.hub, customers=page)
    assert len(rows) == 50 and sum(1 for row in rows if row.scheduled) == 10


def test_in_a_named_credit_hub_the_debt_is_in_credits_and_in_money_at_the_hubs_price(crew):
    credit_unit_choose(hub=crew.hub, actor=crew.owner, code="KAI", name="kai", decimals=0)
    unit_price_set(hub=crew.hub, actor=crew.owner, currency="EUR", credits_minor=10, price_minor=100)  # 10 kai: 1 EUR
    marie = crew.debtor("Marie", 55)
    [row] = debtor_rows(hub=crew.hub, customers=debtor_list(hub=crew.hub))
    assert (row.customer, row.owed_minor, row.price_minor) == (marie, 55, 550)


def _failed(crew, person, *, days_ago: int = 3, status=ScheduledPaymentStatus.FAILED):
    """A debt payment as the morning run leaves it after its last try (or in another state)."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return ScheduledPayment.objects.create(
        hub=crew.hub, customer=person, account_id=person.account_id, status=status, due_on=day, run_on=day,
        credits_minor=1000, unit="EUR", price_minor=1000, currency="EUR",
    )  # fmt: skip


def test_overdue_are_those_whose_payment_failed_for_good_or_who_owe_for_longer_than_the_overdue_days(crew):
    failed = crew.debtor("Failed", 1000)
    _failed(crew, failed, days_ago=4)
    crew.debtor("Recent", 500)  # in debt since today: not overdue yet
    paid_since = crew.debtor("Paid", 1000)
    _failed(crew, paid_since)
    customer_credit_apply(hub=crew.hub, actor=crew.owner, customer=paid_since, action="external_payment",
                          amount_minor=1000, comment="cash", key="cash-1", method="cash")  # fmt: skip
    superseded = crew.debtor("Superseded", 700)
    _failed(crew, superseded)
    _failed(crew, superseded, days_ago=-2, status=ScheduledPaymentStatus.SCHEDULED)  # billed again after it failed

    rows = overdue_list(hub=crew.hub)
    assert [(row.customer.first_name, row.days_overdue, row.owed_minor) for row in rows] == [("Failed", 4, 1000)]
    assert rows[0].retryable == rows[0].failed

    billing_settings_update(hub=crew.hub, actor=crew.owner, overdue_days=14)
    later = overdue_list(hub=crew.hub, now=timezone.now() + timedelta(days=16))
    assert {row.customer.first_name: row.days_overdue for row in later} == {"Failed": 20, "Recent": 2,
                                                                           "Superseded": 2}  # fmt: skip
    overview = overdue_overview(hub=crew.hub, now=timezone.now() + timedelta(days=16))
    assert (overview.count, overview.owed_minor) == (3, 2200)
