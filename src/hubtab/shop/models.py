"""The hub's shop: price tiers, products and their variants, order cycles with pickup or delivery
options, and orders paid through the customer's credit account (a hold when placed, a capture
of the packed total when completed). Money never moves here: the order keeps what the ledger did
(hold id, captured, released, owed) and the events a person reads."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hubtab.core.models import Hub, User
from hubtab.core.tenancy import HubManager
from hubtab.crm.models import Customer


class PriceTier(models.Model):
    """A credit price the admin sets once (bronze, silver, gold); products are put in a tier, so
    sellers never set credit prices themselves. Amounts are in the hub's credit unit."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)
    credits_minor = models.BigIntegerField()

    objects = HubManager()

    class Meta:
        ordering = ["credits_minor", "name"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "name"], name="tier_unique_name"),
            models.CheckConstraint(condition=Q(credits_minor__gt=0), name="tier_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    producer = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["hub", "active", "name"], name="product_by_hub_name")]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """What a customer puts in the cart: priced in the hub's currency (`price_minor`) or in credits
    (its `tier`), exactly one of the two. Sold by weight, the price is per kilogram and each item
    is estimated at `estimated_grams` until crew weigh it. `stock` None: not counted."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=80, blank=True)
    price_minor = models.BigIntegerField(null=True, blank=True)
    tier = models.ForeignKey(PriceTier, on_delete=models.PROTECT, null=True, blank=True, related_name="variants")
    by_weight = models.BooleanField(default=False)
    estimated_grams = models.PositiveIntegerField(null=True, blank=True)
    stock = models.IntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)

    objects = HubManager()

    class Meta:
        ordering = ["product_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(price_minor__isnull=False, price_minor__gt=0, tier__isnull=True))
                | Q(price_minor__isnull=True, tier__isnull=False),
                name="variant_one_price",
            ),
            models.CheckConstraint(
                condition=Q(by_weight=False) | Q(estimated_grams__gt=0), name="variant_weight_estimated"
            ),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="variant_stock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.name}".strip()


class OrderCycle(models.Model):
    """A round of ordering: customers order between `opens_at` and `closes_at`, then crew pack."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="cycle_closes_after")
        ]
        indexes = [models.Index(fields=["hub", "closes_at"], name="cycle_by_hub_close")]

    def __str__(self) -> str:
        return self.name

    def is_open(self, now=None) -> bool:  # type: ignore[no-untyped-def]
        now = now or timezone.now()
        return self.opens_at <= now < self.closes_at


class FulfilmentKind(models.TextChoices):
    PICKUP = "pickup", _("Pickup")
    DELIVERY = "delivery", _("Delivery")


class FulfilmentOption(models.Model):
    """How a cycle's orders reach people: a pickup point or a delivery, with its fee in the hub's
    currency (0 for none)."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    cycle = models.ForeignKey(OrderCycle, on_delete=models.CASCADE, related_name="options")
    kind = models.CharField(max_length=10, choices=FulfilmentKind.choices, default=FulfilmentKind.PICKUP)
    name = models.CharField(max_length=120)
    fee_minor = models.BigIntegerField(default=0)

    objects = HubManager()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(fee_minor__gte=0), name="fulfilment_fee_not_negative")]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PLACED = "placed", pgettext_lazy("order status", "Placed")
    COMPLETED = "completed", pgettext_lazy("order status", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")


class RestMethod(models.TextChoices):
    """How the part of an order that credit does not pay is paid."""

    NONE = "", _("Nothing left to pay")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash at pickup")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


def rest_method_label(method: str, fulfilment_kind: str) -> str:
    """How a way of paying the rest reads for this order: cash is paid at the door when delivered."""
    if method == RestMethod.CASH and fulfilment_kind == "delivery":
        return str(_("Cash on delivery"))
    return str(dict(RestMethod.choices).get(method, method))


class Order(models.Model):
    """One customer's order in a cycle. All amounts are in `unit`, the customer's credit unit.

    `held_minor` is reserved on the account when the order is placed; on completion the packed
    total (`final_minor`) is captured, from the hold and, above it, from the balance within the
    spending limit; what the limit does not allow is `owed_minor`, carried into the customer's
    next order (`carried_into`). `due_minor` is what the customer pays by `rest_method` instead."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    cycle = models.ForeignKey(OrderCycle, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    account_id = models.BigIntegerField()
    unit = models.CharField(max_length=12)
    key = models.CharField(max_length=100)  # the checkout's idempotency key
    request_hash = models.CharField(max_length=64, blank=True)  # what that checkout asked for
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    payment_policy = models.CharField(max_length=16)
    fulfilment_kind = models.CharField(max_length=10, choices=FulfilmentKind.choices, blank=True)
    fulfilment_name = models.CharField(max_length=120, blank=True)
    fee_minor = models.BigIntegerField(default=0)
    carried_minor = models.BigIntegerField(default=0)  # debt of earlier orders, collected with this one
    estimated_minor = models.BigIntegerField()  # lines + fee + carried, when placed
    hold_id = models.BigIntegerField(null=True, blank=True)
    held_minor = models.BigIntegerField(default=0)
    rest_method = models.CharField(max_length=16, choices=RestMethod.choices, blank=True, default="")
    due_minor = models.BigIntegerField(default=0)
    payment_id = models.BigIntegerField(null=True, blank=True)  # the card top-up that paid the rest
    final_minor = models.BigIntegerField(null=True, blank=True)
    collected_minor = models.BigIntegerField(default=0)  # paid by hand at pickup
    captured_minor = models.BigIntegerField(default=0)
    released_minor = models.BigIntegerField(default=0)
    owed_minor = models.BigIntegerField(default=0)
    carried_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="carries")
    refunded_minor = models.BigIntegerField(default=0)
    refunded_paid_minor = models.BigIntegerField(default=0)  # of it, given back as paid credit (the rest granted)
    placed_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "key"], name="order_unique_key"),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0) & Q(refunded_minor__lte=models.F("captured_minor")),
                name="order_refund_within_captured",
            ),
        ]
        indexes = [
            models.Index(fields=["hub", "cycle", "status"], name="order_by_cycle"),
            models.Index(fields=["hub", "account_id", "status"], name="order_by_account"),
        ]

    def __str__(self) -> str:
        return f"#{self.id}"

    @property
    def rest_method_label(self) -> str:
        return rest_method_label(self.rest_method, self.fulfilment_kind)


class OrderLine(models.Model):
    """A line as it was sold: name and unit price are kept, so a later price change does not
    change the order. By weight, `unit_price_minor` is per kilogram."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=210)
    quantity = models.PositiveIntegerField()
    unit_price_minor = models.BigIntegerField()
    by_weight = models.BooleanField(default=False)
    estimated_grams = models.PositiveIntegerField(null=True, blank=True)  # all items together
    packed_quantity = models.PositiveIntegerField(null=True, blank=True)
    packed_grams = models.PositiveIntegerField(null=True, blank=True)
    stock_taken = models.BooleanField(default=False)  # its variant's stock was counted and taken
    is_extra = models.BooleanField(default=False)  # added by crew after the order was placed
    added_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=100, blank=True)  # an extra's form key: added once

    objects = HubManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "key"], condition=~Q(key=""), name="order_line_unique_key")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def estimated_minor(self) -> int:
        if self.by_weight:
            return price_by_weight(self.estimated_grams or 0, self.unit_price_minor)
        return self.quantity * self.unit_price_minor

    @property
    def final_minor(self) -> int:
        """What the line costs as packed (the estimate until crew weigh or count it)."""
        if self.by_weight:
            if self.packed_grams is not None:
                return price_by_weight(self.packed_grams, self.unit_price_minor)
            if self.packed_quantity is not None and self.quantity:
                return price_by_weight(
                    (self.estimated_grams or 0) * self.packed_quantity // self.quantity, self.unit_price_minor
                )
            return self.estimated_minor
        quantity = self.quantity if self.packed_quantity is None else self.packed_quantity
        return quantity * self.unit_price_minor


