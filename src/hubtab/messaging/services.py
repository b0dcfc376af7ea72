"""Sending: every message is rendered from its templates in the reader's language and queued once
(by its key) as a Delivery row; the `deliveries_send` task (every minute) sends what is queued,
through Django's email API (SMTP by default, any django-anymail provider by setting)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from hubtab.core.models import Hub
from hubtab.crm.models import Customer
from hubtab.messaging.models import Delivery, DeliveryStatus, Stream

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def message_render(*, template: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """A message's subject and body from `<template>_subject.txt` and `<template>_body.txt`, in
    `language` (the hub's, until people choose their own)."""
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}_body.txt", context)
    return subject, body


def message_queue(
    *, hub: Hub, customer: Customer | None, kind: str, dedupe_key: str, template: str, context: dict[str, Any],
    stream: str = Stream.TRANSACTIONAL, to_email: str = "",
) -> Delivery | None:  # fmt: skip
    """Render a message in the hub's language and queue it once (see delivery_queue)."""
    subject, body = message_render(template=template, context=context, language=hub.locale)
    return delivery_queue(hub=hub, customer=customer, kind=kind, dedupe_key=dedupe_key, subject=subject, body=body,
                          stream=stream, to_email=to_email)  # fmt: skip


def delivery_queue(
    *, hub: Hub, customer: Customer | None, kind: str, dedupe_key: str, subject: str, body: str,
    stream: str = Stream.TRANSACTIONAL, to_email: str = "",
) -> Delivery | None:  # fmt: skip
    """Queue one message for a customer (or, `to_email`, someone who is not one yet: an invited crew
    member); None if a message with this key was queued before."""
    to_email = to_email or (customer.email if customer else "")
    if not to_email:
        raise ValueError("A message needs an address.")
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                hub=hub,
                customer=customer,
                to_email=to_email,
                stream=Stream(stream),
                kind=kind,
                dedupe_key=dedupe_key,
                subject=subject[:300],
                body=body,
            )
    except IntegrityError:
        return None


@dataclass(frozen=True)
class MessageToCustomer:
    """One of many messages queued at once: to `customer`, once per `dedupe_key`."""

    customer: Customer
    kind: str
    dedupe_key: str
    template: str
    context: dict[str, Any]


def messages_queue_many(*, hub: Hub, messages: list[MessageToCustomer], stream: str = Stream.TRANSACTIONAL) -> None:
    """Render and queue many messages to customers at once (billing thousands of them), each once
    per key as message_queue does, one INSERT per thousand: a key queued before is left as it was.
    Call inside the acting service's transaction."""
    rows = []
    for message in messages:
        if not message.customer.email:
            raise ValueError("A message needs an address.")
        subject, body = message_render(template=message.template, context=message.context, language=hub.locale)
        rows.append(Delivery(
            hub=hub, customer=message.customer, to_email=message.customer.email, stream=Stream(stream),
            kind=message.kind, dedupe_key=message.dedupe_key, subject=subject[:300], body=body,
        ))  # fmt: skip
    Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def deliveries_send_due(*, limit: int = 500) -> dict[str, int]:
    """Send queued messages, each claimed by one sender (SKIP LOCKED), so two workers never send one
    twice. A message that fails is tried once per run (the job runs every 10 minutes) up to
    MAX_ATTEMPTS times."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    tried: list[int] = []
    for _ in range(limit):
        with transaction.atomic():
            delivery = (
                Delivery.objects.across_hubs()  # one queue for every hub's messages
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


def delivery_send_now(*, delivery: Delivery) -> str:
    """Send one queued message now, for someone waiting for it; claimed like the job claims it, so
    the two never both send it. Returns the outcome ("sent", "retry", "failed", or "taken")."""
    with transaction.atomic():
        claimed = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(hub_id=delivery.hub_id, id=delivery.id, status=DeliveryStatus.QUEUED)
            .first()
        )
        return _send(claimed) if claimed is not None else "taken"


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
