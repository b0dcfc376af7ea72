"""A hub's rules for customer credit: whether credit is used, how orders may be paid, limits,
reminders and top-up amounts. One row per hub, created with defaults on first read."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from hubtab.core.models import Hub, User


class PaymentPolicy(models.TextChoices):
    CREDIT_ONLY = "credit_only", _("Credit only: an order credit can't cover is blocked")
    CREDIT_FIRST = "credit_first", _("Credit first, then another payment method")
    OTHER_ONLY = "other_only", _("Other payment methods only: credit is not used")


class CreditSettings(models.Model):
    hub = models.OneToOneField(Hub, on_delete=models.CASCADE, primary_key=True, related_name="credit_settings")
    enabled = models.BooleanField(default=True)
    payment_policy = models.CharField(max_length=16, choices=PaymentPolicy.choices, default=PaymentPolicy.CREDIT_FIRST)
    # Amounts in minor units of the hub's currency.
    default_floor_minor = models.BigIntegerField(default=0)  # 0: no debt; -10000: up to 100.00 of debt
    low_balance_minor = models.BigIntegerField(default=500)
    topup_min_minor = models.BigIntegerField(default=500)
    topup_max_minor = models.BigIntegerField(default=50000)
    topup_presets_minor = models.JSONField(default=list, blank=True)
    topup_bonus_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedManager(hub="hub")

    def __str__(self) -> str:
        return f"credit settings of {self.hub}"


class AccountRules(models.Model):
    """One customer's or organisation's own rules, where they differ from the hub's."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    account_id = models.BigIntegerField(unique=True)
    payment_policy = models.CharField(max_length=16, choices=PaymentPolicy.choices, blank=True)  # "": the hub's
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(hub="hub")

    def __str__(self) -> str:
        return f"rules of account {self.account_id}"
