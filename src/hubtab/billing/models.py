"""Billing: a hub's billing choices, the payments it schedules from customers' saved cards (debt
now, advance bills later) and each attempt to charge one."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubtab.core.models import Hub, User
from hubtab.core.tenancy import HubManager
from hubtab.crm.models import Customer


def default_retry_days() -> list[int]:
    # Days after the first attempt on which a soft decline is tried again (Kill Bill and Stripe
    # retry over one to two weeks; card networks fine more than a few tries).
    return [1, 3, 7]


class BillingSettings(models.Model):
    """A hub's billing choices (absent: the defaults)."""

    hub = models.OneToOneField(Hub, on_delete=models.CASCADE, primary_key=True, related_name="billing_settings")
    debt_billing = models.BooleanField(default=False)
    schedule_after_order = models.BooleanField(default=False)  # when an order leaves the balance below 0
    notice_days = models.PositiveSmallIntegerField(default=1)  # customers are told this many days ahead
    retry_days = models.JSONField(default=default_retry_days)
    min_charge_minor = models.BigIntegerField(null=True, blank=True)  # None: the gateway's minimum
    overdue_days = models.PositiveSmallIntegerField(default=14)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = HubManager()

    def __str__(self) -> str:
        return f"billing settings of {self.hub}"


class ScheduledPaymentKind(models.TextChoices):
    DEBT = "debt", _("Debt")


class ScheduledPaymentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PROCESSING = "processing", _("Processing")
    RETRYING = "retrying", _("Failed, will retry")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    NOT_NEEDED = "not_needed", _("Not needed")


OPEN_STATUSES = (ScheduledPaymentStatus.SCHEDULED, ScheduledPaymentStatus.PROCESSING, ScheduledPaymentStatus.RETRYING)


class ScheduledPayment(models.Model):
    """A charge of a customer's saved card on a date, at the hub's morning hour. It never takes more
    than the customer was told (`credits_minor` in their account's unit, `price_minor` in money),
    and each try is an attempt with its own key."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    account_id = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=ScheduledPaymentKind.choices, default=ScheduledPaymentKind.DEBT)
    status = models.CharField(
        max_length=12, choices=ScheduledPaymentStatus.choices, default=ScheduledPaymentStatus.SCHEDULED
    )
    due_on = models.DateField()  # the day the customer was told, in the hub's time
    run_on = models.DateField()  # the day of the next attempt: due_on, then each retry's
    credits_minor = models.BigIntegerField()
    unit = models.CharField(max_length=12)
    price_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    notice_version = models.PositiveIntegerField(default=1)  # one more each time the customer is told anew
    attempts_made = models.PositiveSmallIntegerField(default=0)  # card charges tried
    outcome = models.CharField(max_length=300, blank=True)  # the last outcome, or why it was cancelled
    decline_code = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    class Meta:
        constraints = [
            # One open payment for debt per customer: billing again updates it.
            models.UniqueConstraint(
                fields=["hub", "customer"],
                condition=Q(kind="debt", status__in=["scheduled", "processing", "retrying"]),
                name="one_open_debt_payment",
            ),
            models.CheckConstraint(condition=Q(credits_minor__gt=0, price_minor__gt=0), name="scheduled_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "run_on"], name="scheduled_payment_due"),
            models.Index(fields=["hub", "run_on"], name="scheduled_payment_by_date"),
            models.Index(fields=["hub", "account_id"], name="scheduled_payment_by_account"),
        ]

    def __str__(self) -> str:
        return f"scheduled payment {self.id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AttemptOutcome(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Paid")
    DECLINED = "declined", _("Declined; will be tried again")
    DECLINED_HARD = "declined_hard", _("Declined; not tried again")
    ACTION_REQUIRED = "action_required", _("The bank asked the customer to confirm")
    UNKNOWN = "unknown", _("No answer yet from the payment provider")
    NO_CARD = "no_card", _("No valid card: not charged")


class PaymentAttempt(models.Model):
    """One try at a scheduled payment, committed as processing before the gateway is called. Its
    key is the charge's key; its payment (in payments) holds what the gateway said."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    scheduled_payment = models.ForeignKey(ScheduledPayment, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=100)
    payment_id = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices, default=AttemptOutcome.PROCESSING)
    decline_code = models.CharField(max_length=40, blank=True)
    message = models.CharField(max_length=300, blank=True)
    credits_minor = models.BigIntegerField()
    price_minor = models.BigIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "key"], name="attempt_unique_key"),
            models.UniqueConstraint(fields=["scheduled_payment", "number"], name="attempt_unique_number"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of scheduled payment {self.scheduled_payment_id} ({self.outcome})"
