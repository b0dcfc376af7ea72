"""Balance reminders: a customer whose balance falls below the hub's running-low line gets one
email per crossing, and a separate one when it goes below zero; never more than one of a kind
per cooldown, and nothing while credit is off at the hub."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credit_settings_of, credit_unit_of
from hubtab.core.models import Hub
from hubtab.core.money import Unit, money_format
from hubtab.core.services import audit_record
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import balance_subquery, entries_count_subquery
from hubtab.messaging.models import BalanceWatch
from hubtab.messaging.services import deliveries_send_due, message_queue

COOLDOWN = timedelta(days=3)  # at most one reminder of a kind per customer in this time


def balance_reminders_run(*, now: datetime | None = None) -> dict[str, int]:
    """Queue what is due, then send what is queued (`hubtab reminders`, and the tests)."""
    return {**balance_reminders_queue(now=now), **deliveries_send_due()}


def balance_reminders_queue(*, now: datetime | None = None) -> dict[str, int]:
    """Scan every hub and queue the reminders due (the worker's job; sending is its own job).
    Safe to run again or twice at once."""
    now = now or timezone.now()
    counts = {"low": 0, "negative": 0}
    for hub in Hub.objects.order_by("id"):
        credit = credit_settings_of(hub=hub)
        if not credit.enabled:
            continue
        for kind, queued in _hub_scan(hub, credit.low_balance_minor, now).items():
            counts[kind] += queued
    return counts


def _hub_scan(hub: Hub, low_minor: int, now: datetime) -> dict[str, int]:
    counts = {"low": 0, "negative": 0}
    customers = Customer.objects.filter(hub=hub, archived_at__isnull=True).annotate(
        balance_minor=balance_subquery(), entries=entries_count_subquery()
    )
    # As the people list's "running low": an account never used (a lead who never topped up) is not low.
    below = {c.account_id: c for c in customers.filter(balance_minor__lt=low_minor, entries__gt=0)}
    watches = BalanceWatch.objects.filter(hub=hub)
    # Back above the line: the crossing is over, the next fall is a new one.
    watches.exclude(account_id__in=below).exclude(low_since=None).update(low_since=None)
    negative_ids = [a for a, c in below.items() if c.balance_minor < 0]
    watches.exclude(account_id__in=negative_ids).exclude(negative_since=None).update(negative_since=None)
    if not below:
        return counts
    unit = credit_unit_of(hub=hub)
    for account_id, customer in below.items():
        with transaction.atomic():
            watch, _ = BalanceWatch.objects.select_for_update().get_or_create(hub=hub, account_id=account_id)
            negative = customer.balance_minor < 0
            kind = "negative" if negative else "low"
            since_field, notified_field = f"{kind}_since", f"{kind}_notified_at"
            if getattr(watch, since_field) is None:
                setattr(watch, since_field, now)
            if watch.low_since is None:
                watch.low_since = now
            since, notified = getattr(watch, since_field), getattr(watch, notified_field)
            due = (notified is None or notified < since) and (notified is None or now - notified >= COOLDOWN)
            if due and _queue(hub, customer, kind, since, unit, low_minor):
                setattr(watch, notified_field, now)
                if negative:
                    watch.low_notified_at = now  # the negative notice says it all: no low one on top
                counts[kind] += 1
            watch.save()
    return counts


def _queue(hub: Hub, customer: Customer, kind: str, since: datetime, unit: Unit, low_minor: int) -> bool:
    balance_minor: int = customer.balance_minor  # type: ignore[attr-defined]  # annotated by the scan
    context = {
        "hub": hub,
        "customer": customer,
        "balance": money_format(balance_minor, unit, hub.locale),
        "threshold": money_format(low_minor, unit, hub.locale),
        "link": settings.HUBTAB_BASE_URL.rstrip("/") + reverse("portal"),
    }
    delivery = message_queue(
        hub=hub,
        customer=customer,
        kind=f"{kind}_balance",
        dedupe_key=f"{kind}-balance:{customer.account_id}:{since.isoformat()}",
        template=f"messaging/email/{kind}_balance",
        context=context,
    )
    if delivery is not None:
        audit_record(
            hub=hub,
            actor=None,
            action=f"reminder.{kind}_balance",
            summary=gettext_noop("Sent a negative-balance reminder (%(balance)s)")
            if kind == "negative"
            else gettext_noop("Sent a low-balance reminder (%(balance)s)"),
            params={"balance": context["balance"]},
            subject=customer,
            data={"delivery_id": delivery.id},
        )
    return delivery is not None
