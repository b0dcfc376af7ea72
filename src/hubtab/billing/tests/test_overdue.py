"""Finance settling overdue accounts, against the Stripe proxy: a soft decline is charged again now;
a hard decline only on another card; money paid by hand takes the customer off the overdue list
and leaves the books verifiable; a new day is scheduled; bad input changes nothing."""

from __future__ import annotations

import pytest

from hubtab.billing.debtors import overdue_list
from hubtab.billing.models import AttemptOutcome, ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.overdue import (
    PAID_BY_HAND,
    overdue_payment_record,
    overdue_schedule,
    scheduled_payment_retry_now,
)
from hubtab.billing.run import billing_run
from hubtab.billing.scheduling import debt_bill
from hubtab.billing.tests.conftest import DECLINING_CARD, GOOD_CARD, paris
from hubtab.core.errors import DomainError
from hubtab.crm.services import customer_create
from hubtab.ledger.verify import ledger_verify
from hubtab.payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY_AFTERNOON = paris(2026, 12, 7, 14, 0)
WEDNESDAY_MORNING = paris(2026, 12, 9, 5, 1)  # the first morning a Monday's notice allows
LATER_THAT_MORNING = paris(2026, 12, 9, 10, 30)


def _failed_on_wednesday(billing, name: str, *, decline_code: str, owes_minor: int = 1200):
    person = billing.customer(name, card=None, owes_minor=owes_minor)
    billing.card(person, DECLINING_CARD, decline_code=decline_code)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[person.id], now=MONDAY_AFTERNOON)
    billing_run(now=WEDNESDAY_MORNING)
    return person, ScheduledPayment.objects.get(hub=billing.hub, customer=person)


def test_a_soft_decline_is_charged_again_now_and_a_new_card_then_pays(billing):
    marie, payment = _failed_on_wednesday(billing, "Marie", decline_code="insufficient_funds")
    assert payment.status == ScheduledPaymentStatus.RETRYING
    again = scheduled_payment_retry_now(hub=billing.hub, actor=billing.owner, scheduled_id=payment.id,
                                        now=LATER_THAT_MORNING)  # fmt: skip
    assert again == AttemptOutcome.DECLINED
    payment.refresh_from_db()
    assert payment.attempts.count() == 2 and payment.status == ScheduledPaymentStatus.RETRYING
    billing.card(marie, GOOD_CARD)
    paid = scheduled_payment_retry_now(hub=billing.hub, actor=billing.owner, scheduled_id=payment.id,
                                       now=LATER_THAT_MORNING)  # fmt: skip
    assert paid == "succeeded"
    payment.refresh_from_db()
    assert payment.status == ScheduledPaymentStatus.SUCCEEDED and billing.balance(marie) == 0
    assert Payment.objects.filter(hub=billing.hub, customer=marie, status="succeeded").count() == 1
    assert ledger_verify(hub_id=billing.hub.id) == []


def test_a_hard_decline_is_not_charged_again_on_the_same_card_but_is_on_a_new_one(billing):
    paul, payment = _failed_on_wednesday(billing, "Paul", decline_code="lost_card")
    assert payment.status == ScheduledPaymentStatus.FAILED
    assert [row.customer for row in overdue_list(hub=billing.hub, now=LATER_THAT_MORNING)] == [paul]
    with pytest.raises(DomainError) as refused:
        scheduled_payment_retry_now(hub=billing.hub, actor=billing.owner, scheduled_id=payment.id,
                                    now=LATER_THAT_MORNING)  # fmt: skip
    assert refused.value.code == "hard_decline" and "reported lost" in refused.value.message
    payment.refresh_from_db()
    assert (payment.status, payment.attempts.count()) == (ScheduledPaymentStatus.FAILED, 1)

    billing.card(paul, GOOD_CARD)  # saved with Paul on the phone
    assert scheduled_payment_retry_now(hub=billing.hub, actor=billing.owner, scheduled_id=payment.id,
                                       now=LATER_THAT_MORNING) == "succeeded"  # fmt: skip
    assert billing.balance(paul) == 0
    assert overdue_list(hub=billing.hub, now=LATER_THAT_MORNING) == []


