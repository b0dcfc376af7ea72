"""Scheduling by itself: where the hub says so, completing an order that leaves the balance below
zero creates (or updates) the customer's one payment of debt, dated for the first morning the
notice allows; where it doesn't, nothing is scheduled until crew bill."""

from __future__ import annotations

import pytest

from hubtab.billing.billing_settings import billing_settings_update
from hubtab.billing.models import ScheduledPayment
from hubtab.billing.scheduling import earliest_charge_day
from hubtab.messaging.models import Delivery
from hubtab.shop.services import order_complete
from hubtab.testing import shop_objects

pytestmark = pytest.mark.django_db(transaction=True)


def test_completing_an_order_that_leaves_a_debt_schedules_its_payment_when_the_hub_says_so(billing):
    billing_settings_update(hub=billing.hub, actor=billing.owner, schedule_after_order=True)
    marie = billing.customer("Marie")
    order_id = shop_objects(billing.hub, marie)["order_id"]  # eggs at 3.00, from her credit within her limit
    order_complete(hub=billing.hub, actor=billing.owner, order_id=order_id)
    assert billing.balance(marie) == -300
    scheduled = ScheduledPayment.objects.get(customer=marie)
    assert (scheduled.credits_minor, scheduled.price_minor, scheduled.status) == (300, 300, "scheduled")
    assert scheduled.run_on == earliest_charge_day(hub=billing.hub)
    assert Delivery.objects.filter(customer=marie, kind="billing_scheduled").count() == 1


def test_without_automatic_scheduling_a_completed_order_schedules_nothing(billing):
    marie = billing.customer("Marie")
    order_complete(hub=billing.hub, actor=billing.owner, order_id=shop_objects(billing.hub, marie)["order_id"])
    assert billing.balance(marie) == -300
    assert not ScheduledPayment.objects.filter(customer=marie).exists()
