"""Every write of the shop: the catalogue and cycles (owner), placing an order (customer), and
packing, completing, cancelling and refunding it (crew).

Money moves only through `accounts`: an order's credit is held when it is placed, the packed total
is captured when it is completed (above the hold from the balance, within the spending limit),
a cancel voids the hold, a refund posts credit back. What the spending limit does not allow is
owed on the order and carried into the customer's next one. Each step is one database
transaction with ledger keys named after the order, so a double click or a retry does it once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import PaymentPolicy, credit_settings_of, credit_unit_of, topup_quote
from hubtab.accounts.services import (
    CreditAction,
    charge_post,
    charge_refund_post,
    credit_apply,
    order_hold_capture,
    order_hold_place,
    order_hold_void,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check, currency_unit, money_format, reader_locale
from hubtab.core.services import audit_money, audit_record
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import LotDraw, account_state, lots_drawn, transaction_key_used
from hubtab.ledger.types import LotKind
from hubtab.payments.models import Payment, PaymentMethod, PaymentRefund, PaymentStatus, RefundStatus
from hubtab.payments.selectors import hub_takes_cards
from hubtab.payments.services import (
    payment_refund_prepare,
    refund_credit_minor,
    refund_send,
    topup_start,
)
from hubtab.shop import events
from hubtab.shop.models import (
    Cart,
    CheckoutPayment,
    FulfilmentKind,
    FulfilmentOption,
    Order,
    OrderCycle,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    PriceTier,
    Product,
    RestMethod,
    Variant,
)
from hubtab.shop.selectors import (
    CartLine,
    CheckoutQuote,
    cart_lines,
    checkout_quote,
    order_final_minor,
    order_lines,
    orders_owed,
)

MANUAL_METHODS = (RestMethod.CASH, RestMethod.BANK_TRANSFER)


def _name(value: object, missing: str, max_length: int) -> str:
    """The name typed, trimmed; `missing` says what to do when there is none."""
    text = (value if isinstance(value, str) else "").strip()
    if not text:
        raise DomainError("validation_error", missing)
    if len(text) > max_length:
        raise DomainError("validation_error", _("Keep the name under %(max)s characters.") % {"max": max_length})
    return text


# --- catalogue and cycles (the owner) -------------------------------------------------------------


def tier_save(
    *, hub: Hub, actor: User | None, name: str, credits_minor: int, tier: PriceTier | None = None
) -> PriceTier:
    """Create or change a price tier; a changed price applies to orders placed from now on."""
    name = _name(name, _("Give the tier a name."), 40)
    amount_check(credits_minor)
    if (
        PriceTier.objects.with_scopes_disabled()
        .filter(hub=hub, name__iexact=name)
        .exclude(id=tier.id if tier else None)
        .exists()
    ):
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
    name = _name(name, _("Give the product a name."), 120)
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
        tier = PriceTier.objects.with_scopes_disabled().filter(hub=hub, id=tier_id).first()
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
            variant = Variant.objects.with_scopes_disabled().select_for_update().get(id=variant.id)
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
    name = _name(name, _("Give the order cycle a name."), 120)
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
    name = _name(name, _("Name the pickup point or the delivery."), 120)
    amount_check(fee_minor, allow_zero=True)
    with transaction.atomic():
        option = FulfilmentOption.objects.with_scopes_disabled().create(
            hub=hub, cycle=cycle, kind=kind, name=name, fee_minor=fee_minor
        )
        audit_record(hub=hub, actor=actor, action="shop.fulfilment", subject=cycle,
                     summary=gettext_noop("Added %(kind_word)s %(name)s to %(cycle)s"),
                     params={"kind_word": kind.capitalize(), "name": name, "cycle": cycle.name})  # fmt: skip
    return option


# --- placing an order (the customer) --------------------------------------------------------------


def _reference(hub: Hub, order: Order) -> str:
    """ "Order #12", as its postings' memo is stored; people read it in their own language,
    named from the posting's key (ledger.labels)."""
    return f"Order #{order.id}"


def _event(
    order: Order, kind: str, amount_minor: int | None = None, note: str = "", actor: User | None = None, key: str = ""
) -> None:
    """Record what happened to the order; an event with a `key` is recorded once."""
    if key and OrderEvent.objects.with_scopes_disabled().filter(order=order, key=key).exists():
        return
    OrderEvent.objects.with_scopes_disabled().create(
        hub_id=order.hub_id, order=order, kind=kind, amount_minor=amount_minor, note=note[:300], actor=actor, key=key
    )


