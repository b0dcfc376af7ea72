"""The catalogue and order cycles, as the owner keeps them: price tiers, products and their
variants (stock, weight, price), cycles and their pickup or delivery options."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credit_unit_of
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check
from hubtab.core.services import audit_money, audit_record
from hubtab.shop import locks
from hubtab.shop.models import (
    FulfilmentKind,
    FulfilmentOption,
    OrderCycle,
    PriceTier,
    Product,
    Variant,
)


def name_clean(value: object, missing: str, max_length: int) -> str:
    """The name typed, trimmed; `missing` says what to do when there is none."""
    text = (value if isinstance(value, str) else "").strip()
    if not text:
        raise DomainError("validation_error", missing)
    if len(text) > max_length:
        raise DomainError("validation_error", _("Keep the name under %(max)s characters.") % {"max": max_length})
    return text


def tier_save(
    *, hub: Hub, actor: User | None, name: str, credits_minor: int, tier: PriceTier | None = None
) -> PriceTier:
    """Create or change a price tier; a changed price applies to orders placed from now on."""
    name = name_clean(name, _("Give the tier a name."), 40)
    amount_check(credits_minor)
    if PriceTier.objects.filter(hub=hub, name__iexact=name).exclude(id=tier.id if tier else 0).exists():
        raise DomainError("validation_error", _("There is already a tier called %(name)s.") % {"name": name})
    with transaction.atomic():
        tier = tier or PriceTier(hub=hub)
        tier.name, tier.credits_minor = name, credits_minor
        tier.save()
        audit_record(
            hub=hub,
            actor=actor,
            action="shop.tier",
            subject=tier,
            summary=gettext_noop("Set the tier %(name)s to %(credits)s"),
            params={"name": name, "credits": audit_money(credits_minor, credit_unit_of(hub=hub).code)},
        )
    return tier


def product_save(
    *, hub: Hub, actor: User | None, name: str, description: str = "", producer: str = "", active: bool = True,
    product: Product | None = None,
) -> Product:  # fmt: skip
    name = name_clean(name, _("Give the product a name."), 120)
    with transaction.atomic():
        product = product or Product(hub=hub)
        product.name = name
        product.description = (description or "").strip()[:2000]
        product.producer = (producer or "").strip()[:120]
        product.active = bool(active)
        created = product.pk is None
        product.save()
        audit_record(
            hub=hub,
            actor=actor,
            action="shop.product",
            subject=product,
            summary=gettext_noop("Added the product %(name)s")
            if created
            else gettext_noop("Changed the product %(name)s"),
            params={"name": name},
        )
    return product


def variant_save(
    *, hub: Hub, actor: User | None, product: Product, name: str = "", price_minor: int | None = None,
    tier_id: int | None = None, by_weight: bool = False, estimated_grams: int | None = None,
    stock: int | None = None, active: bool = True, variant: Variant | None = None, stock_seen: int | None = None,
) -> Variant:  # fmt: skip
    """A way to buy the product: a price in the hub's currency or a tier's credits, not both.
    `stock_seen` is the stock the form showed: what was sold since is not put back, the change
    typed is applied to the stock as it is now."""
    if product.hub_id != hub.id:
        raise DomainError("not_found", _("That product does not exist at this hub."))
    if (price_minor is None) == (tier_id is None):
        raise DomainError("validation_error", _("Give either a price or a credit tier."))
    tier = None
    if tier_id is not None:
        tier = PriceTier.objects.filter(hub=hub, id=tier_id).first()
        if tier is None:
            raise DomainError("validation_error", _("Choose one of the hub's tiers."))
    else:
        amount_check(price_minor)
    if by_weight and (not isinstance(estimated_grams, int) or not 0 < estimated_grams <= 100_000):
        raise DomainError("validation_error", _("Say about how much one item weighs, in grams (1 to 100000)."))
    if stock is not None and (not isinstance(stock, int) or not 0 <= stock <= 1_000_000):
        raise DomainError("validation_error", _("Stock is a whole number from 0, or blank when not counted."))
    with transaction.atomic():
        if variant is not None:
            variant = locks.variant_locked(hub=hub, variant_id=variant.id)
            if stock is not None and stock_seen is not None and variant.stock is not None:
                stock = max(variant.stock + stock - stock_seen, 0)
        variant = variant or Variant(hub=hub, product=product)
        variant.name = (name or "").strip()[:80]
        variant.price_minor = price_minor if tier is None else None
        variant.tier = tier
        variant.by_weight = bool(by_weight)
        variant.estimated_grams = estimated_grams if by_weight else None
        variant.stock = stock
        variant.active = bool(active)
        variant.save()
        audit_record(hub=hub, actor=actor, action="shop.variant", subject=product,
                     summary=gettext_noop("Saved %(variant)s of %(product)s"),
                     params={"variant": str(variant), "product": product.name})  # fmt: skip
    return variant


def cycle_save(
    *, hub: Hub, actor: User | None, name: str, opens_at: datetime, closes_at: datetime,
    cycle: OrderCycle | None = None,
) -> OrderCycle:  # fmt: skip
    name = name_clean(name, _("Give the order cycle a name."), 120)
    if timezone.is_naive(opens_at) or timezone.is_naive(closes_at):
        raise DomainError("validation_error", _("Give dates with a time zone."))
    if closes_at <= opens_at:
        raise DomainError("validation_error", _("The cycle must close after it opens."))
    with transaction.atomic():
        cycle = cycle or OrderCycle(hub=hub)
        cycle.name, cycle.opens_at, cycle.closes_at = name, opens_at, closes_at
        cycle.save()
        audit_record(
            hub=hub,
            actor=actor,
            action="shop.cycle",
            subject=cycle,
            summary=gettext_noop("Saved the order cycle %(name)s"),
            params={"name": name},
        )
    return cycle


def fulfilment_add(
    *, hub: Hub, actor: User | None, cycle: OrderCycle, kind: str, name: str, fee_minor: int = 0
) -> FulfilmentOption:
    if kind not in FulfilmentKind.values:
        raise DomainError("validation_error", _("Choose pickup or delivery."))
    name = name_clean(name, _("Name the pickup point or the delivery."), 120)
    amount_check(fee_minor, allow_zero=True)
    with transaction.atomic():
        option = FulfilmentOption.objects.create(hub=hub, cycle=cycle, kind=kind, name=name, fee_minor=fee_minor)
        audit_record(hub=hub, actor=actor, action="shop.fulfilment", subject=cycle,
                     summary=gettext_noop("Added %(kind_word)s %(name)s to %(cycle)s"),
                     params={"kind_word": kind.capitalize(), "name": name, "cycle": cycle.name})  # fmt: skip
    return option
