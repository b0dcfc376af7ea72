"""What Hubtab sends people: one row per message and recipient, so the hub sees who got what,
and the state of each account's balance reminders."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from hubtab.core.models import Hub
from hubtab.core.tenancy import HubManager
from hubtab.crm.models import Customer


class Stream(models.TextChoices):
    TRANSACTIONAL = "transactional", "Transactional"  # receipts, reminders: cannot be unsubscribed
    MARKETING = "marketing", "Marketing"  # campaigns: only with consent


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One message to one person. `dedupe_key` is unique per hub: whatever causes a message twice
    (a re-run, two workers) finds the first row and sends nothing more."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_email = models.EmailField()
    stream = models.CharField(max_length=16, choices=Stream.choices)
    kind = models.CharField(max_length=40)
    dedupe_key = models.CharField(max_length=200)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["hub", "dedupe_key"], name="delivery_unique_key")]
        indexes = [
            models.Index(fields=["status", "created_at"], name="delivery_due", condition=models.Q(status="queued")),
            models.Index(fields=["hub", "customer", "-created_at"], name="delivery_by_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email}: {self.status}"


class BalanceWatch(models.Model):
    """Where an account stands for reminders. A crossing starts when a scan first finds the balance
    below the line and ends when one finds it back above; each crossing gives at most one notice."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    account_id = models.BigIntegerField(unique=True)
    low_since = models.DateTimeField(null=True, blank=True)
    low_notified_at = models.DateTimeField(null=True, blank=True)
    negative_since = models.DateTimeField(null=True, blank=True)
    negative_notified_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    def __str__(self) -> str:
        return f"watch on account {self.account_id}"