def cart_save(*, customer: Customer, items: dict[int, int]) -> None:
    """Keep the customer's cart at their hub (an empty one is removed)."""
    kept = {str(variant_id): quantity for variant_id, quantity in items.items() if quantity}
    if not kept:
        Cart.objects.with_scopes_disabled().filter(hub_id=customer.hub_id, customer=customer).delete()
        return
    Cart.objects.with_scopes_disabled().update_or_create(
        hub_id=customer.hub_id, customer=customer, defaults={"items": kept, "updated_at": timezone.now()}
    )


def checkout_key() -> str:
    """A fresh key for one checkout page: the order it places is placed once, however often sent."""
    return f"checkout-{uuid.uuid4()}"


def order_place(
    *, hub: Hub, customer: Customer, cycle_id: int, items: dict[int, int], option_id: int | None, key: str,
    rest_method: str = "", now: datetime | None = None,
) -> Order:  # fmt: skip
    """Place the order and hold its credit, all or nothing: stock taken under the variants' locks,
    the hold by the ledger (which refuses what the account can't spend, whatever runs at once)."""
    now = now or timezone.now()
    # Priced once, before any lock (prices need none): bad input is refused before anything is locked.
    lines = cart_lines(hub=hub, items=items)
    if not isinstance(key, str) or not 1 <= len(key) <= 100:
        raise DomainError("invalid_key", _("This checkout expired; open it again."))
    request_hash = _checkout_hash(cycle_id, items, option_id, rest_method)
    existing = Order.objects.with_scopes_disabled().filter(hub=hub, key=key).first()
    if existing is not None:
        return _checkout_replay(existing, customer, request_hash)
    cycle = OrderCycle.objects.with_scopes_disabled().filter(hub=hub, id=cycle_id).first()
    if cycle is None or not cycle.is_open(now):
        raise DomainError("cycle_closed", _("This order cycle is closed; orders can't be placed in it now."))
    options = list(FulfilmentOption.objects.with_scopes_disabled().filter(cycle=cycle))
    option = next((o for o in options if o.id == option_id), None)
    if options and option is None:
        raise DomainError("validation_error", _("Choose pickup or delivery."))
    try:
        with transaction.atomic():
            return _order_place_locked(hub, customer, cycle, items, lines, option, key, rest_method, now, request_hash)
    except (IntegrityError, DomainError):
        # The same checkout sent twice at once (a double click): the second send waited on the
        # first's locks and then saw its own order's stock or credit gone, or its key taken.
        existing = Order.objects.with_scopes_disabled().filter(hub=hub, key=key).first()
        if existing is None:
            raise
        return _checkout_replay(existing, customer, request_hash)


def _checkout_hash(cycle_id: int, items: dict[int, int], option_id: int | None, rest_method: str) -> str:
    return hashlib.sha256(json.dumps([cycle_id, sorted(items.items()), option_id, rest_method]).encode()).hexdigest()


def _checkout_replay(existing: Order, customer: Customer, request_hash: str) -> Order:
    """The same checkout sent again answers with its order; the same key with another cart is
    refused (an old tab sent after the cart changed), so that nothing is taken for granted."""
    if existing.account_id != customer.account_id:
        raise DomainError("invalid_key", _("This checkout expired; open it again."))
    if existing.request_hash != request_hash:
        raise DomainError(
            "checkout_used",
            _("This checkout already placed order #%(id)s and your cart has changed since: check it and place it "
              "again.") % {"id": existing.id},
        )  # fmt: skip
    return existing


