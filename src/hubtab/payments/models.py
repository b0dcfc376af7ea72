"""Money coming in from outside: a hub's payment gateway, each payment with its state, the cards
customers saved (brand, last 4 digits and expiry only) and the webhooks received."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubtab.core.models import Hub, User
from hubtab.core.tenancy import HubManager
from hubtab.crm.models import Customer


class GatewayAccount(models.Model):
    """A hub's own Stripe account: its keys, entered by the owner. The secret key is never shown
    back in full."""

    hub = models.OneToOneField(Hub, on_delete=models.CASCADE, primary_key=True, related_name="gateway_account")
    publishable_key = models.CharField(max_length=200)
    secret_key = models.CharField(max_length=200)
    webhook_secret = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = HubManager()

    def __str__(self) -> str:
        return f"gateway of {self.hub}"

    @property
    def secret_key_hint(self) -> str:
        return f"{self.secret_key[:8]}…{self.secret_key[-4:]}" if len(self.secret_key) > 12 else "…"


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("Waiting for the customer")
    REQUIRES_ACTION = "requires_action", _("Needs the customer to confirm with their bank")
    PENDING = "pending", _("Pending")  # a bank transfer not yet seen, or a card being processed
    UNKNOWN = "unknown", _("Outcome unknown: being checked with the gateway")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Cancelled")


OPEN_STATUSES = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PENDING, PaymentStatus.UNKNOWN)


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class Payment(models.Model):
    """One payment into a customer's (or organisation's) account: a top-up. Credit is posted once,
    when the payment is known to have succeeded, whoever learns it first (the customer's return,
    the gateway's webhook, the reconcile job)."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    account_id = models.BigIntegerField()
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    method = models.CharField(max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.CARD)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.CREATED)
    off_session = models.BooleanField(default=False)  # charged to a saved card without the customer
    # What is paid, and what it buys (fixed when the payment is made: a price change later does not
    # change a payment under way).
    currency = models.CharField(max_length=3)
    price_minor = models.BigIntegerField()
    unit = models.CharField(max_length=12)
    paid_minor = models.BigIntegerField()
    bonus_minor = models.BigIntegerField(default=0)
    bundle_name = models.CharField(max_length=80, blank=True)
    key = models.CharField(max_length=100)  # our idempotency key, also sent to the gateway
    setup_ref = models.CharField(max_length=100, blank=True)  # the gateway's card form (a SetupIntent)
    payment_method_ref = models.CharField(max_length=100, blank=True)  # the card charged
    gateway_ref = models.CharField(max_length=100, blank=True)  # the charge (a PaymentIntent)
    save_card = models.BooleanField(default=False)
    failure_message = models.CharField(max_length=300, blank=True)
    decline_code = models.CharField(max_length=40, blank=True)  # the gateway's reason, when it declined
    # Set (and committed) before the gateway is first asked to charge: a payment that has it but no
    # `gateway_ref` may have been charged with its answer lost, so it is looked up before any new charge.
    charge_sent_at = models.DateTimeField(null=True, blank=True)
    memo = models.CharField(max_length=80, blank=True)  # what the credit is for, in Hubtab's words; "" is a top-up
    transaction_id = models.BigIntegerField(null=True, blank=True)  # the credit posted for it
    refunded_minor = models.BigIntegerField(default=0)  # of price_minor, given back to the card
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "key"], name="payment_unique_key"),
            models.UniqueConstraint(
                fields=["hub", "gateway_ref"], condition=~Q(gateway_ref=""), name="payment_unique_gateway_ref"
            ),
            models.CheckConstraint(condition=Q(price_minor__gt=0, paid_minor__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0, refunded_minor__lte=models.F("price_minor")),
                name="payment_refund_within_price",
            ),
        ]
        indexes = [models.Index(fields=["hub", "account_id", "-created_at"], name="payment_by_account")]

    def __str__(self) -> str:
        return f"payment {self.id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def card_refundable_minor(self) -> int:
        """What can still go back to the card: a card payment that went through, less its refunds."""
        if self.status != PaymentStatus.SUCCEEDED or not self.gateway_ref:
            return 0
        return self.price_minor - self.refunded_minor


