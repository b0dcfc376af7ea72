"""Debt-based billing end to end against the Stripe proxy: crew bill, the customer is told, the
morning run charges once at the hub's morning hour for no more than the notice said, declines are
retried (soft) or never (hard), the bank's check goes to the customer, and nothing twice."""

from __future__ import annotations

import pytest

from hubtab.billing.models import AttemptOutcome, ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.run import billing_run
from hubtab.billing.scheduling import debt_bill, debt_preview
from hubtab.billing.tests.conftest import BANK_CHECK_CARD, DECLINING_CARD, paris
from hubtab.ledger.verify import ledger_verify
from hubtab.messaging.models import Delivery
from hubtab.payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY_AFTERNOON = paris(2026, 12, 7, 14, 0)


def _kinds(person) -> list[str]:
    return list(Delivery.objects.filter(customer=person).order_by("id").values_list("kind", flat=True))


def test_crew_bill_a_debt_and_the_morning_run_brings_the_balance_back_to_zero_once(billing):
    marie = billing.customer("Marie", owes_minor=1550)
    assert billing.balance(marie) == -1550

    [line] = debt_preview(hub=billing.hub, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    assert (line.owed_minor, line.price_minor, line.problem) == (1550, 1550, "")
    assert line.run_on.isoformat() == "2026-12-09"  # a day's notice: told Monday 14:00, charged Wednesday morning

    result = debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    assert (result.scheduled, result.updated) == (1, 0)
    scheduled = ScheduledPayment.objects.get(customer=marie)
    assert scheduled.status == ScheduledPaymentStatus.SCHEDULED and scheduled.price_minor == 1550
    assert _kinds(marie) == ["billing_scheduled"]

    assert billing_run(now=paris(2026, 12, 9, 4, 59)).get("succeeded", 0) == 0  # not yet the hub's morning
    assert billing_run(now=paris(2026, 12, 9, 5, 1))["succeeded"] == 1
    assert billing.balance(marie) == 0
    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledPaymentStatus.SUCCEEDED
    assert billing_run(now=paris(2026, 12, 9, 5, 11)).get("succeeded", 0) == 0  # the next tick: nothing twice
    assert Payment.objects.filter(customer=marie, off_session=True, status="succeeded").count() == 1
    assert _kinds(marie) == ["billing_scheduled", "payment_receipt"]
    assert ledger_verify(hub_id=billing.hub.id) == []


def test_billing_again_updates_the_one_open_payment_and_tells_the_new_amount(billing):
    marie = billing.customer("Marie", owes_minor=1000)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    billing.spend(marie, 500)
    again = debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    assert (again.scheduled, again.updated) == (0, 1)
    assert ScheduledPayment.objects.filter(customer=marie).count() == 1
    assert ScheduledPayment.objects.get(customer=marie).credits_minor == 1500
    assert _kinds(marie) == ["billing_scheduled", "billing_scheduled"]
    unchanged = debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    assert unchanged.unchanged == 1 and len(_kinds(marie)) == 2  # nothing new to tell


def test_the_run_never_charges_more_than_the_notice_said_and_less_if_less_is_owed(billing):
    marie = billing.customer("Marie", owes_minor=1000)
    paul = billing.customer("Paul", owes_minor=1000)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id, paul.id], now=MONDAY_AFTERNOON)
    billing.spend(marie, 700)  # more debt after the notice: not taken this time
    billing.credit(paul, 400)  # Paul paid 4.00 in cash meanwhile: only what he still owes is taken
    billing_run(now=paris(2026, 12, 9, 5, 5))
    assert billing.balance(marie) == -700
    assert Payment.objects.get(customer=marie, off_session=True).price_minor == 1000
    assert Payment.objects.get(customer=paul, off_session=True).price_minor == 600
    assert billing.balance(paul) == 0


def test_a_customer_who_paid_before_the_day_is_not_charged(billing):
    marie = billing.customer("Marie", owes_minor=1000)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    from hubtab.billing.changes import debt_recheck

    billing.credit(marie, 1000)
    debt_recheck(hub=billing.hub, account_id=marie.account_id)
    assert ScheduledPayment.objects.get(customer=marie).status == ScheduledPaymentStatus.NOT_NEEDED
    assert billing_run(now=paris(2026, 12, 9, 5, 5)).get("succeeded", 0) == 0
    assert not Payment.objects.filter(customer=marie, off_session=True).exists()