def _order_place_locked(
    hub: Hub, customer: Customer, cycle: OrderCycle, items: dict[int, int], lines: tuple[CartLine, ...],
    option: FulfilmentOption | None, key: str, rest_method: str, now: datetime, request_hash: str,
) -> Order:  # fmt: skip
    # Variants with counted stock are locked in id order (the same order everywhere), before the
    # account's lock that the ledger takes for the hold.
    counted = {
        v.id: v
        for v in Variant.objects.with_scopes_disabled()
        .select_for_update()
        .filter(hub=hub, id__in=list(items), stock__isnull=False)
        .order_by("id")
    }
    for variant_id, variant in counted.items():
        if variant.stock is not None and variant.stock < items[variant_id]:
            raise DomainError(
                "out_of_stock",
                _("Only %(left)s of %(name)s left.") % {"left": variant.stock, "name": variant.product.name}
                if variant.stock
                else _("%(name)s is sold out.") % {"name": variant.product.name},
            )
    # Debt left by earlier orders is collected with this one; locked so that two orders never both carry it.
    owed = list(orders_owed(hub=hub, account_id=customer.account_id).select_for_update().order_by("id"))
    quote = checkout_quote(hub=hub, account_id=customer.account_id, items=items, option=option, lines=lines)
    unit = quote.unit
    if quote.blocked:
        raise DomainError(
            "credit_short",
            _("Your credit can't cover this order: %(short)s is missing.")
            % {"short": money_format(quote.rest_minor, unit, reader_locale())},
        )
    if quote.rest_minor > 0:
        if rest_method == RestMethod.CARD:
            raise DomainError("pay_rest_by_card", _("Pay the rest by card first, then place the order."))
        if rest_method not in rest_methods_for(hub=hub, quote=quote):
            raise DomainError("validation_error", _("Choose how you pay the rest."))
    else:
        rest_method = RestMethod.NONE
    order = Order.objects.with_scopes_disabled().create(
        hub=hub, cycle=cycle, customer=customer, account_id=customer.account_id, unit=unit.code, key=key,
        payment_policy=quote.policy, fulfilment_kind=option.kind if option else "",
        fulfilment_name=option.name if option else "", fee_minor=quote.fee_minor,
        carried_minor=quote.carried_minor, estimated_minor=quote.total_minor, rest_method=rest_method,
        due_minor=quote.rest_minor, placed_at=now, request_hash=request_hash,
    )  # fmt: skip
    OrderLine.objects.with_scopes_disabled().bulk_create(
        [
            OrderLine(
                hub=hub,
                order=order,
                variant=line.variant,
                name=line.name,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                by_weight=line.by_weight,
                estimated_grams=line.estimated_grams,
            )
            for line in quote.lines
        ]
    )
    for variant_id in counted:
        Variant.objects.with_scopes_disabled().filter(id=variant_id).update(stock=F("stock") - items[variant_id])
    OrderLine.objects.with_scopes_disabled().filter(order=order, variant_id__in=list(counted)).update(stock_taken=True)
    _event(order, OrderEventKind.PLACED, quote.total_minor)
    if quote.credit_minor > 0:
        try:
            held = order_hold_place(
                hub=hub, account_id=customer.account_id, amount_minor=quote.credit_minor,
                reference=_reference(hub, order), key=f"order:{order.id}:hold",
            )  # fmt: skip
        except DomainError as exc:
            if exc.code == "insufficient_funds":  # spent meanwhile, e.g. in another tab
                raise DomainError(
                    "credit_short", _("Your credit changed while you were ordering; check the order again.")
                ) from exc
            raise
        order.hold_id, order.held_minor = held.hold_id, quote.credit_minor
        order.save(update_fields=["hold_id", "held_minor"])
        _event(order, OrderEventKind.HELD, quote.credit_minor)
    if owed:
        Order.objects.with_scopes_disabled().filter(id__in=[o.id for o in owed]).update(carried_into=order)
    events.order_placed(order=order)
    return order


@dataclass(frozen=True)
class CheckoutDraft:
    """What a checkout page asks to order: placed once its card payment succeeds."""

    key: str
    cycle_id: int
    items: dict[int, int]
    option_id: int | None


def checkout_topup_start(*, hub: Hub, customer: Customer, shortfall_minor: int, draft: CheckoutDraft) -> Payment:
    """A card top-up of exactly what the order lacks (credit only), or of the rest (credit first),
    remembered with the checkout it pays for: the order is placed as soon as the payment succeeds.
    A checkout whose order is placed already starts no payment."""
    amount_check(shortfall_minor)
    placed = Order.objects.with_scopes_disabled().filter(hub=hub, key=draft.key, customer=customer).first()
    if placed is not None:
        raise DomainError("checkout_placed", _("This checkout already placed order #%(id)s.") % {"id": placed.id})
    with transaction.atomic():
        payment = topup_start(hub=hub, customer=customer, actor=None, credits_minor=shortfall_minor,
                              for_shortfall=True)  # fmt: skip
        CheckoutPayment.objects.with_scopes_disabled().create(
            hub=hub, customer=customer, payment_id=payment.id, key=draft.key, cycle_id=draft.cycle_id,
            items={str(variant_id): quantity for variant_id, quantity in draft.items.items()},
            option_id=draft.option_id,
        )  # fmt: skip
    return payment


def checkout_paid_place(*, hub: Hub, payment_id: int) -> CheckoutPayment | None:
    """Place the order of the checkout this payment paid for, once its credit is in: with the
    checkout's key (the same order, however often this runs). If it can't be placed any more,
    the money stays as credit and the reason is kept for the customer's page."""
    with transaction.atomic():
        waiting = (
            CheckoutPayment.objects.with_scopes_disabled()
            .select_for_update()
            .filter(hub=hub, payment_id=payment_id)
            .select_related("customer")
            .first()
        )
        if waiting is None or waiting.finished_at is not None:
            return waiting
        status = Payment.objects.with_scopes_disabled().filter(hub=hub, id=payment_id).values_list("status", flat=True)
        if status.first() != PaymentStatus.SUCCEEDED:
            return waiting
        try:
            order = order_place(
                hub=hub, customer=waiting.customer, cycle_id=waiting.cycle_id, option_id=waiting.option_id,
                items={int(variant_id): quantity for variant_id, quantity in waiting.items.items()}, key=waiting.key,
            )  # fmt: skip
        except DomainError as exc:
            waiting.failure = exc.message[:300]
        else:
            waiting.order = order
            order_payment_link(hub=hub, order=order, payment_id=payment_id)
        waiting.finished_at = timezone.now()
        waiting.save(update_fields=["order", "failure", "finished_at"])
    return waiting


