"""What the gateway tells us afterwards: signed webhooks, the reconcile job, and top-ups left unpaid."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.payments.keys import gateway_for
from hubtab.payments.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
    WebhookEvent,
)
from hubtab.payments.topups import RECONCILE_AFTER, payment_refresh

log = logging.getLogger(__name__)


class WebhookRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def webhook_receive(*, hub_slug: str, payload: bytes, signature: str) -> str:
    """Handle one signed event from the hub's gateway. The event is only a nudge: the payment's
    state is asked from the gateway, so events that come twice or out of order change nothing.
    Returns what was done; raises WebhookRefused (and writes nothing) for a bad signature, an
    unknown hub or a payment that is not this hub's."""
    hub = Hub.objects.filter(slug=hub_slug).first()
    if hub is None:
        raise WebhookRefused(404, f"no hub {hub_slug!r}")
    try:
        gateway = gateway_for(hub)
        event = gateway.event_parse(payload=payload, signature=signature)
    except DomainError as exc:
        raise WebhookRefused(400, f"hub {hub.slug}: {exc.message}") from exc
    if not event.type.startswith("payment_intent."):
        return f"ignored {event.type}"
    payment = Payment.objects.filter(hub=hub, gateway_ref=event.object_ref).first()
    if payment is None:
        reason = f"hub {hub.slug}: {event.type} {event.event_id} is for an unknown payment {event.object_ref}"
        raise WebhookRefused(404, reason)
    if WebhookEvent.objects.filter(hub=hub, event_id=event.event_id).exists():
        return f"duplicate {event.event_id}"
    payment = payment_refresh(hub=hub, payment=payment)
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(hub=hub, event_id=event.event_id, type=event.type, payment=payment)
    except IntegrityError:
        return f"duplicate {event.event_id}"
    return f"payment {payment.id} is {payment.status}"


def payments_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Ask the gateway about every payment left open for a while (a timeout, a lost webhook, a
    customer who closed the page), in every hub. Safe to run twice or concurrently."""
    now = now or timezone.now()
    counts = {"checked": 0, "succeeded": 0}
    open_payments = Payment.objects.across_hubs().filter(  # the reconcile job walks every hub
        status__in=[PaymentStatus.UNKNOWN, PaymentStatus.CREATED, PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION],
        payment_method_ref__gt="",  # a card was given: there is something to ask about
        updated_at__lt=now - RECONCILE_AFTER,
        created_at__gt=now - timedelta(days=7),  # Stripe keeps idempotency keys for 24 h; older ones are dead
    )
    for payment in open_payments.select_related("hub", "customer").order_by("id")[:500]:
        counts["checked"] += 1
        try:
            settled = payment_refresh(hub=payment.hub, payment=payment)
        except DomainError as exc:
            log.warning("reconcile: payment %s: %s", payment.id, exc.message)
            continue
        counts["succeeded"] += settled.status == PaymentStatus.SUCCEEDED
        if settled.status == payment.status:  # nothing new: look again later, not on every run
            Payment.objects.filter(hub_id=payment.hub_id, id=payment.id).update(updated_at=now)
    return counts


# A card top-up nobody went on with (the card never charged) is closed after this long.
ABANDONED_AFTER = timedelta(hours=24)


def payments_abandoned_close(*, now: datetime | None = None) -> int:
    """Close card top-ups left waiting for the customer: started, never charged, a day old. One
    statement each, on the same condition the charge claims its card under (still created, no
    card claimed), so a customer paying at that moment either pays or finds it closed, never both."""
    now = now or timezone.now()
    message = gettext_noop("Not paid within a day: nothing was charged.")  # translated where it is shown
    return (
        Payment.objects.across_hubs()
        .filter(  # a job over every hub
            status=PaymentStatus.CREATED,
            payment_method_ref="",
            method=PaymentMethod.CARD,
            created_at__lt=now - ABANDONED_AFTER,
        )
        .update(status=PaymentStatus.CANCELED, failure_message=message, updated_at=now)
    )
