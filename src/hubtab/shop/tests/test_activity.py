"""Each customer's activity and figures: written with the action that caused them, never twice,
never left behind by an action rolled back, and equal to a rebuild from scratch."""

from __future__ import annotations

import csv
import importlib
import io
import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from hubtab.accounts.services import CreditAction, credit_settings_update, order_hold_place
from hubtab.core.errors import DomainError
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.core.tenancy import all_hubs
from hubtab.crm.activity import figures_computed
from hubtab.crm.models import Activity, CustomerFigures
from hubtab.crm.services import (
    customer_charge,
    customer_credit_apply,
    customer_hold_capture,
    customer_transaction_correct,
)
from hubtab.payments.models import PaymentMethod
from hubtab.payments.services import topup_start, transfer_confirm
from hubtab.shop.models import Order, OrderLine, OrderStatus
from hubtab.shop.services import order_cancel, order_complete, order_extra_add, order_pack, order_refund

pytestmark = pytest.mark.django_db

FIELDS = ("first_order_at", "last_order_at", "orders_completed", "spent_minor", "last_top_up_at")


@pytest.fixture
def finance(hub):
    user = user_create(email="finance@example.org", password=None, email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.FINANCE)
    return user


def _kept(customer) -> dict:
    figures = CustomerFigures.objects.across_hubs().get(customer=customer)
    return {name: getattr(figures, name) for name in FIELDS}


def _kinds(customer) -> list[str]:
    return list(Activity.objects.across_hubs().filter(customer=customer).order_by("id").values_list("kind", flat=True))


def _mixed_history(shop, finance):
    """Marie: two orders completed (one with an extra after, one partly refunded), one cancelled,
    one still open; a bank transfer and a hand-made credit correction."""
    credit_settings_update(hub=shop.hub, actor=None, bank_transfer_details="IBAN FR76 0000")
    marie = shop.customer(credit_minor=5000)
    first = shop.place(marie, {shop.eggs.id: 2})
    order_complete(hub=shop.hub, actor=finance, order_id=first.id)
    order_extra_add(hub=shop.hub, actor=finance, order_id=first.id, name="Bag", quantity=1, unit_price_minor=50)
    cancelled = shop.place(marie, {shop.bread.id: 1})
    order_cancel(hub=shop.hub, actor=finance, order_id=cancelled.id, reason="Changed her mind")
    second = shop.place(marie, {shop.chicken.id: 1, shop.bread.id: 2})
    line = OrderLine.objects.across_hubs().get(order=second, variant=shop.chicken)
    order_pack(hub=shop.hub, actor=finance, order_id=second.id, packed={line.id: (1, 1480)})
    order_complete(hub=shop.hub, actor=finance, order_id=second.id)
    order_refund(hub=shop.hub, actor=finance, order_id=second.id, amount_minor=320, reason="Stale bread", key="r1")
    shop.place(marie, {shop.eggs.id: 1})
    transfer = topup_start(hub=shop.hub, customer=marie, actor=None, price_minor=2000,
                           method=PaymentMethod.BANK_TRANSFER)  # fmt: skip
    transfer_confirm(hub=shop.hub, actor=finance, payment_id=transfer.id)
    customer_credit_apply(hub=shop.hub, actor=finance, customer=marie, action=CreditAction.REMOVE, amount_minor=100,
                          comment="Double-counted bag", key="fix-1")  # fmt: skip
    return marie


def test_the_kept_figures_equal_the_orders_and_a_rebuild_after_a_mixed_history(shop, finance):
    marie = _mixed_history(shop, finance)
    completed = Order.objects.across_hubs().filter(customer=marie, status=OrderStatus.COMPLETED)
    # What a person would add up from the orders themselves.
    expected_spent = sum(o.final_minor - o.carried_minor - o.refunded_minor for o in completed)
    kept = _kept(marie)
    assert kept["orders_completed"] == 2
    assert kept["spent_minor"] == expected_spent == 900 + 50 + (1776 + 640 - 320)
    assert kept["first_order_at"] == min(o.completed_at for o in completed)
    assert kept["last_order_at"] == max(o.completed_at for o in completed)
    assert kept["last_top_up_at"] is not None
    assert figures_computed(hub_id=shop.hub.id)[marie.id] == kept
    assert _kinds(marie) == [
        "customer_added", "order_placed", "order_completed", "became_customer", "order_extra", "order_placed",
        "order_cancelled",
        "order_placed", "order_completed", "order_refunded", "order_placed", "topped_up", "credit_removed",
    ]  # fmt: skip


def test_the_rebuild_command_finds_and_fixes_figures_that_went_wrong(shop, finance):
    marie = _mixed_history(shop, finance)
    kept = _kept(marie)
    out = StringIO()
    call_command("crm", "figures", "rebuild", "--hub", shop.hub.slug, stdout=out)
    assert "all figures held" in out.getvalue()
    CustomerFigures.objects.across_hubs().filter(customer=marie).update(spent_minor=0, orders_completed=7)
    out = StringIO()
    call_command("crm", "figures", "rebuild", stdout=out)
    assert "1 person(s)' figures were wrong and are fixed" in out.getvalue()
    assert _kept(marie) == kept


