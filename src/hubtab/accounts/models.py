"""A hub's rules for customer credit: whether credit is used, how orders may be paid, limits,
reminders and top-up amounts. One row per hub, created with defaults on first read."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubtab.core.models import Hub, User
from hubtab.core.tenancy import HubManager


class PaymentPolicy(models.TextChoices):
    CREDIT_ONLY = "credit_only", _("Credit only: an order credit can't cover is blocked")
    CREDIT_FIRST = "credit_first", _("Credit first, then another payment method")
    OTHER_ONLY = "other_only", _("Other payment methods only: credit is not used")


class CreditSettings(models.Model):
    hub = models.OneToOneField(Hub, on_delete=models.CASCADE, primary_key=True, related_name="credit_settings")
    enabled = models.BooleanField(default=True)
    payment_policy = models.CharField(max_length=16, choices=PaymentPolicy.choices, default=PaymentPolicy.CREDIT_FIRST)
    # The unit customers' credit counts in: "" for the hub's currency, or one of its CreditUnit codes.
    # Settings amounts below are in minor units of that unit.
    unit_code = models.CharField(max_length=12, blank=True, default="")
    default_floor_minor = models.BigIntegerField(default=0)  # 0: no debt; -10000: up to 100.00 of debt
    low_balance_minor = models.BigIntegerField(default=500)
    topup_min_minor = models.BigIntegerField(default=500)
    topup_max_minor = models.BigIntegerField(default=50000)
    topup_presets_minor = models.JSONField(default=list, blank=True)
    # Debt is backed by a saved card: when a customer's card expires their spending limit drops to 0,
    # and the hub's default returns once a new card is saved and the balance is back at or above 0.
    card_backed_floor = models.BooleanField(default=False)
    # Shown to customers who choose to pay by bank transfer; empty: transfers are not offered.
    bank_transfer_details = models.TextField(blank=True, max_length=1000)
    topup_bonus_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    # The local hour at which scheduled money work (automatic top-ups, billing) runs each day.
    morning_hour = models.PositiveSmallIntegerField(default=5)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = HubManager()

    def __str__(self) -> str:
        return f"credit settings of {self.hub}"

    @property
    def takes_bank_transfers(self) -> bool:
        """Transfers are offered once the hub has said where to send them."""
        return bool(self.bank_transfer_details.strip())


class AccountRules(models.Model):
    """One customer's or organisation's own rules, where they differ from the hub's."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    account_id = models.BigIntegerField(unique=True)
    payment_policy = models.CharField(max_length=16, choices=PaymentPolicy.choices, blank=True)  # "": the hub's
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    def __str__(self) -> str:
        return f"rules of account {self.account_id}"


class Organisation(models.Model):
    """A household, a school or a buying group: one balance that its members spend from."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="organisations")
    name = models.CharField(max_length=200)
    account_id = models.BigIntegerField(unique=True)  # the organisation's ledger account
    created_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    def __str__(self) -> str:
        return self.name


class OrganisationMember(models.Model):
    """A customer (by their ledger account) who may spend from the organisation's balance, up to
    `monthly_limit_minor` a calendar month (in the hub's time) when one is set."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="members")
    member_account_id = models.BigIntegerField()
    monthly_limit_minor = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "member_account_id"], name="org_member_once")]

    def __str__(self) -> str:
        return f"account {self.member_account_id} in {self.organisation}"


class OrganisationSpend(models.Model):
    """Which member spent what from the organisation, for their limit and the organisation's page."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="spends")
    member_account_id = models.BigIntegerField()
    transaction_id = models.BigIntegerField(unique=True)
    amount_minor = models.BigIntegerField()
    spent_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "member_account_id", "spent_at"], name="org_spend_member")]

    def __str__(self) -> str:
        return f"{self.amount_minor} by account {self.member_account_id}"


class UnitPrice(models.Model):
    """What the hub's named credit costs in one currency: `credits_minor` of it for `price_minor`
    ("10 credits for 1 GBP" is 1000 for 100). Used once, where money becomes credit (a top-up)."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    unit_code = models.CharField(max_length=12)
    currency = models.CharField(max_length=3)
    credits_minor = models.BigIntegerField()
    price_minor = models.BigIntegerField()

    objects = HubManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "unit_code", "currency"], name="unit_price_once_per_currency"),
            models.CheckConstraint(
                condition=models.Q(credits_minor__gt=0, price_minor__gt=0), name="unit_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credits_minor} {self.unit_code} for {self.price_minor} {self.currency}"


class Bundle(models.Model):
    """A top-up offer, "pay X, get Y": paying `price_minor` of `currency` buys `credits_minor` of
    the hub's unit. What Y gives beyond X's worth is a bonus, posted as granted credit."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    currency = models.CharField(max_length=3)
    price_minor = models.BigIntegerField()
    unit_code = models.CharField(max_length=12)
    credits_minor = models.BigIntegerField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(credits_minor__gt=0, price_minor__gt=0), name="bundle_positive"),
            # Paying a bundle's price is what picks the bundle, so one active bundle per price.
            models.UniqueConstraint(
                fields=["hub", "currency", "price_minor"],
                condition=models.Q(active=True),
                name="bundle_one_active_per_price",
            ),
        ]

    def __str__(self) -> str:
        return self.name
