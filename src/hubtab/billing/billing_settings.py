"""A hub's billing settings (debt-based billing, the notice, the retry schedule, the smallest
charge, when debt is overdue): read with their defaults, changed whole or not at all, and audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.billing.models import BillingSettings
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import currency_unit, money_format, reader_locale
from hubtab.core.services import audit_record

SETTINGS_FIELDS = ("debt_billing", "schedule_after_order", "notice_days", "retry_days", "min_charge_minor",
                   "overdue_days")  # fmt: skip
NOTICE_DAYS_MAX = 7
RETRIES_MAX = 5  # card networks fine more than a few retries of one payment (Visa: 15 in 30 days)
RETRY_DAY_MAX = 28
OVERDUE_DAYS_MAX = 365

# Stripe's smallest charge per currency, in minor units (its "minimum and maximum charge amounts").
_GATEWAY_MINIMUM = {"AUD": 50, "CAD": 50, "CHF": 50, "NZD": 50, "SGD": 50,
                    "DKK": 250, "NOK": 300, "SEK": 300, "PLN": 200, "CZK": 1500, "HUF": 17500, "JPY": 50}  # fmt: skip


def gateway_minimum_minor(currency: str) -> int:
    # 0.50 in EUR, GBP and USD: a round figure at or above what Stripe takes in each.
    return 50 if currency in ("EUR", "GBP", "USD") else _GATEWAY_MINIMUM.get(currency, 50)


def billing_settings_of(*, hub: Hub) -> BillingSettings:
    """The hub's billing settings, or the defaults (unsaved) where it never changed them."""
    return BillingSettings.objects.filter(hub=hub).first() or BillingSettings(hub=hub)


def smallest_charge_minor(*, hub: Hub, settings: BillingSettings | None = None) -> int:
    settings = settings or billing_settings_of(hub=hub)
    return settings.min_charge_minor or gateway_minimum_minor(hub.currency)


def billing_settings_update(*, hub: Hub, actor: User, **fields: Any) -> BillingSettings:
    """Change the hub's billing settings; the whole change is checked before anything is saved, and
    a change that changes nothing writes nothing."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise DomainError("validation_error", f"Unknown settings: {', '.join(sorted(unknown))}.")
    for name in ("debt_billing", "schedule_after_order"):
        if name in fields and not isinstance(fields[name], bool):
            raise DomainError("validation_error", _("Say on or off for %(name)s.") % {"name": name.replace("_", " ")})
    if "notice_days" in fields:
        _whole_in_range(fields["notice_days"], 0, NOTICE_DAYS_MAX, _("The notice is 0 to 7 days."))
    if "overdue_days" in fields:
        _whole_in_range(fields["overdue_days"], 1, OVERDUE_DAYS_MAX, _("Debt becomes overdue after 1 to 365 days."))
    if "retry_days" in fields:
        fields["retry_days"] = _retry_days_check(fields["retry_days"])
    if fields.get("min_charge_minor") is not None:
        least = gateway_minimum_minor(hub.currency)
        _whole_in_range(
            fields["min_charge_minor"], least, 10**9,
            _("The smallest charge is at least %(least)s, the payment provider's minimum.")
            % {"least": money_format(least, currency_unit(hub.currency), reader_locale())},
        )  # fmt: skip
    with transaction.atomic():
        BillingSettings.objects.bulk_create([BillingSettings(hub=hub)], ignore_conflicts=True)
        settings = BillingSettings.objects.select_for_update().filter(hub=hub).get()
        changes = {name: [getattr(settings, name), value] for name, value in fields.items()
                   if getattr(settings, name) != value}  # fmt: skip
        if not changes:
            return settings
        for name, value in fields.items():
            setattr(settings, name, value)
        settings.updated_at = timezone.now()
        settings.updated_by = actor
        settings.save(update_fields=[*changes, "updated_at", "updated_by"])
        audit_record(
            hub=hub, actor=actor, action="billing_settings.update", subject=settings, data=changes,
            summary=gettext_noop("Changed the billing settings: %(fields)s"),
            params={"fields": ", ".join(name.replace("_", " ") for name in changes)},
        )  # fmt: skip
    return settings


def _whole_in_range(value: object, low: int, high: int, message: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError("validation_error", message)


def _retry_days_check(days: object) -> list[int]:
    message = _("Retry on up to 5 days after the first try, each from 1 to 28, in increasing order (e.g. 1, 3, 7).")
    if not isinstance(days, list | tuple) or len(days) > RETRIES_MAX:
        raise DomainError("validation_error", message)
    for day in days:
        _whole_in_range(day, 1, RETRY_DAY_MAX, message)
    if list(days) != sorted(set(days)):
        raise DomainError("validation_error", message)
    return list(days)