def test_an_action_rolled_back_leaves_no_activity_and_a_retry_records_nothing_twice(shop, finance):
    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.chicken.id: 1})
    with pytest.raises(DomainError):  # not weighed: refused, nothing recorded
        order_complete(hub=shop.hub, actor=finance, order_id=order.id)
    with pytest.raises(RuntimeError), transaction.atomic():  # completed, then the caller's transaction fails
        order_complete(hub=shop.hub, actor=finance, order_id=order.id, charge_estimate=True)
        raise RuntimeError("crash after completing")
    assert "order_completed" not in _kinds(marie)
    assert not CustomerFigures.objects.across_hubs().filter(customer=marie, orders_completed__gt=0).exists()
    for _ in range(2):  # a double click, a retried job
        order_complete(hub=shop.hub, actor=finance, order_id=order.id, charge_estimate=True)
        customer_credit_apply(hub=shop.hub, actor=finance, customer=marie, action=CreditAction.ADD_GRANTED,
                              amount_minor=300, comment="Sorry for the wait", key="sorry-1")  # fmt: skip
    assert _kinds(marie).count("order_completed") == 1
    assert _kinds(marie).count("credit_added") == 1
    assert _kept(marie)["orders_completed"] == 1


def test_a_reversal_is_on_the_timeline_with_its_reason(shop, finance):
    marie = shop.customer()
    posted = customer_credit_apply(hub=shop.hub, actor=finance, customer=marie, action=CreditAction.ADD_PAID,
                                   amount_minor=700, comment="Wrong customer", key="k1")  # fmt: skip
    customer_transaction_correct(hub=shop.hub, actor=finance, customer=marie, transaction_id=posted.transaction_id,
                                 reason="Meant for Paul", key="rev-1")  # fmt: skip
    assert _kinds(marie)[-2:] == ["credit_added", "entry_reversed"]


def test_the_customer_page_shows_the_timeline_and_figures(client, shop, finance):
    marie = _mixed_history(shop, finance)
    completed = Order.objects.across_hubs().filter(customer=marie, status=OrderStatus.COMPLETED)
    second = completed.order_by("id").last()
    client.force_login(finance)
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(
        reverse("customer_detail", args=[shop.hub.slug, marie.id])).content.decode()))  # fmt: skip
    assert "Total purchases €30.46" in page
    assert "Orders 2" in page
    assert f"Order #{second.id} refunded to credit: Stale bread" in page
    assert f"Order #{second.id - 1} cancelled: Changed her mind" in page
    assert "Topped up by bank transfer" in page
    assert "Credit removed: Double-counted bag" in page


def test_the_backfill_writes_the_activity_of_a_history_older_than_the_record(shop, finance):
    marie = _mixed_history(shop, finance)
    kept = _kept(marie)
    kinds = sorted(_kinds(marie))
    Activity.objects.across_hubs().all().delete()
    CustomerFigures.objects.across_hubs().all().delete()
    migration = importlib.import_module("hubtab.crm.migrations.0008_activity_backfill")
    with all_hubs():  # as in a migration, whose models have plain managers
        migration.backfill(apps, None)
    assert _kept(marie) == kept
    # Extras after completion are part of the order's total there, not lines of their own.
    assert sorted(_kinds(marie)) == sorted(k for k in kinds if k != "order_extra")


def test_another_shops_orders_paid_over_the_api_count_as_purchases(shop, finance):
    marie = shop.customer(credit_minor=5000)
    customer_charge(hub=shop.hub, customer=marie, amount_minor=1200, reference="web-881", description="Veg box",
                    key="api-1")  # fmt: skip
    held = order_hold_place(hub=shop.hub, account_id=marie.account_id, amount_minor=900, reference="web-882",
                            key="api-2")  # fmt: skip
    for _ in range(2):  # the integrator retries
        customer_hold_capture(hub=shop.hub, hold_id=held.hold_id, key="api-3", amount_minor=800)
    assert _kinds(marie) == ["customer_added", "charged", "became_customer", "charged"]
    assert (_kept(marie)["orders_completed"], _kept(marie)["spent_minor"]) == (2, 2000)
    assert figures_computed(hub_id=shop.hub.id)[marie.id] == _kept(marie)


def test_the_customer_export_carries_the_figures(client, shop, finance):
    marie = _mixed_history(shop, finance)
    client.force_login(finance)
    every_column = "name,email,last_purchase,orders,spent"
    response = client.get(reverse("customer_export", args=[shop.hub.slug]), {"csv_sep": "comma", "cols": every_column})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    (row,) = [r for r in rows if r["email"] == marie.email]
    assert (row["orders"], row["total_purchases"]) == ("2", "30.46")
    assert row["last_purchase"].startswith(str(_kept(marie)["last_order_at"].date()))


def test_a_lead_becomes_a_customer_at_the_first_completed_order_and_lapses_after_eight_weeks(shop, finance):
    from datetime import timedelta

    from hubtab.crm.selectors import customer_list
    from hubtab.crm.services import customer_archive

    marie = shop.customer("marie@example.org", credit_minor=5000)
    shop.customer("lea@example.org")  # never orders
    gone = shop.customer("gone@example.org")
    customer_archive(hub=shop.hub, customer=gone)

    def who(status, now=None):
        return sorted(c.email for c in customer_list(hub=shop.hub, status=status, now=now))

    assert who("lead") == ["lea@example.org", "marie@example.org"]
    for _ in range(2):
        order = shop.place(marie, {shop.bread.id: 1})
        order_complete(hub=shop.hub, actor=finance, order_id=order.id)
    assert _kinds(marie).count("became_customer") == 1  # the first order only, on the timeline
    assert (who("lead"), who("customer"), who("archived")) == (
        ["lea@example.org"],
        ["marie@example.org"],
        ["gone@example.org"],
    )
    later = _kept(marie)["last_order_at"] + timedelta(weeks=8, days=1)
    assert (who("customer", now=later), who("lapsed", now=later)) == ([], ["marie@example.org"])
