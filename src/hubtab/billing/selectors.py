"""Reads of billing, shared by the pages, the CSV exports and the API: scheduled payments with
their filters and totals per day, one payment's history, and a customer's upcoming payments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, QuerySet, Sum

from hubtab.billing.models import OPEN_STATUSES, PaymentAttempt, ScheduledPayment, ScheduledPaymentStatus
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.messaging.models import Delivery
from hubtab.payments.models import Payment, SavedCard
from hubtab.payments.services import card_expired


@dataclass(frozen=True)
class ScheduledFilter:
    """What the Scheduled Payments page, its export and the API filter on."""

    statuses: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    customer_id: int | None = None
    kind: str = ""


def scheduled_payment_list(*, hub: Hub, filters: ScheduledFilter | None = None) -> QuerySet[ScheduledPayment]:
    """The hub's scheduled payments, by day then id (the day is the next attempt's)."""
    filters = filters or ScheduledFilter()
    for status in filters.statuses:
        if status not in ScheduledPaymentStatus.values:
            raise DomainError("validation_error", f"Unknown status {status!r}.")
    rows = ScheduledPayment.objects.filter(hub=hub).select_related("customer")
    if filters.statuses:
        rows = rows.filter(status__in=filters.statuses)
    if filters.date_from:
        rows = rows.filter(run_on__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(run_on__lte=filters.date_to)
    if filters.customer_id:
        rows = rows.filter(customer_id=filters.customer_id)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    return rows.order_by("run_on", "id")


def scheduled_totals_by_day(*, hub: Hub, filters: ScheduledFilter | None = None) -> list[dict[str, object]]:
    """Per day: how many payments and how much money, for the filtered list."""
    rows = scheduled_payment_list(hub=hub, filters=filters).order_by()
    totals = rows.values("run_on").annotate(count=Count("id"), price_minor=Sum("price_minor")).order_by("run_on")
    return [dict(row) for row in totals]


def scheduled_payment_get(*, hub: Hub, scheduled_id: int) -> ScheduledPayment:
    found = ScheduledPayment.objects.filter(hub=hub, id=scheduled_id).select_related("customer").first()
    if found is None:
        raise DomainError("not_found", "That scheduled payment does not exist at this hub.")
    return found


def attempts_of(*, hub: Hub, scheduled: ScheduledPayment) -> QuerySet[PaymentAttempt]:
    return PaymentAttempt.objects.filter(hub=hub, scheduled_payment=scheduled).order_by("number")


def notices_of(*, hub: Hub, scheduled: ScheduledPayment) -> QuerySet[Delivery]:
    """The messages the customer was sent about this payment (billing.notices keys them by its id)."""
    return Delivery.objects.filter(hub=hub, dedupe_key__startswith=f"billing:{scheduled.id}:").order_by("id")


def upcoming_of(*, hub: Hub, account_id: int) -> QuerySet[ScheduledPayment]:
    """A customer's payments still to come (their account page)."""
    return ScheduledPayment.objects.filter(hub=hub, account_id=account_id, status__in=OPEN_STATUSES).order_by("run_on")


def scheduled_cards(*, hub: Hub, payments: Iterable[ScheduledPayment], now: datetime) -> dict[int, SavedCard | None]:
    """By payment id, the card each is charged to: for one waiting for its day, the card charges use
    now (the newest saved card not expired); for one being or already taken, its last charge's."""
    payments = list(payments)
    cards = list(SavedCard.objects.filter(hub=hub, account_id__in={p.account_id for p in payments})
                 .order_by("-created_at"))  # fmt: skip
    # The last attempt that made a charge wins.
    charged: dict[int, int] = {
        scheduled_id: payment_id
        for scheduled_id, payment_id in PaymentAttempt.objects.filter(hub=hub, scheduled_payment__in=payments)
        .order_by("number")
        .values_list("scheduled_payment_id", "payment_id")
        if payment_id is not None
    }
    refs = dict(Payment.objects.filter(hub=hub, id__in=charged.values()).values_list("id", "payment_method_ref"))
    by_ref = {card.payment_method_ref: card for card in cards}
    found: dict[int, SavedCard | None] = {}
    for payment in payments:
        waiting = payment.status in (ScheduledPaymentStatus.SCHEDULED, ScheduledPaymentStatus.RETRYING)
        if waiting or payment.id not in charged:
            found[payment.id] = next((c for c in cards if c.account_id == payment.account_id and c.removed_at is None
                                      and not card_expired(c, now)), None)  # fmt: skip
        else:
            found[payment.id] = by_ref.get(refs.get(charged[payment.id]) or "")
    return found