def price_by_weight(grams: int, price_per_kilo_minor: int) -> int:
    """Price of `grams` at a price per kilogram, rounded half up to the minor unit."""
    return (grams * price_per_kilo_minor + 500) // 1000


class OrderEventKind(models.TextChoices):
    PLACED = "placed", _("Order placed")
    HELD = "held", _("Held on your credit")
    PACKED = "packed", _("Packed")
    ESTIMATED = "estimated", _("Charged at the estimated weight")
    EXTRA = "extra", _("Extra added")
    COLLECTED = "collected", _("Paid at pickup")
    CAPTURED = "captured", _("Taken from your credit")
    RELEASED = "released", _("Released back to your credit")
    OWED = "owed", _("Left to pay with your next order")
    SETTLED = "settled", _("Paid with a later order")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED_CREDIT = "refunded_credit", _("Refunded to your credit")
    REFUNDED_CARD = "refunded_card", _("Refunded to your card")


# The labels above speak to the customer; crew read the same events about someone else.
CREW_EVENT_LABELS: dict[str, object] = {
    OrderEventKind.HELD: _("Held on the customer's credit"),
    OrderEventKind.CAPTURED: _("Taken from the customer's credit"),
    OrderEventKind.RELEASED: _("Released back to the customer's credit"),
    OrderEventKind.OWED: _("Left to pay with the customer's next order"),
    OrderEventKind.REFUNDED_CREDIT: _("Refunded to the customer's credit"),
    OrderEventKind.REFUNDED_CARD: _("Refunded to the customer's card"),
}


class OrderEvent(models.Model):
    """One thing that happened to an order, with its amount: the order's timeline for the
    customer and the crew."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=OrderEventKind.choices)
    amount_minor = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    key = models.CharField(max_length=120, blank=True)  # an event that a retry must not record twice

    objects = HubManager()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "key"], condition=~Q(key=""), name="order_event_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of order {self.order_id}"


class CheckoutPayment(models.Model):
    """A checkout waiting for the card payment of what credit did not cover. When the payment
    succeeds (whoever learns it first: the customer's return, the webhook, the reconcile job) the
    order is placed with the checkout's own key, so a retry or a second tab gives the same order;
    if it can't be placed any more (sold out meanwhile), the money stays as credit and `failure`
    says why."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    payment_id = models.BigIntegerField()
    key = models.CharField(max_length=100)  # the checkout's key: the order it places
    cycle = models.ForeignKey(OrderCycle, on_delete=models.CASCADE, related_name="+")
    items = models.JSONField()  # {variant id: quantity}, as the checkout showed them
    option = models.ForeignKey(FulfilmentOption, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    failure = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)  # the customer was shown the outcome

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "payment_id"], name="checkout_payment_once")]
        indexes = [models.Index(fields=["hub", "customer", "seen_at"], name="checkout_payment_unseen")]

    def __str__(self) -> str:
        return f"checkout {self.key} / payment {self.payment_id}"


class Cart(models.Model):
    """A customer's cart at a hub, kept between visits and logins: variant id -> quantity."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    items = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "customer"], name="cart_one_per_customer")]

    def __str__(self) -> str:
        return f"cart of {self.customer_id}"