def checkout_paid_seen(*, hub: Hub, customer: Customer) -> CheckoutPayment | None:
    """The newest paid checkout whose outcome the customer has not been shown yet, marked shown."""
    with transaction.atomic():
        waiting = (
            CheckoutPayment.objects.with_scopes_disabled()
            .select_for_update()
            .filter(hub=hub, customer=customer, finished_at__isnull=False, seen_at__isnull=True)
            .order_by("-finished_at")
            .first()
        )
        if waiting is not None:
            CheckoutPayment.objects.with_scopes_disabled().filter(
                hub=hub, customer=customer, finished_at__isnull=False, seen_at__isnull=True
            ).update(seen_at=timezone.now())
    return waiting


def rest_methods_for(*, hub: Hub, quote: CheckoutQuote) -> list[str]:
    """How the customer may pay what credit does not: a card (a top-up now, credit first only) or
    by hand later, in cash or by transfer where the hub gives its bank details."""
    if quote.rest_minor <= 0 or quote.blocked:
        return []
    methods: list[str] = []
    if quote.policy == PaymentPolicy.CREDIT_FIRST and hub_takes_cards(hub=hub):
        methods.append(RestMethod.CARD)
    methods.append(RestMethod.CASH)
    if credit_settings_of(hub=hub).bank_transfer_details.strip():
        methods.append(RestMethod.BANK_TRANSFER)
    return methods


def order_paid_by_hand(order: Order) -> bool:
    """Whether (part of) the order is paid by hand at pickup: cash or transfer collected by crew."""
    return order.rest_method in MANUAL_METHODS or order.payment_policy == PaymentPolicy.OTHER_ONLY


# --- after the order is placed (crew) -------------------------------------------------------------


def _order_locked(hub: Hub, order_id: int) -> Order:
    order = Order.objects.with_scopes_disabled().select_for_update().filter(hub=hub, id=order_id).first()
    if order is None:
        raise DomainError("not_found", _("That order does not exist at this hub."))
    return order


def order_pack(
    *, hub: Hub, actor: User | None, order_id: int, packed: dict[int, tuple[int | None, int | None]]
) -> Order:
    """Record what was packed: for each line, the quantity (fewer when short) and, sold by weight,
    the grams weighed. The final total follows; money moves when the order is completed."""
    with transaction.atomic():
        order = _order_locked(hub, order_id)
        if order.status != OrderStatus.PLACED:
            raise DomainError("order_not_open", _("Only an order not yet completed or cancelled can be packed."))
        lines = {line.id: line for line in OrderLine.objects.with_scopes_disabled().filter(order=order)}
        changed = False
        for line_id, (quantity, grams) in packed.items():
            line = lines.get(line_id)
            if line is None:
                raise DomainError("validation_error", _("That line is not in this order."))
            if quantity is not None and (not isinstance(quantity, int) or not 0 <= quantity <= line.quantity):
                raise DomainError(
                    "validation_error",
                    _("Pack from 0 to %(max)s of %(name)s.") % {"max": line.quantity, "name": line.name},
                )
            if grams is not None and (not line.by_weight or not isinstance(grams, int) or not 0 <= grams <= 1_000_000):
                raise DomainError("validation_error", _("Weigh %(name)s in whole grams.") % {"name": line.name})
            if (line.packed_quantity, line.packed_grams) != (quantity, grams):
                line.packed_quantity, line.packed_grams = quantity, grams
                line.save(update_fields=["packed_quantity", "packed_grams"])
                changed = True
        if changed or not OrderEvent.objects.with_scopes_disabled().filter(order=order, kind=OrderEventKind.PACKED):
            # Once when packed, again only when the packing changes (completing re-sends the same form).
            _event(order, OrderEventKind.PACKED, order_final_minor(order), actor=actor)
    return order


