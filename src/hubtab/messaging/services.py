"""Sending: queue a message once (by its key), then send what is queued, through Django's email
API (SMTP by default, any django-anymail provider by setting)."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from hubtab.core.models import Hub
from hubtab.crm.models import Customer
from hubtab.messaging.models import Delivery, DeliveryStatus, Stream

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def delivery_queue(
    *, hub: Hub, customer: Customer, kind: str, dedupe_key: str, subject: str, body: str,
    stream: str = Stream.TRANSACTIONAL,
) -> Delivery | None:  # fmt: skip
    """Queue one message for one customer; None if a message with this key was queued before."""
    try:
        with transaction.atomic():
            return Delivery.objects.with_scopes_disabled().create(
                hub=hub,
                customer=customer,
                to_email=customer.email,
                stream=Stream(stream),
                kind=kind,
                dedupe_key=dedupe_key,
                subject=subject[:300],
                body=body,
            )
    except IntegrityError:
        return None


def deliveries_send_due(*, limit: int = 500) -> dict[str, int]:
    """Send queued messages, each claimed by one sender (SKIP LOCKED), so two workers never send one
    twice. A message that fails is tried once per run (the job runs every 10 minutes) up to
    MAX_ATTEMPTS times."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    tried: list[int] = []
    for _ in range(limit):
        with transaction.atomic():
            delivery = (
                Delivery.objects.with_scopes_disabled()
                .select_for_update(skip_locked=True)
                .filter(status=DeliveryStatus.QUEUED)
                .exclude(id__in=tried)
                .order_by("created_at", "id")
                .first()
            )
            if delivery is None:
                break
            tried.append(delivery.id)
            counts[_send(delivery)] += 1
    return counts


def _send(delivery: Delivery) -> str:
    delivery.attempts += 1
    message = EmailMessage(subject=delivery.subject, body=delivery.body, to=[delivery.to_email])
    try:
        message.send()
    except Exception as exc:  # any transport error: kept on the row, retried, then given up
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
        outcome = "failed" if delivery.attempts >= MAX_ATTEMPTS else "retry"
        delivery.status = DeliveryStatus.FAILED if outcome == "failed" else DeliveryStatus.QUEUED
        logger.warning("delivery %s to %s not sent (attempt %s): %s", delivery.id, delivery.to_email,
                       delivery.attempts, delivery.error)  # fmt: skip
    else:
        status = getattr(message, "anymail_status", None)  # set by django-anymail providers
        message_id = getattr(status, "message_id", None)
        delivery.provider_message_id = "" if message_id is None else str(message_id)[:200]
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        delivery.error = ""
        outcome = "sent"
    delivery.save(update_fields=["attempts", "error", "status", "provider_message_id", "sent_at"])
    return outcome
