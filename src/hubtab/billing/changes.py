"""Crew changing a scheduled payment (its day, cancelling it), billing after an order, and what a
payment made some other way does to it: a customer who pays before the day is not charged."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credits_cost_quoter
from hubtab.billing import events, locks
from hubtab.billing.billing_settings import billing_settings_of
from hubtab.billing.models import OPEN_STATUSES, ScheduledPayment, ScheduledPaymentKind, ScheduledPaymentStatus
from hubtab.billing.notices import notice_scheduled
from hubtab.billing.scheduling import _day_check, debt_bill
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_balance_locked
from hubtab.payments.services import card_for_charges

REASON_MAX = 300


def _changeable(scheduled: ScheduledPayment) -> None:
    if scheduled.status == ScheduledPaymentStatus.PROCESSING:
        raise DomainError("payment_processing",
                          _("This payment is being charged right now; look again in a minute."))  # fmt: skip
    if scheduled.status not in OPEN_STATUSES:
        raise DomainError(
            "payment_closed", _("This payment is already %(status)s.") % {
                "status": str(ScheduledPaymentStatus(scheduled.status).label).lower()}
        )  # fmt: skip


def scheduled_payment_date_change(
    *, hub: Hub, actor: User | None, scheduled_id: int, run_on: date, now: datetime | None = None
) -> ScheduledPayment:
    """Move a payment to another day (not into the past, nor before the customer can be told); the
    customer is told the new day."""
    now = now or timezone.now()
    _day_check(hub, run_on, now)
    with transaction.atomic():
        scheduled = locks.scheduled_payment_locked(hub=hub, scheduled_id=scheduled_id)
        _changeable(scheduled)
        if scheduled.run_on == run_on:
            return scheduled
        before = scheduled.run_on
        scheduled.due_on = scheduled.run_on = run_on
        scheduled.status = ScheduledPaymentStatus.SCHEDULED
        scheduled.notice_version += 1
        scheduled.updated_at = now
        scheduled.save(update_fields=["due_on", "run_on", "status", "notice_version", "updated_at"])
        audit_record(
            hub=hub, actor=actor, action="billing.date_change", subject=scheduled.customer,
            summary=gettext_noop("Moved a scheduled payment from %(before)s to %(after)s"),
            params={"before": before.isoformat(), "after": run_on.isoformat()},
        )  # fmt: skip
        events.payment_scheduled(scheduled=scheduled, actor=actor)
        notice_scheduled(hub=hub, scheduled=scheduled, card=card_for_charges(hub=hub, account_id=scheduled.account_id))
    return scheduled


def scheduled_payment_cancel(*, hub: Hub, actor: User | None, scheduled_id: int, reason: str) -> ScheduledPayment:
    """Cancel a payment that has not been taken, with the reason crew give."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("validation_error", _("Say why the payment is cancelled."))
    if len(reason) > REASON_MAX:
        raise DomainError("validation_error", _("Keep the reason under 300 characters."))
    with transaction.atomic():
        scheduled = locks.scheduled_payment_locked(hub=hub, scheduled_id=scheduled_id)
        _changeable(scheduled)
        _close(scheduled, ScheduledPaymentStatus.CANCELLED, reason)
        audit_record(
            hub=hub, actor=actor, action="billing.cancel", subject=scheduled.customer,
            summary=gettext_noop("Cancelled a scheduled payment: %(reason)s"), params={"reason": reason},
        )  # fmt: skip
        events.scheduled_payment_cancelled(scheduled=scheduled, actor=actor, reason=reason)
    return scheduled


def _close(scheduled: ScheduledPayment, status: str, outcome: str) -> None:
    scheduled.status = status
    scheduled.outcome = outcome[:REASON_MAX]
    scheduled.finished_at = scheduled.updated_at = timezone.now()
    scheduled.save(update_fields=["status", "outcome", "finished_at", "updated_at"])


def debt_after_order(*, hub: Hub, customer: Customer, actor: User | None) -> None:
    """An order was completed: where the hub schedules by itself, a balance left below zero gets
    its payment (or the open one is updated). Runs inside the order's transaction."""
    settings = billing_settings_of(hub=hub)
    if settings.debt_billing and settings.schedule_after_order:
        debt_bill(hub=hub, actor=actor, customer_ids=[customer.id], automatic=True)


def debt_recheck(*, hub: Hub, account_id: int) -> ScheduledPayment | None:
    """Money came into the account some other way (the customer paid now, crew recorded cash): an
    open debt payment not being charged now is lowered to what is still owed, or is not needed."""
    with transaction.atomic():
        row = ScheduledPayment.objects.filter(
            hub=hub, account_id=account_id, kind=ScheduledPaymentKind.DEBT,
            status__in=[ScheduledPaymentStatus.SCHEDULED, ScheduledPaymentStatus.RETRYING],
        ).first()  # fmt: skip
        if row is None:
            return None
        scheduled = locks.scheduled_payment_locked(hub=hub, scheduled_id=row.id)
        if scheduled.status not in (ScheduledPaymentStatus.SCHEDULED, ScheduledPaymentStatus.RETRYING):
            return scheduled
        owed = max(-account_balance_locked(hub_id=hub.id, account_id=account_id), 0)
        if owed == 0:
            _close(scheduled, ScheduledPaymentStatus.NOT_NEEDED, gettext_noop("Paid before the day."))
        elif owed < scheduled.credits_minor:
            scheduled.credits_minor = owed
            scheduled.price_minor = credits_cost_quoter(hub=hub, currency=scheduled.currency)(owed).price_minor
            scheduled.updated_at = timezone.now()
            scheduled.save(update_fields=["credits_minor", "price_minor", "updated_at"])
    return scheduled