def order_extra_add(
    *, hub: Hub, actor: User | None, order_id: int, name: str, quantity: int, unit_price_minor: int, key: str = "",
) -> Order:  # fmt: skip
    """Something added after ordering (a forgotten bag, a bottle deposit), once per `key`. On an
    open order it is part of the final total; on a completed one it is taken from the balance at
    once, within the spending limit, and what the limit does not allow is owed with the next order
    (all of it where the order is paid by other methods only: credit is never used there)."""
    name = _name(name, _("Say what the extra is."), 200)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 999:
        raise DomainError("validation_error", _("The quantity is a whole number from 1."))
    amount_check(unit_price_minor)
    key = (key or "").strip()[:100]
    with transaction.atomic():
        order = _order_locked(hub, order_id)
        if key and OrderLine.objects.with_scopes_disabled().filter(order=order, key=key).exists():
            return order  # the same form sent twice
        if order.status == OrderStatus.CANCELLED:
            raise DomainError("order_not_open", _("A cancelled order can't take extras."))
        if order.carried_into_id is not None:
            raise DomainError(
                "order_carried", _("What this order owed is collected with a later order; add the extra there.")
            )
        line = OrderLine.objects.with_scopes_disabled().create(
            hub=hub, order=order, name=name, quantity=quantity, unit_price_minor=unit_price_minor, is_extra=True,
            added_by=actor, key=key,
        )  # fmt: skip
        amount = line.final_minor
        _event(order, OrderEventKind.EXTRA, amount, note=f"{quantity} x {name}", actor=actor)
        if order.status == OrderStatus.COMPLETED:
            taken = 0
            if order.payment_policy != PaymentPolicy.OTHER_ONLY:
                taken = _take(hub, order, amount, key=f"order:{order.id}:extra:{line.id}", actor=actor, hold=False)
            order.final_minor = (order.final_minor or 0) + amount
            order.captured_minor += taken
            order.owed_minor += amount - taken
            order.save(update_fields=["final_minor", "captured_minor", "owed_minor"])
            if taken:
                _event(order, OrderEventKind.CAPTURED, taken, actor=actor)
            if amount - taken:
                _event(order, OrderEventKind.OWED, amount - taken, actor=actor)
            events.order_extra_charged(order=order, line_id=line.id, amount_minor=amount, name=name, actor=actor)
    return order


def _take(hub: Hub, order: Order, amount_minor: int, *, key: str, actor: User | None, hold: bool) -> int:
    """Take up to `amount_minor` for the order: its hold and, above it, what the account can still
    spend. Returns what was taken; the ledger refuses anything past the spending limit, so a race
    with another order can only make this take less (down to the hold, which is reserved)."""
    held = order.held_minor if hold and order.hold_id else 0
    state = account_state(hub_id=hub.id, account_id=order.account_id)
    take = min(amount_minor, held + max(state.spendable_minor or 0, 0))
    for attempt in (take, min(amount_minor, held)):
        try:
            if attempt <= 0:
                if held:
                    order_hold_void(hub=hub, hold_id=order.hold_id)  # type: ignore[arg-type]
                return 0
            if held:
                order_hold_capture(hub=hub, hold_id=order.hold_id, key=key, amount_minor=attempt, actor=actor)  # type: ignore[arg-type]
            else:
                reference = _reference(hub, order)
                charge_post(hub=hub, account_id=order.account_id, amount_minor=attempt, reference=reference,
                            description=reference, key=key, actor=actor)  # fmt: skip
            return attempt
        except DomainError as exc:
            if exc.code != "insufficient_funds" or attempt == min(amount_minor, held):
                raise
    return 0  # not reached


def money_to_collect(*, hub: Hub, order: Order, final_minor: int) -> int:
    """What is left to pay by hand for an order, in the hub's currency (rounded up)."""
    rest = max(final_minor - order.held_minor, 0)
    return topup_quote(hub=hub, currency=hub.currency, credits_minor=rest).price_minor if rest else 0


