"""What finance crew do about an overdue account: charge a failed payment again now, record money
the customer paid by hand (cash, bank transfer), or schedule the debt for a new day.

A payment that failed for good keeps its "failed" status when the customer then pays by hand: its
history is true, and its outcome says it was paid by hand. The customer leaves the overdue list
because they owe nothing any more (billing.debtors reads the balance), not because of a status."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.billing import locks
from hubtab.billing.billing_settings import billing_settings_of
from hubtab.billing.changes import REASON_MAX, debt_recheck
from hubtab.billing.dates import hub_today
from hubtab.billing.declines import decline_kind, decline_words
from hubtab.billing.models import (
    OPEN_STATUSES,
    PaymentAttempt,
    ScheduledPayment,
    ScheduledPaymentKind,
    ScheduledPaymentStatus,
)
from hubtab.billing.run import scheduled_payment_take
from hubtab.billing.scheduling import BillResult, debt_bill
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check
from hubtab.core.services import audit_money, audit_record
from hubtab.crm.models import Customer
from hubtab.crm.services import customer_credit_apply
from hubtab.ledger.selectors import account_state
from hubtab.payments.models import Payment
from hubtab.payments.services import card_for_charges

RECORD_METHODS = ("cash", "bank_transfer")
NOTE_MAX = 500
PAID_BY_HAND = gettext_noop("Paid by hand after it failed.")  # stored in Hubtab's words, shown translated


def scheduled_payment_retry_now(*, hub: Hub, actor: User, scheduled_id: int, now: datetime | None = None) -> str:
    """Charge a debt payment that failed (for good, or with a retry to come) now, for no more than
    the customer was told. A hard decline (a lost, stolen or closed card) is retried only on
    another card: charging the same card again can bring card-network fines. Returns what the
    charge came to ("succeeded", "declined", "declined_hard", "action_required", "unknown", ...)."""
    now = now or timezone.now()
    with transaction.atomic():
        scheduled = locks.scheduled_payment_locked(hub=hub, scheduled_id=scheduled_id)
        _retry_check(hub, scheduled, now)
        before = scheduled.status
        scheduled.status = ScheduledPaymentStatus.RETRYING
        scheduled.run_on = hub_today(hub=hub, now=now)
        scheduled.finished_at = None
        scheduled.updated_at = now
        scheduled.save(update_fields=["status", "run_on", "finished_at", "updated_at"])
        audit_record(
            hub=hub, actor=actor, action="billing.retry_now", subject=scheduled.customer,
            summary=gettext_noop("Charged a failed payment again now"), data={"status_before": before},
        )  # fmt: skip
    # Due from midnight today: the charge goes now, whatever the hub's morning hour.
    return scheduled_payment_take(hub=hub, scheduled_id=scheduled_id, now=now, morning_hour=0)


def _retry_check(hub: Hub, scheduled: ScheduledPayment, now: datetime) -> None:
    if scheduled.kind != ScheduledPaymentKind.DEBT:
        raise DomainError("validation_error", _("Only a payment of debt can be charged again from here."))
    if scheduled.status == ScheduledPaymentStatus.PROCESSING:
        raise DomainError("payment_processing", _("This payment is being charged right now; look again in a minute."))
    if scheduled.status not in (ScheduledPaymentStatus.FAILED, ScheduledPaymentStatus.RETRYING):
        raise DomainError(
            "not_failed", _("Only a failed payment can be charged again now; this one is %(status)s.")
            % {"status": str(ScheduledPaymentStatus(scheduled.status).label).lower()},
        )  # fmt: skip
    another = ScheduledPayment.objects.filter(
        hub=hub, customer_id=scheduled.customer_id, kind=ScheduledPaymentKind.DEBT, status__in=OPEN_STATUSES
    ).exclude(id=scheduled.id)
    if another.exists():
        raise DomainError("another_open", _("This customer has another payment scheduled: charge or move that one."))
    if account_state(hub_id=hub.id, account_id=scheduled.account_id).balance_minor >= 0:
        raise DomainError("nothing_owed", _("This customer owes nothing now: there is nothing to charge."))
    card = card_for_charges(hub=hub, account_id=scheduled.account_id, now=now)
    if card is None:
        raise DomainError(
            "no_card", _("The customer has no valid saved card. Save one with them on the phone, then try again.")
        )
    last = PaymentAttempt.objects.filter(hub=hub, scheduled_payment=scheduled).order_by("-number").first()
    if last is None or last.payment_id is None or decline_kind(last.decline_code) != "hard":
        return
    declined = Payment.objects.filter(hub=hub, id=last.payment_id).values_list("payment_method_ref", flat=True).first()
    if card.payment_method_ref == declined:
        raise DomainError(
            "hard_decline",
            _("The bank refused this card for good (%(why)s) and charging it again can bring fines from the card "
              "networks. Save another card with the customer first.") % {"why": decline_words(last.decline_code)},
        )  # fmt: skip


def overdue_payment_record(
    *, hub: Hub, actor: User, customer: Customer, amount_minor: int, method: str, note: str = "", key: str = "",
) -> ScheduledPayment | None:  # fmt: skip
    """Record money an overdue customer paid by hand (in the hub's currency; it buys credit at the
    hub's price), then bring their scheduled payment in line: an open one is lowered or not
    needed, and one that failed for good says it was paid by hand once nothing is owed. The same
    `key` (a form sent twice) records once. Returns the payment that failed for good, if any."""
    if customer.hub_id != hub.id:
        raise DomainError("not_found", _("That customer does not exist at this hub."))
    if method not in RECORD_METHODS:
        raise DomainError("validation_error", _("Say how the customer paid: cash or bank transfer."))
    try:
        amount_check(amount_minor)
    except DomainError:
        raise DomainError("invalid_amount", _("Enter the amount paid, more than zero.")) from None
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError("validation_error", _("Keep the note under 500 characters."))
    with transaction.atomic():
        customer_credit_apply(
            hub=hub, actor=actor, customer=customer, action="external_payment", amount_minor=amount_minor,
            method=method, comment=note or _("Overdue debt paid"), key=key or f"overdue:{uuid.uuid4()}",
            for_order=True,  # paying a debt buys what is owed at the hub's price: no bundle, no bonus
        )  # fmt: skip
        debt_recheck(hub=hub, account_id=customer.account_id)
        return _failed_paid_by_hand(hub, actor, customer, amount_minor)


def _failed_paid_by_hand(hub: Hub, actor: User, customer: Customer, amount_minor: int) -> ScheduledPayment | None:
    row = (
        ScheduledPayment.objects.filter(hub=hub, customer=customer, kind=ScheduledPaymentKind.DEBT)
        .exclude(status__in=[ScheduledPaymentStatus.CANCELLED, ScheduledPaymentStatus.NOT_NEEDED])
        .order_by("-id")
        .first()
    )
    if row is None or row.status != ScheduledPaymentStatus.FAILED:
        return None
    scheduled = locks.scheduled_payment_locked(hub=hub, scheduled_id=row.id)
    if account_state(hub_id=hub.id, account_id=customer.account_id).balance_minor < 0:
        return scheduled  # still owes: still overdue
    if scheduled.outcome != PAID_BY_HAND:
        scheduled.outcome = PAID_BY_HAND[:REASON_MAX]
        scheduled.updated_at = timezone.now()
        scheduled.save(update_fields=["outcome", "updated_at"])
        audit_record(
            hub=hub, actor=actor, action="billing.paid_by_hand", subject=customer,
            summary=gettext_noop("Marked a failed payment as paid by hand (%(amount)s)"),
            params={"amount": audit_money(amount_minor, hub.currency)},
        )  # fmt: skip
    return scheduled


def overdue_schedule(
    *, hub: Hub, actor: User, customer_id: int, run_on: date, now: datetime | None = None
) -> BillResult:
    """Schedule what an overdue customer owes for a new day (or move their open payment to it): "Bill
    customers" for one customer, refused with the reason when it would schedule nothing."""
    if not Customer.objects.filter(hub=hub, id=customer_id).exists():
        raise DomainError("not_found", _("That customer does not exist at this hub."))
    if not billing_settings_of(hub=hub).debt_billing:
        raise DomainError(
            "billing_off", _("Debt-based billing is off at this hub: turn it on in the billing settings.")
        )
    result = debt_bill(hub=hub, actor=actor, customer_ids=[customer_id], run_on=run_on, now=now)
    if result.skipped:
        raise DomainError("not_scheduled", result.skipped[0][1])
    return result