class SavedCard(models.Model):
    """A card a customer saved for later charges: the gateway's references and what a person needs
    to recognise it. The card number never reaches Hubtab."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    account_id = models.BigIntegerField()
    gateway_customer_ref = models.CharField(max_length=100)
    payment_method_ref = models.CharField(max_length=100)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)  # when the expiry job saw it past its date

    objects = HubManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "payment_method_ref"], name="saved_card_once"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} ····{self.last4}"


class GatewayCustomer(models.Model):
    """The gateway's customer for one account (cards are saved on it)."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    account_id = models.BigIntegerField()
    ref = models.CharField(max_length=100)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "account_id"], name="gateway_customer_once")]

    def __str__(self) -> str:
        return self.ref


class WebhookEvent(models.Model):
    """A gateway event handled once: the same event delivered again changes nothing."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "event_id"], name="webhook_event_once")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Being sent back to the card")
    UNKNOWN = "unknown", _("Outcome unknown: being checked with the gateway")
    SUCCEEDED = "succeeded", _("Refunded to the card")
    FAILED = "failed", _("Refund refused; the credit was given back")


class PaymentRefund(models.Model):
    """Money given back to the card a payment came from. The paid credit it bought is taken from
    the account first (so it cannot be spent meanwhile), then the gateway is asked; if the gateway
    refuses, the credit is given back by a reversal."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()  # in the payment's currency
    credit_minor = models.BigIntegerField()  # paid credit taken back, in the account's unit
    key = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    gateway_ref = models.CharField(max_length=100, blank=True)
    transaction_id = models.BigIntegerField(null=True, blank=True)
    reversal_transaction_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    failure_message = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "key"], name="refund_unique_key"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0, credit_minor__gt=0), name="refund_positive"),
        ]

    def __str__(self) -> str:
        return f"refund {self.id} of payment {self.payment_id} ({self.status})"


class AutoTopUpKind(models.TextChoices):
    THRESHOLD = "threshold", _("When my balance falls below an amount")
    INTERVAL = "interval", _("Every week or month, a fixed amount")


class AutoTopUpPeriod(models.TextChoices):
    WEEK = "week", _("every week")
    MONTH = "month", _("every month")


class AutoTopUp(models.Model):
    """A customer's standing order to top up from a saved card, off session. A threshold rule
    charges once per crossing below the line (it is re-armed when the balance is back at or above
    it); an interval rule once per week or month, in the hub's time. Each charge is a Payment whose
    key names the crossing or the period, so no run can charge twice."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    account_id = models.BigIntegerField()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(SavedCard, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=AutoTopUpKind.choices)
    threshold_minor = models.BigIntegerField(null=True, blank=True)  # below this (in the account's unit)
    target_minor = models.BigIntegerField(null=True, blank=True)  # top up to this, or
    amount_minor = models.BigIntegerField(null=True, blank=True)  # by this (threshold), or this (interval)
    period = models.CharField(max_length=8, choices=AutoTopUpPeriod.choices, blank=True)
    active = models.BooleanField(default=True)
    armed = models.BooleanField(default=True)  # threshold rules: may charge at the next crossing
    crossings = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "account_id"], name="auto_top_up_one_per_account")]

    def __str__(self) -> str:
        return f"auto top-up of account {self.account_id} ({self.kind})"


class CardLimitSuspension(models.Model):
    """An account whose spending limit was dropped to 0 because its card expired (the hub backs debt
    with cards). The hub's default returns when a valid card is saved and the balance is at or
    above 0; then this row goes."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    account_id = models.BigIntegerField()
    floor_before_minor = models.BigIntegerField()
    since = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "account_id"], name="card_limit_suspended_once")]

    def __str__(self) -> str:
        return f"limit of account {self.account_id} suspended"