def order_complete(
    *, hub: Hub, actor: User | None, order_id: int, collected_minor: int | None = None, charge_estimate: bool = False
) -> Order:
    """Close a packed order: money paid by hand at pickup (`collected_minor`, in the hub's
    currency; what is left to pay when not given) is recorded first, then the final total
    is taken (the hold, and above it the balance within the limit), the rest of the hold is
    released, and what the limit does not allow is owed with the next order. Once.

    Items sold by weight must have been weighed, unless crew `charge_estimate` for those not
    weighed: the order's timeline then says which were charged at the estimate."""
    with transaction.atomic():
        order = _order_locked(hub, order_id)
        if order.status == OrderStatus.COMPLETED:
            return order
        if order.status == OrderStatus.CANCELLED:
            raise DomainError("order_not_open", _("A cancelled order can't be completed."))
        unweighed = [line.name for line in order_lines(order=order)
                     if line.by_weight and line.packed_grams is None and line.packed_quantity != 0]  # fmt: skip
        if unweighed and not charge_estimate:
            raise DomainError(
                "weight_missing",
                _("Weigh %(items)s before completing, or confirm charging the estimated weight.")
                % {"items": ", ".join(unweighed)},
            )
        if unweighed:
            _event(order, OrderEventKind.ESTIMATED, None, note=", ".join(unweighed)[:300], actor=actor)
        final = order_final_minor(order)
        manual = order_paid_by_hand(order)
        if collected_minor is None:
            collected_minor = money_to_collect(hub=hub, order=order, final_minor=final) if manual else 0
        amount_check(collected_minor, allow_zero=True)
        due_minor = money_to_collect(hub=hub, order=order, final_minor=final)
        if collected_minor > due_minor:
            raise DomainError(
                "validation_error",
                _("At most %(due)s is left to pay for this order.")
                % {"due": money_format(due_minor, currency_unit(hub.currency), reader_locale())},
            )
        if collected_minor and not manual:
            raise DomainError("validation_error", _("This order is paid from credit; nothing is collected by hand."))
        if collected_minor:
            # Money in the hub's currency, which becomes credit at the hub's price (no bonus), and
            # the order then takes it like the rest of its total.
            method = "bank_transfer" if order.rest_method == RestMethod.BANK_TRANSFER else "cash"
            credit_apply(
                hub=hub, actor=actor, account_id=order.account_id, action=CreditAction.EXTERNAL_PAYMENT,
                amount_minor=collected_minor, comment=_reference(hub, order), key=f"order:{order.id}:collected",
                method=method, for_order=True,
            )  # fmt: skip
            collected_minor = topup_quote(hub=hub, currency=hub.currency, price_minor=collected_minor).paid_minor
            _event(order, OrderEventKind.COLLECTED, collected_minor, actor=actor)
        # With "other methods only", credit is never used: the order takes at most what was paid for it.
        wanted = min(final, collected_minor) if order.payment_policy == PaymentPolicy.OTHER_ONLY else final
        taken = _take(hub, order, wanted, key=f"order:{order.id}:capture", actor=actor, hold=True)
        order.final_minor = final
        order.collected_minor = collected_minor
        order.captured_minor = taken
        order.released_minor = max(order.held_minor - taken, 0)
        order.owed_minor = final - taken
        order.status = OrderStatus.COMPLETED
        order.completed_at = timezone.now()
        order.save(update_fields=["final_minor", "collected_minor", "captured_minor", "released_minor", "owed_minor",
                                  "status", "completed_at"])  # fmt: skip
        if taken:
            _event(order, OrderEventKind.CAPTURED, taken, actor=actor)
        if order.released_minor:
            _event(order, OrderEventKind.RELEASED, order.released_minor, actor=actor)
        if order.owed_minor:
            _event(order, OrderEventKind.OWED, order.owed_minor, actor=actor)
        for carried in Order.objects.with_scopes_disabled().filter(carried_into=order).order_by("id"):
            # Its debt was part of this order's total, now taken: it owes nothing any more.
            _event(carried, OrderEventKind.SETTLED, carried.owed_minor, note=_reference(hub, order), actor=actor)
            carried.owed_minor = 0
            carried.save(update_fields=["owed_minor"])
        events.order_completed(order=order, actor=actor)
    return order


def order_cancel(*, hub: Hub, actor: User | None, order_id: int, reason: str = "", by_customer: bool = False) -> Order:
    """Cancel an order not yet completed: the hold is voided, stock comes back, debt it carried
    is owed again on its own order. Once. A customer may cancel only while the cycle is open and
    nothing of the order is packed yet."""
    with transaction.atomic():
        order = _order_locked(hub, order_id)
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status == OrderStatus.COMPLETED:
            raise DomainError("order_completed", _("A completed order is refunded, not cancelled."))
        if by_customer and not customer_may_cancel(order):
            raise DomainError("order_not_cancellable", _("This order can't be cancelled any more; ask the hub."))
        # Variants, then earlier orders, then the account: the order in which placing an order
        # locks them, so that a cancel and a checkout of the same customer never deadlock.
        for line in (
            OrderLine.objects.with_scopes_disabled()
            .filter(order=order, variant__isnull=False, stock_taken=True)
            .order_by("variant_id")
        ):
            Variant.objects.with_scopes_disabled().filter(id=line.variant_id, stock__isnull=False).update(
                stock=F("stock") + line.quantity
            )
        Order.objects.with_scopes_disabled().filter(carried_into=order).update(carried_into=None)
        if order.hold_id:
            order_hold_void(hub=hub, hold_id=order.hold_id)
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = timezone.now()
        order.released_minor = order.held_minor
        order.save(update_fields=["status", "cancelled_at", "released_minor"])
        _event(order, OrderEventKind.CANCELLED, order.held_minor or None, note=(reason or "").strip(), actor=actor)
        events.order_cancelled(order=order, actor=actor, reason=(reason or "").strip())
    return order


def customer_may_cancel(order: Order) -> bool:
    """Whether the customer may still cancel: open order, open cycle, nothing packed yet."""
    if order.status != OrderStatus.PLACED or not order.cycle.is_open():
        return False
    return (
        not OrderLine.objects.with_scopes_disabled()
        .filter(Q(packed_quantity__isnull=False) | Q(packed_grams__isnull=False), order=order)
        .exists()
    )