def test_only_a_failed_payment_is_charged_again_now_and_never_one_being_charged(billing):
    marie = billing.customer("Marie", owes_minor=900)
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[marie.id], now=MONDAY_AFTERNOON)
    payment = ScheduledPayment.objects.get(hub=billing.hub, customer=marie)
    with pytest.raises(DomainError) as not_failed:
        scheduled_payment_retry_now(hub=billing.hub, actor=billing.owner, scheduled_id=payment.id)
    assert not_failed.value.code == "not_failed"
    ScheduledPayment.objects.filter(hub=billing.hub, id=payment.id).update(status=ScheduledPaymentStatus.PROCESSING)
    with pytest.raises(DomainError) as busy:
        scheduled_payment_retry_now(hub=billing.hub, actor=billing.owner, scheduled_id=payment.id)
    assert busy.value.code == "payment_processing"
    assert not Payment.objects.filter(hub=billing.hub, customer=marie).exists()


def test_cash_paid_by_hand_takes_the_customer_off_the_overdue_list_and_the_books_verify(billing):
    paul, payment = _failed_on_wednesday(billing, "Paul", decline_code="lost_card")
    overdue_payment_record(hub=billing.hub, actor=billing.owner, customer=paul, amount_minor=500, method="cash",
                           note="at the market", key="overdue:first")  # fmt: skip
    [still] = overdue_list(hub=billing.hub, now=LATER_THAT_MORNING)
    assert (still.customer, still.owed_minor) == (paul, 700)  # part paid: still overdue, for less

    overdue_payment_record(hub=billing.hub, actor=billing.owner, customer=paul, amount_minor=700,
                           method="bank_transfer", note="", key="overdue:second")  # fmt: skip
    overdue_payment_record(hub=billing.hub, actor=billing.owner, customer=paul, amount_minor=700,
                           method="bank_transfer", note="", key="overdue:second")  # the form sent twice  # fmt: skip
    assert billing.balance(paul) == 0
    assert overdue_list(hub=billing.hub, now=LATER_THAT_MORNING) == []
    payment.refresh_from_db()
    assert (payment.status, payment.outcome) == (ScheduledPaymentStatus.FAILED, PAID_BY_HAND)  # its history stays
    assert ledger_verify(hub_id=billing.hub.id) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": "cheque"}, "validation_error"),
        ({"amount_minor": 0}, "invalid_amount"),
        ({"amount_minor": -500}, "invalid_amount"),
        ({"note": "x" * 501}, "validation_error"),
    ],
)
def test_a_payment_recorded_with_bad_input_is_refused_and_changes_nothing(billing, change, code):
    marie = billing.customer("Marie", card=None, owes_minor=900)
    asked = {"amount_minor": 900, "method": "cash", "note": ""} | change
    with pytest.raises(DomainError) as refused:
        overdue_payment_record(hub=billing.hub, actor=billing.owner, customer=marie, **asked)
    assert refused.value.code == code and refused.value.message
    assert billing.balance(marie) == -900


def test_another_hubs_customer_cannot_be_recorded_or_scheduled_here(billing, other_hub):
    theirs = customer_create(hub=other_hub, email="theirs@example.org")
    with pytest.raises(DomainError):
        overdue_payment_record(hub=billing.hub, actor=billing.owner, customer=theirs, amount_minor=500, method="cash")
    with pytest.raises(DomainError):
        overdue_schedule(hub=billing.hub, actor=billing.owner, customer_id=theirs.id, run_on=WEDNESDAY_MORNING.date())


def test_an_overdue_customer_is_scheduled_for_a_new_day_and_told(billing):
    paul, failed = _failed_on_wednesday(billing, "Paul", decline_code="lost_card")
    billing.card(paul, GOOD_CARD)
    with pytest.raises(DomainError) as too_early:
        overdue_schedule(hub=billing.hub, actor=billing.owner, customer_id=paul.id,
                         run_on=LATER_THAT_MORNING.date(), now=LATER_THAT_MORNING)  # fmt: skip
    assert too_early.value.code == "date_too_early"
    result = overdue_schedule(hub=billing.hub, actor=billing.owner, customer_id=paul.id,
                              run_on=paris(2026, 12, 14, 0, 0).date(), now=LATER_THAT_MORNING)  # fmt: skip
    assert result.scheduled == 1
    fresh = ScheduledPayment.objects.filter(hub=billing.hub, customer=paul).exclude(id=failed.id).get()
    assert (fresh.status, fresh.run_on.isoformat()) == (ScheduledPaymentStatus.SCHEDULED, "2026-12-14")
    assert billing_run(now=paris(2026, 12, 14, 5, 1))["succeeded"] == 1
    assert billing.balance(paul) == 0
