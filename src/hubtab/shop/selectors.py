"""Reads of the shop: the catalogue with prices in the customer's credit unit, open cycles, what a
cart costs and how the hub's payment policy splits it, and orders for crew and customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from hubtab.accounts.selectors import (
    CreditPrice,
    PaymentPolicy,
    credit_price_of,
    credit_settings_of,
    credit_unit_of,
    payment_policy_for,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import Unit
from hubtab.crm.cycles import CycleChoice
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_state
from hubtab.shop.models import (
    Cart,
    FulfilmentOption,
    Order,
    OrderCycle,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PriceTier,
    Product,
    Variant,
    price_by_weight,
)

MAX_QUANTITY = 99


def tier_list(*, hub: Hub) -> QuerySet[PriceTier]:
    return PriceTier.objects.filter(hub=hub)


def product_list(*, hub: Hub, active_only: bool = False) -> QuerySet[Product]:
    variants = Variant.objects.select_related("tier").order_by("id")
    if active_only:
        variants = variants.filter(active=True)
    products = Product.objects.filter(hub=hub)
    if active_only:
        products = products.filter(active=True, variants__active=True).distinct()
    return products.prefetch_related(Prefetch("variants", queryset=variants))


def product_get(*, hub: Hub, product_id: int) -> Product | None:
    return product_list(hub=hub).filter(id=product_id).first()


class Pricer:
    """Prices in the customer's credit unit, with the hub's unit and price of credit read once (a
    cart prices every line; a checkout must not read the same settings for each)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.unit = credit_unit_of(hub=hub)
        self._rate: CreditPrice | None = None

    def money(self, amount_minor: int) -> int:
        """A price in the hub's currency, in credits at the hub's price, rounded up."""
        if self._rate is None:
            self._rate = credit_price_of(hub=self.hub, currency=self.hub.currency, unit=self.unit)
        return self._rate.credits_for(amount_minor)

    def variant(self, variant: Variant) -> int:
        """What the variant costs (per kilogram when sold by weight): its tier's credits, or its price."""
        if variant.tier is not None:
            return variant.tier.credits_minor
        assert variant.price_minor is not None
        return self.money(variant.price_minor)

    def fee(self, option: FulfilmentOption | None) -> int:
        return self.money(option.fee_minor) if option is not None and option.fee_minor else 0


def cycle_list(*, hub: Hub) -> QuerySet[OrderCycle]:
    return (
        OrderCycle.objects.filter(hub=hub)
        .annotate(
            order_count=Count("orders", filter=~Q(orders__status=OrderStatus.CANCELLED)),
            placed_count=Count("orders", filter=Q(orders__status=OrderStatus.PLACED)),
        )
        .prefetch_related(Prefetch("options", queryset=FulfilmentOption.objects.all()))
    )


def cycle_get(*, hub: Hub, cycle_id: int) -> OrderCycle | None:
    return cycle_list(hub=hub).filter(id=cycle_id).first()


def cycles_open(*, hub: Hub, now: datetime | None = None) -> QuerySet[OrderCycle]:
    now = now or timezone.now()
    return cycle_list(hub=hub).filter(opens_at__lte=now, closes_at__gt=now).order_by("closes_at", "id")


def cycle_next(*, hub: Hub, now: datetime | None = None) -> OrderCycle | None:
    """The next cycle to open, to tell customers when they can order again."""
    now = now or timezone.now()
    return cycle_list(hub=hub).filter(opens_at__gt=now).order_by("opens_at", "id").first()


@dataclass(frozen=True)
class CartLine:
    variant: Variant
    name: str
    quantity: int
    unit_price_minor: int  # per item, or per kilogram by weight
    by_weight: bool
    estimated_grams: int | None  # all items together
    estimated_minor: int


@dataclass(frozen=True)
class CheckoutQuote:
    """What the cart costs and how the payment policy pays it: `credit_minor` from credit (held),
    `rest_minor` by another method. `shortfall_minor` is what a credit-only customer lacks."""

    unit: Unit
    lines: tuple[CartLine, ...]
    subtotal_minor: int
    fee_minor: int
    carried_minor: int
    policy: str
    balance_minor: int
    spendable_minor: int
    held_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.fee_minor + self.carried_minor

    @property
    def credit_minor(self) -> int:
        if self.policy == PaymentPolicy.OTHER_ONLY:
            return 0
        return min(self.total_minor, max(self.spendable_minor, 0))

    @property
    def own_credit_minor(self) -> int:
        """Of what credit pays, the customer's own credit (not yet held by other orders)."""
        return min(self.credit_minor, max(self.balance_minor - self.held_minor, 0))

    @property
    def borrowed_minor(self) -> int:
        """Of what credit pays, what is borrowed within the spending limit: a debt once taken."""
        return self.credit_minor - self.own_credit_minor

    @property
    def rest_minor(self) -> int:
        return self.total_minor - self.credit_minor

    @property
    def blocked(self) -> bool:
        """Credit only, and credit can't cover the order."""
        return self.policy == PaymentPolicy.CREDIT_ONLY and self.rest_minor > 0