class RefundTo:
    CREDIT = "credit"
    CARD = "card"


def refundable_minor(order: Order) -> int:
    """What a completed order can still give back: what it took for itself (not the debt of
    earlier orders it collected), less what was refunded already."""
    return max(order.captured_minor - order.carried_minor - order.refunded_minor, 0)


def _refund_parts(hub: Hub, order: Order, amount_minor: int, to: str) -> list[LotDraw]:
    """How a refund of `amount_minor` comes back: as the kinds of credit that paid the order,
    granted credit first (with its expiry), then paid; a refund to the card only from what was
    paid. Debt of earlier orders that this order collected is not refundable: it was owed."""
    drawn = lots_drawn(
        hub_id=hub.id, account_id=order.account_id, keys=[f"order:{order.id}:capture", f"order:{order.id}:charge"],
        key_prefix=f"order:{order.id}:extra:",
    )  # fmt: skip
    own_minor = max(order.captured_minor - order.carried_minor, 0)
    granted_total = min(sum(d.amount_minor for d in drawn if d.kind == LotKind.GRANTED), own_minor)
    refunded_granted = order.refunded_minor - order.refunded_paid_minor
    granted_left = granted_total - refunded_granted
    paid_left = own_minor - granted_total - order.refunded_paid_minor
    granted_minor = 0 if to == RefundTo.CARD else min(amount_minor, granted_left)
    paid_minor = amount_minor - granted_minor
    if paid_minor > paid_left:
        most = paid_left if to == RefundTo.CARD else paid_left + granted_left
        message = (
            _("At most %(left)s of this order can still be refunded to the card.")
            if to == RefundTo.CARD
            else _("At most %(left)s of this order can still be refunded.")
        )
        raise DomainError(
            "refund_too_large", message % {"left": money_format(max(most, 0), credit_unit_of(hub=hub), reader_locale())}
        )
    parts: list[LotDraw] = []
    skip, want = refunded_granted, granted_minor
    for draw in reversed([d for d in drawn if d.kind == LotKind.GRANTED]):
        usable = max(draw.amount_minor - skip, 0)
        skip = max(skip - draw.amount_minor, 0)
        take = min(usable, want)
        if take:
            parts.append(LotDraw(LotKind.GRANTED, draw.expires_at, take))
            want -= take
    if paid_minor:
        parts.append(LotDraw(LotKind.PAID, None, paid_minor))
    return parts


