"""The rows billing locks. A scheduled payment is locked before its account's balance rows (the
run decides the amount under both), and before its attempts: the same order everywhere."""

from __future__ import annotations

from hubtab.billing.models import PaymentAttempt, ScheduledPayment
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub


def scheduled_payment_locked(*, hub: Hub, scheduled_id: int) -> ScheduledPayment:
    row = ScheduledPayment.objects.select_for_update().select_related("customer").filter(hub=hub, id=scheduled_id)
    found = row.first()
    if found is None:
        raise DomainError("not_found", "That scheduled payment does not exist at this hub.")
    return found


def attempt_locked(*, hub: Hub, attempt_id: int) -> PaymentAttempt:
    return PaymentAttempt.objects.select_for_update().get(hub=hub, id=attempt_id)
