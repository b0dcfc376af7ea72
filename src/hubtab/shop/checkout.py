"""Placing an order: the cart, the checkout (stock and credit taken under locks, all or nothing),
and a checkout paid by card for what credit did not cover."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hubtab.accounts.selectors import PaymentPolicy, credit_settings_of
from hubtab.accounts.services import (
    order_hold_place,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import amount_check, money_format, reader_locale
from hubtab.crm.models import Customer
from hubtab.payments.models import Payment, PaymentStatus
from hubtab.payments.selectors import hub_takes_cards
from hubtab.payments.services import (
    topup_start,
)
from hubtab.shop import events, locks
from hubtab.shop.models import (
    Cart,
    CheckoutPayment,
    FulfilmentOption,
    Order,
    OrderCycle,
    OrderEventKind,
    OrderLine,
    RestMethod,
    Variant,
)
from hubtab.shop.order_log import order_event_record, order_reference
from hubtab.shop.selectors import (
    CartLine,
    CheckoutQuote,
    cart_lines,
    checkout_quote,
)

MANUAL_METHODS = (RestMethod.CASH, RestMethod.BANK_TRANSFER)


def cart_save(*, customer: Customer, items: dict[int, int]) -> None:
    """Keep the customer's cart at their hub (an empty one is removed)."""
    kept = {str(variant_id): quantity for variant_id, quantity in items.items() if quantity}
    if not kept:
        Cart.objects.filter(hub_id=customer.hub_id, customer=customer).delete()
        return
    Cart.objects.update_or_create(
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
    existing = Order.objects.filter(hub=hub, key=key).first()
    if existing is not None:
        return _checkout_replay(existing, customer, request_hash)
    cycle = OrderCycle.objects.filter(hub=hub, id=cycle_id).first()
    if cycle is None or not cycle.is_open(now):
        raise DomainError("cycle_closed", _("This order cycle is closed; orders can't be placed in it now."))
    options = list(FulfilmentOption.objects.filter(cycle=cycle))
    option = next((o for o in options if o.id == option_id), None)
    if options and option is None:
        raise DomainError("validation_error", _("Choose pickup or delivery."))
    try:
        with transaction.atomic():
            return _order_place_locked(hub, customer, cycle, items, lines, option, key, rest_method, now, request_hash)
    except (IntegrityError, DomainError):
        # The same checkout sent twice at once (a double click): the second send waited on the
        # first's locks and then saw its own order's stock or credit gone, or its key taken.
        existing = Order.objects.filter(hub=hub, key=key).first()
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
    counted = locks.counted_variants_locked(hub=hub, variant_ids=items)
    for variant_id, variant in counted.items():
        if variant.stock is not None and variant.stock < items[variant_id]:
            raise DomainError(
                "out_of_stock",
                _("Only %(left)s of %(name)s left.") % {"left": variant.stock, "name": variant.product.name}
                if variant.stock
                else _("%(name)s is sold out.") % {"name": variant.product.name},
            )
    # Debt left by earlier orders is collected with this one.
    owed = locks.owed_orders_locked(hub=hub, account_id=customer.account_id)
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
    order = Order.objects.create(
        hub=hub, cycle=cycle, customer=customer, account_id=customer.account_id, unit=unit.code, key=key,
        payment_policy=quote.policy, fulfilment_kind=option.kind if option else "",
        fulfilment_name=option.name if option else "", fee_minor=quote.fee_minor,
        carried_minor=quote.carried_minor, estimated_minor=quote.total_minor, rest_method=rest_method,
        due_minor=quote.rest_minor, placed_at=now, request_hash=request_hash,
    )  # fmt: skip
    OrderLine.objects.bulk_create(
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
        Variant.objects.filter(hub=hub, id=variant_id).update(stock=F("stock") - items[variant_id])
    OrderLine.objects.filter(order=order, variant_id__in=list(counted)).update(stock_taken=True)
    order_event_record(order, OrderEventKind.PLACED, quote.total_minor)
    if quote.credit_minor > 0:
        try:
            held = order_hold_place(
                hub=hub, account_id=customer.account_id, amount_minor=quote.credit_minor,
                reference=order_reference(hub, order), key=f"order:{order.id}:hold",
            )  # fmt: skip
        except DomainError as exc:
            if exc.code == "insufficient_funds":  # spent meanwhile, e.g. in another tab
                raise DomainError(
                    "credit_short", _("Your credit changed while you were ordering; check the order again.")
                ) from exc
            raise
        order.hold_id, order.held_minor = held.hold_id, quote.credit_minor
        order.save(update_fields=["hold_id", "held_minor"])
        order_event_record(order, OrderEventKind.HELD, quote.credit_minor)
    if owed:
        Order.objects.filter(hub=hub, id__in=[o.id for o in owed]).update(carried_into=order)
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
    placed = Order.objects.filter(hub=hub, key=draft.key, customer=customer).first()
    if placed is not None:
        raise DomainError("checkout_placed", _("This checkout already placed order #%(id)s.") % {"id": placed.id})
    with transaction.atomic():
        payment = topup_start(hub=hub, customer=customer, actor=None, credits_minor=shortfall_minor,
                              for_shortfall=True)  # fmt: skip
        CheckoutPayment.objects.create(
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
        waiting = locks.checkout_payment_locked(hub=hub, payment_id=payment_id)
        if waiting is None or waiting.finished_at is not None:
            return waiting
        status = Payment.objects.filter(hub=hub, id=payment_id).values_list("status", flat=True)
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
        waiting = locks.checkout_payment_unseen_locked(hub=hub, customer_id=customer.id)
        if waiting is not None:
            CheckoutPayment.objects.filter(
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
    if credit_settings_of(hub=hub).takes_bank_transfers:
        methods.append(RestMethod.BANK_TRANSFER)
    return methods


def order_paid_by_hand(order: Order) -> bool:
    """Whether (part of) the order is paid by hand at pickup: cash or transfer collected by crew."""
    return order.rest_method in MANUAL_METHODS or order.payment_policy == PaymentPolicy.OTHER_ONLY


def order_payment_link(*, hub: Hub, order: Order, payment_id: int) -> None:
    """Remember the card top-up that paid the rest of this order, for a refund to the card (only a
    payment into the same account)."""
    if Payment.objects.filter(hub=hub, id=payment_id, account_id=order.account_id).exists():
        Order.objects.filter(hub=hub, id=order.id, payment_id__isnull=True).update(payment_id=payment_id)