def order_refund(
    *, hub: Hub, actor: User, order_id: int, amount_minor: int, reason: str, key: str, to: str = RefundTo.CREDIT
) -> Order:
    """Give back part or all of what a completed order took, once per key: to the customer's
    credit, as the kinds of credit that paid it; or, for an order whose rest was paid by card,
    back to that card. A refund to the card is checked whole before anything moves; then, in one
    transaction, the credit is given back and taken again as the card refund, which is sent after
    the commit (and by the reconcile job if that send is lost)."""
    amount_check(amount_minor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("comment_required", _("Say why: the reason is kept with the refund."))
    if to not in (RefundTo.CREDIT, RefundTo.CARD):
        raise DomainError("validation_error", _("Refund to credit or to the card."))
    # Keyed under the order (see ledger.owners): its postings are then known to be the order's.
    ledger_key, card_key = f"order:{order_id}:refund:{key}", f"order:{order_id}:refund:{key}:card"
    with transaction.atomic():
        order = _order_locked(hub, order_id)
        replayed = transaction_key_used(hub_id=hub.id, key=ledger_key)
        if not replayed:
            if order.status != OrderStatus.COMPLETED:
                raise DomainError(
                    "order_not_completed", _("Only a completed order can be refunded; cancel an open one.")
                )
            money_minor = _card_refund_check(hub, order, amount_minor) if to == RefundTo.CARD else 0
            parts = _refund_parts(hub, order, amount_minor, to)
            charge_refund_post(hub=hub, account_id=order.account_id, parts=parts, reference=_reference(hub, order),
                               reason=reason, key=ledger_key, actor=actor)  # fmt: skip
            paid_minor = sum(part.amount_minor for part in parts if part.kind == LotKind.PAID)
            order.refunded_minor += amount_minor
            order.refunded_paid_minor += paid_minor
            order.save(update_fields=["refunded_minor", "refunded_paid_minor"])
            _event(order, OrderEventKind.REFUNDED_CREDIT, amount_minor, note=reason, actor=actor)
            events.order_refunded(order=order, amount_minor=amount_minor, key=ledger_key, to=to, reason=reason,
                                  actor=actor)  # fmt: skip
            audit_record(hub=hub, actor=actor, action="order.refund", subject=order,
                         summary=gettext_noop("Refunded %(amount)s of order #%(order)s to the card: %(reason)s")
                         if to == RefundTo.CARD
                         else gettext_noop("Refunded %(amount)s of order #%(order)s to credit: %(reason)s"),
                         params={"amount": audit_money(amount_minor, order.unit), "order": order.id, "reason": reason},
                         data={"amount_minor": amount_minor, "to": to})  # fmt: skip
            if money_minor:
                assert order.payment_id is not None  # checked by _card_refund_check
                payment_refund_prepare(hub=hub, actor=actor, payment_id=order.payment_id, amount_minor=money_minor,
                                       reason=reason, key=card_key)  # fmt: skip
    refund = PaymentRefund.objects.with_scopes_disabled().filter(hub=hub, key=card_key).first()
    if refund is not None and refund.status in (RefundStatus.PENDING, RefundStatus.UNKNOWN):
        refund = refund_send(hub=hub, refund=refund)
        if refund.status in (RefundStatus.SUCCEEDED, RefundStatus.PENDING, RefundStatus.UNKNOWN):
            _event(order, OrderEventKind.REFUNDED_CARD, refund.credit_minor, note=reason, actor=actor, key=card_key)
    return order


def _card_refund_check(hub: Hub, order: Order, amount_minor: int) -> int:
    """The money a refund to the card sends, refused before anything moves when it can't be made:
    no card payment that went through, more than it can still give back, or credit that does not
    come to a whole amount of money. The credit it takes back is then exactly `amount_minor`."""
    payment = Payment.objects.with_scopes_disabled().filter(hub=hub, id=order.payment_id).first()
    if payment is None or payment.method != PaymentMethod.CARD or not payment.card_refundable_minor:
        raise DomainError("not_refundable", _("This order was not paid by a card payment that went through: "
                                              "refund it to credit."))  # fmt: skip
    money_minor = -(-amount_minor * payment.price_minor // payment.paid_minor)  # rounded up
    if refund_credit_minor(payment, money_minor) != amount_minor:
        raise DomainError("not_refundable", _("That amount of credit is not a whole amount of money: refund it to "
                                              "credit, or choose another amount."))  # fmt: skip
    if money_minor > payment.card_refundable_minor:
        raise DomainError(
            "not_refundable",
            _("At most %(left)s can still go back to this card.")
            % {"left": money_format(payment.card_refundable_minor, currency_unit(payment.currency), reader_locale())},
        )
    return money_minor


def order_payment_link(*, hub: Hub, order: Order, payment_id: int) -> None:
    """Remember the card top-up that paid the rest of this order, for a refund to the card (only a
    payment into the same account)."""
    if Payment.objects.with_scopes_disabled().filter(hub=hub, id=payment_id, account_id=order.account_id).exists():
        Order.objects.with_scopes_disabled().filter(hub=hub, id=order.id, payment_id__isnull=True).update(
            payment_id=payment_id
        )


# --- many orders at once (crew) -------------------------------------------------------------------


class BulkAction:
    COMPLETE = "complete"
    CANCEL = "cancel"
    REFUND_CREDIT = "refund_credit"
    ALL = (COMPLETE, CANCEL, REFUND_CREDIT)


@dataclass(frozen=True)
class BulkResult:
    done: list[int]
    failed: list[tuple[int, str]]  # order id, why


def orders_bulk(*, hub: Hub, actor: User, order_ids: Iterable[int], action: str, key: str) -> BulkResult:
    """The same action on many orders, each on its own: one that can't be done (already cancelled,
    over the limit) is reported and does not stop the others."""
    if action not in BulkAction.ALL:
        raise DomainError("validation_error", _("Choose what to do with the orders."))
    done: list[int] = []
    failed: list[tuple[int, str]] = []
    for order_id in sorted(set(order_ids)):
        try:
            if action == BulkAction.COMPLETE:
                order_complete(hub=hub, actor=actor, order_id=order_id)
            elif action == BulkAction.CANCEL:
                order_cancel(hub=hub, actor=actor, order_id=order_id, reason=_("Cancelled from the orders list"))
            else:
                order = Order.objects.with_scopes_disabled().filter(hub=hub, id=order_id).first()
                left = refundable_minor(order) if order else 0
                if order is None or left <= 0:
                    raise DomainError("nothing_to_refund", _("Nothing left to refund."))
                order_refund(hub=hub, actor=actor, order_id=order_id, amount_minor=left,
                             reason=_("Refunded from the orders list"), key=f"{key}:{order_id}")  # fmt: skip
        except DomainError as exc:
            failed.append((order_id, exc.message))
        else:
            done.append(order_id)
    return BulkResult(done=done, failed=failed)