def cart_lines(*, hub: Hub, items: dict[int, int], pricer: Pricer | None = None) -> tuple[CartLine, ...]:
    """The cart's variants that can be sold, priced now; refused when one can't be."""
    pricer = pricer or Pricer(hub)
    if not items:
        raise DomainError("cart_empty", _("Your cart is empty."))
    for variant_id, quantity in items.items():
        if not isinstance(variant_id, int) or isinstance(quantity, bool) or not isinstance(quantity, int):
            raise DomainError("validation_error", _("Quantities are whole numbers."))
        if not 1 <= quantity <= MAX_QUANTITY:
            raise DomainError(
                "validation_error", _("Order between 1 and %(max)s of each item.") % {"max": MAX_QUANTITY}
            )
    variants = {
        v.id: v
        for v in Variant.objects.filter(hub=hub, id__in=list(items), active=True, product__active=True).select_related(
            "product", "tier"
        )
    }
    missing = set(items) - set(variants)
    if missing:
        raise DomainError("not_for_sale", _("Something in your cart is no longer for sale; remove it and try again."))
    lines = []
    for variant_id in sorted(items):
        variant, quantity = variants[variant_id], items[variant_id]
        unit_price = pricer.variant(variant)
        grams = (variant.estimated_grams or 0) * quantity if variant.by_weight else None
        estimated = price_by_weight(grams, unit_price) if grams is not None else quantity * unit_price
        lines.append(
            CartLine(
                variant=variant,
                name=str(variant),
                quantity=quantity,
                unit_price_minor=unit_price,
                by_weight=variant.by_weight,
                estimated_grams=grams,
                estimated_minor=estimated,
            )
        )
    return tuple(lines)


def orders_owed(*, hub: Hub, account_id: int) -> QuerySet[Order]:
    """Completed orders that left something to pay, not yet taken into a later order."""
    return Order.objects.filter(
        hub=hub, account_id=account_id, status=OrderStatus.COMPLETED, owed_minor__gt=0, carried_into__isnull=True
    )


def checkout_quote(
    *, hub: Hub, account_id: int, items: dict[int, int], option: FulfilmentOption | None,
    lines: tuple[CartLine, ...] | None = None,
) -> CheckoutQuote:  # fmt: skip
    """What the cart costs now and how the payment policy pays it (`lines`: the cart already priced)."""
    pricer = Pricer(hub)
    lines = lines if lines is not None else cart_lines(hub=hub, items=items, pricer=pricer)
    state = account_state(hub_id=hub.id, account_id=account_id)
    settings = credit_settings_of(hub=hub)
    policy, _own = payment_policy_for(hub=hub, account_id=account_id, settings=settings)
    if not settings.enabled:
        policy = PaymentPolicy.OTHER_ONLY
    carried = orders_owed(hub=hub, account_id=account_id).aggregate(total=Sum("owed_minor"))["total"] or 0
    return CheckoutQuote(
        unit=pricer.unit,
        lines=lines,
        subtotal_minor=sum(line.estimated_minor for line in lines),
        fee_minor=pricer.fee(option),
        carried_minor=carried,
        policy=policy,
        balance_minor=state.balance_minor,
        spendable_minor=state.spendable_minor or 0,
        held_minor=state.held_minor,
    )


def order_list(
    *, hub: Hub, cycle_id: int | None = None, status: str = "", account_id: int | None = None
) -> QuerySet[Order]:
    orders = Order.objects.filter(hub=hub).select_related("customer", "cycle")
    if cycle_id is not None:
        orders = orders.filter(cycle_id=cycle_id)
    if status:
        orders = orders.filter(status=status)
    if account_id is not None:
        orders = orders.filter(account_id=account_id)
    return orders.annotate(line_count=Count("lines"))


def order_get(*, hub: Hub, order_id: int, account_id: int | None = None) -> Order | None:
    orders = Order.objects.filter(hub=hub, id=order_id)
    if account_id is not None:
        orders = orders.filter(account_id=account_id)
    return orders.select_related("customer", "cycle").first()


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).select_related("actor")


def order_lines(*, order: Order) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(order=order)


def order_final_minor(order: Order) -> int:
    """The order's total as packed so far: lines, fee and what it carries from earlier orders."""
    return sum(line.final_minor for line in order_lines(order=order)) + order.fee_minor + order.carried_minor


def cycle_totals(*, hub: Hub, cycle_id: int) -> dict[str, int]:
    totals = (
        Order.objects.filter(hub=hub, cycle_id=cycle_id)
        .exclude(status=OrderStatus.CANCELLED)
        .aggregate(
            estimated=Sum("estimated_minor"),
            captured=Sum("captured_minor"),
            held=Sum("held_minor", filter=Q(status=OrderStatus.PLACED)),
            owed=Sum("owed_minor"),
        )
    )
    return {name: value or 0 for name, value in totals.items()}


def orders_open_count(*, hub: Hub) -> int:
    """Orders placed and not yet completed or cancelled: the crew's packing to do."""
    return Order.objects.filter(hub=hub, status=OrderStatus.PLACED).count()


def cart_of(*, customer: Customer) -> dict[int, int]:
    """The customer's cart at their hub: variant id -> quantity."""
    stored = Cart.objects.filter(hub_id=customer.hub_id, customer=customer).values_list("items", flat=True).first()
    return {int(variant_id): int(quantity) for variant_id, quantity in (stored or {}).items()}


def cycles_for_crm(hub: Hub) -> list[CycleChoice]:
    """The hub's recent cycles, newest first, for the CRM's "ordered in this cycle": the current one
    is open now (the one closing first), or else the one that opened last."""
    now = timezone.now()
    recent = list(OrderCycle.objects.filter(hub=hub).filter(opens_at__lte=now).order_by("-opens_at", "-id")[:12])
    open_now = [cycle for cycle in recent if cycle.closes_at > now]
    current = min(open_now, key=lambda c: (c.closes_at, c.id)) if open_now else (recent[0] if recent else None)
    return [CycleChoice(id=c.id, name=c.name, current=c == current) for c in recent]