def test_a_soft_decline_is_retried_on_the_schedule_then_the_payment_fails_and_the_customer_is_overdue(billing):
    marie = billing.customer("Marie", card=DECLINING_CARD, owes_minor=1200)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    days = ["2026-12-09", "2026-12-10", "2026-12-12", "2026-12-16"]  # the day, then 1, 3 and 7 days after it
    for day in days:
        scheduled = ScheduledPayment.objects.get(customer=marie)
        assert scheduled.run_on.isoformat() == day
        year, month, dom = (int(part) for part in day.split("-"))
        assert billing_run(now=paris(year, month, dom, 5, 1))["declined"] == 1
    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledPaymentStatus.FAILED and scheduled.decline_code == "insufficient_funds"
    assert [a.outcome for a in scheduled.attempts.order_by("number")] == [AttemptOutcome.DECLINED] * 4
    assert _kinds(marie) == ["billing_scheduled", *["billing_failed"] * 3, "billing_failed_final"]
    assert billing.balance(marie) == -1200


@pytest.mark.parametrize("code", ["lost_card", "stolen_card", "fraudulent", "pickup_card", "incorrect_number"])
def test_a_hard_decline_is_never_tried_again(billing, code):
    marie = billing.customer("Marie", card=None, owes_minor=1200)
    billing.card(marie, DECLINING_CARD, decline_code=code)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    assert billing_run(now=paris(2026, 12, 9, 5, 1))["declined_hard"] == 1
    scheduled = ScheduledPayment.objects.get(customer=marie)
    assert scheduled.status == ScheduledPaymentStatus.FAILED and scheduled.decline_code == code
    for day in (10, 12, 16, 30):
        billing_run(now=paris(2026, 12, day, 6, 0))
    assert scheduled.attempts.count() == 1
    assert _kinds(marie) == ["billing_scheduled", "billing_failed_final"]


def test_the_bank_wants_the_customer_they_get_a_link_and_a_later_retry_cancels_the_old_charge(billing):
    marie = billing.customer("Marie", card=BANK_CHECK_CARD, owes_minor=900)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    assert billing_run(now=paris(2026, 12, 9, 5, 1))["action_required"] == 1
    assert _kinds(marie) == ["billing_scheduled", "billing_action"]
    first = Payment.objects.get(customer=marie, off_session=True)
    assert first.status == "requires_action"
    billing_run(now=paris(2026, 12, 10, 5, 1))  # the retry: the old charge is stopped first
    first.refresh_from_db()
    assert first.status == "canceled"
    assert billing.balance(marie) == -900


def test_a_customer_with_no_valid_card_is_told_and_no_charge_is_made(billing):
    marie = billing.customer("Marie", card=None, owes_minor=900)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    assert billing_run(now=paris(2026, 12, 9, 5, 1))["no_card"] == 1
    assert not Payment.objects.filter(customer=marie, off_session=True).exists()
    assert _kinds(marie) == ["billing_scheduled", "billing_no_card"]
    assert ScheduledPayment.objects.get(customer=marie).status == ScheduledPaymentStatus.RETRYING


def test_finance_crew_get_one_summary_of_the_mornings_run_with_what_failed_and_why(billing):
    marie = billing.customer("Marie", owes_minor=1000)
    paul = billing.customer("Paul", card=DECLINING_CARD, owes_minor=800)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id, paul.id], now=MONDAY_AFTERNOON)
    assert billing_run(now=paris(2026, 12, 9, 5, 1))["summaries"] == 1  # the owner is the hub's only finance crew
    billing_run(now=paris(2026, 12, 9, 5, 11))
    [summary] = Delivery.objects.filter(hub=billing.hub, kind="billing_summary")
    assert summary.to_email == "owner@greenvalley.example" and summary.customer is None
    assert "1 payé" in summary.subject and "1 non payé" in summary.subject  # the hub speaks French
    assert "Paul Test" in summary.body and "pas assez d'argent" in summary.body.lower()
