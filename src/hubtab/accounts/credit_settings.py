"""The hub's credit settings (policy, limits, top-up amounts, the morning hour), checked and audited."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.models import (
    CreditSettings,
    PaymentPolicy,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check
from hubtab.core.services import audit_record

if TYPE_CHECKING:
    pass


SETTINGS_FIELDS = (
    "enabled",
    "payment_policy",
    "default_floor_minor",
    "low_balance_minor",
    "topup_min_minor",
    "topup_max_minor",
    "topup_presets_minor",
    "topup_bonus_percent",
    "card_backed_floor",
    "bank_transfer_details",
    "morning_hour",
)


def credit_settings_get(*, hub: Hub) -> CreditSettings:
    settings, _created = CreditSettings.objects.get_or_create(hub=hub)
    return settings


def credit_settings_update(*, hub: Hub, actor: User, **fields: Any) -> CreditSettings:
    """Change the hub's credit rules; the whole change is checked before anything is saved."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise DomainError("validation_error", f"Unknown settings: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        settings = CreditSettings.objects.select_for_update().get(pk=credit_settings_get(hub=hub).pk)
        before = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
        for name, value in fields.items():
            setattr(settings, name, value)
        _settings_check(settings)
        changes = {
            name: [_jsonable(before[name]), _jsonable(getattr(settings, name))]
            for name in SETTINGS_FIELDS
            if before[name] != getattr(settings, name)
        }
        if not changes:
            return settings
        settings.updated_at = timezone.now()
        settings.updated_by = actor
        settings.save()
        audit_record(
            hub=hub,
            actor=actor,
            action="credit_settings.update",
            summary=gettext_noop("Changed the credit settings: %(fields)s"),
            params={"fields": ", ".join(name.replace("_minor", "").replace("_", " ") for name in changes)},
            subject=settings,
            data=changes,
        )
    return settings


def _jsonable(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


def _settings_check(settings: CreditSettings) -> None:
    if settings.payment_policy not in PaymentPolicy.values:
        raise DomainError("validation_error", _("Choose a payment policy."))
    amount_check(settings.default_floor_minor, allow_zero=True, allow_negative=True)
    if settings.default_floor_minor > 0:
        raise DomainError("invalid_floor", _("The spending limit is zero or negative: the most debt allowed."))
    amount_check(settings.low_balance_minor, allow_zero=True, allow_negative=True)
    amount_check(settings.topup_min_minor)
    amount_check(settings.topup_max_minor)
    if settings.topup_min_minor > settings.topup_max_minor:
        raise DomainError("validation_error", _("The smallest top-up must not be above the largest."))
    presets = settings.topup_presets_minor
    if not isinstance(presets, list) or len(presets) > 6:
        raise DomainError("validation_error", _("Give at most 6 preset amounts."))
    for preset in presets:
        amount_check(preset)
        if not settings.topup_min_minor <= preset <= settings.topup_max_minor:
            raise DomainError(
                "validation_error", _("Preset amounts must lie between the smallest and the largest top-up.")
            )
    bonus = settings.topup_bonus_percent
    if not isinstance(bonus, Decimal) or not Decimal(0) <= bonus <= Decimal(100):
        raise DomainError("validation_error", _("The top-up bonus is a percentage between 0 and 100."))
    hour = settings.morning_hour
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise DomainError("validation_error", _("The morning hour is a whole hour from 0 to 23."))
