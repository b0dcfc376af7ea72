"""After an order is placed, as crew fulfil it: packing and weighing, extras, completing (the
final total taken from the hold and the balance) and cancelling."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hubtab.accounts.selectors import PaymentPolicy, topup_quote
from hubtab.accounts.services import (
    CreditAction,
    charge_post,
    credit_apply,
    order_hold_capture,
    order_hold_void,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check, currency_unit, money_format, reader_locale
from hubtab.ledger.selectors import account_state
from hubtab.shop import events, locks, signals
from hubtab.shop.catalogue import name_clean
from hubtab.shop.checkout import order_paid_by_hand
from hubtab.shop.models import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    RestMethod,
    Variant,
)
from hubtab.shop.order_log import order_event_record, order_reference
from hubtab.shop.selectors import (
    order_final_minor,
    order_lines,
)


def order_pack(
    *, hub: Hub, actor: User | None, order_id: int, packed: dict[int, tuple[int | None, int | None]]
) -> Order:
    """Record what was packed: for each line, the quantity (fewer when short) and, sold by weight,
    the grams weighed. The final total follows; money moves when the order is completed."""
    with transaction.atomic():
        order = locks.order_locked(hub=hub, order_id=order_id)
        if order.status != OrderStatus.PLACED:
            raise DomainError("order_not_open", _("Only an order not yet completed or cancelled can be packed."))
        lines = {line.id: line for line in OrderLine.objects.filter(order=order)}
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
        if changed or not OrderEvent.objects.filter(order=order, kind=OrderEventKind.PACKED):
            # Once when packed, again only when the packing changes (completing re-sends the same form).
            order_event_record(order, OrderEventKind.PACKED, order_final_minor(order), actor=actor)
    return order


def order_extra_add(
    *, hub: Hub, actor: User | None, order_id: int, name: str, quantity: int, unit_price_minor: int, key: str = "",
) -> Order:  # fmt: skip
    """Something added after ordering (a forgotten bag, a bottle deposit), once per `key`. On an
    open order it is part of the final total; on a completed one it is taken from the balance at
    once, within the spending limit, and what the limit does not allow is owed with the next order
    (all of it where the order is paid by other methods only: credit is never used there)."""
    name = name_clean(name, _("Say what the extra is."), 200)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 999:
        raise DomainError("validation_error", _("The quantity is a whole number from 1."))
    amount_check(unit_price_minor)
    key = (key or "").strip()[:100]
    with transaction.atomic():
        order = locks.order_locked(hub=hub, order_id=order_id)
        if key and OrderLine.objects.filter(order=order, key=key).exists():
            return order  # the same form sent twice
        if order.status == OrderStatus.CANCELLED:
            raise DomainError("order_not_open", _("A cancelled order can't take extras."))
        if order.carried_into_id is not None:
            raise DomainError(
                "order_carried", _("What this order owed is collected with a later order; add the extra there.")
            )
        line = OrderLine.objects.create(
            hub=hub, order=order, name=name, quantity=quantity, unit_price_minor=unit_price_minor, is_extra=True,
            added_by=actor, key=key,
        )  # fmt: skip
        amount = line.final_minor
        order_event_record(order, OrderEventKind.EXTRA, amount, note=f"{quantity} x {name}", actor=actor)
        if order.status == OrderStatus.COMPLETED:
            taken = 0
            if order.payment_policy != PaymentPolicy.OTHER_ONLY:
                taken = _take(hub, order, amount, key=f"order:{order.id}:extra:{line.id}", actor=actor, hold=False)
            order.final_minor = (order.final_minor or 0) + amount
            order.captured_minor += taken
            order.owed_minor += amount - taken
            order.save(update_fields=["final_minor", "captured_minor", "owed_minor"])
            if taken:
                order_event_record(order, OrderEventKind.CAPTURED, taken, actor=actor)
            if amount - taken:
                order_event_record(order, OrderEventKind.OWED, amount - taken, actor=actor)
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
                reference = order_reference(hub, order)
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
        order = locks.order_locked(hub=hub, order_id=order_id)
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
            order_event_record(order, OrderEventKind.ESTIMATED, None, note=", ".join(unweighed)[:300], actor=actor)
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
                amount_minor=collected_minor, comment=order_reference(hub, order), key=f"order:{order.id}:collected",
                method=method, for_order=True,
            )  # fmt: skip
            collected_minor = topup_quote(hub=hub, currency=hub.currency, price_minor=collected_minor).paid_minor
            order_event_record(order, OrderEventKind.COLLECTED, collected_minor, actor=actor)
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
            order_event_record(order, OrderEventKind.CAPTURED, taken, actor=actor)
        if order.released_minor:
            order_event_record(order, OrderEventKind.RELEASED, order.released_minor, actor=actor)
        if order.owed_minor:
            order_event_record(order, OrderEventKind.OWED, order.owed_minor, actor=actor)
        for carried in Order.objects.filter(carried_into=order).order_by("id"):
            # Its debt was part of this order's total, now taken: it owes nothing any more.
            order_event_record(
                carried, OrderEventKind.SETTLED, carried.owed_minor, note=order_reference(hub, order), actor=actor
            )
            carried.owed_minor = 0
            carried.save(update_fields=["owed_minor"])
        events.order_completed(order=order, actor=actor)
        signals.order_completed.send(sender=Order, hub=hub, order=order, actor=actor)
    return order


def order_cancel(*, hub: Hub, actor: User | None, order_id: int, reason: str = "", by_customer: bool = False) -> Order:
    """Cancel an order not yet completed: the hold is voided, stock comes back, debt it carried
    is owed again on its own order. Once. A customer may cancel only while the cycle is open and
    nothing of the order is packed yet."""
    with transaction.atomic():
        order = locks.order_locked(hub=hub, order_id=order_id)
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status == OrderStatus.COMPLETED:
            raise DomainError("order_completed", _("A completed order is refunded, not cancelled."))
        if by_customer and not customer_may_cancel(order):
            raise DomainError("order_not_cancellable", _("This order can't be cancelled any more; ask the hub."))
        # Variants, then earlier orders, then the account: the order in which placing an order
        # locks them, so that a cancel and a checkout of the same customer never deadlock.
        for line in OrderLine.objects.filter(order=order, variant__isnull=False, stock_taken=True).order_by(
            "variant_id"
        ):
            Variant.objects.filter(hub=hub, id=line.variant_id or 0, stock__isnull=False).update(
                stock=F("stock") + line.quantity
            )
        Order.objects.filter(carried_into=order).update(carried_into=None)
        if order.hold_id:
            order_hold_void(hub=hub, hold_id=order.hold_id)
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = timezone.now()
        order.released_minor = order.held_minor
        order.save(update_fields=["status", "cancelled_at", "released_minor"])
        order_event_record(
            order, OrderEventKind.CANCELLED, order.held_minor or None, note=(reason or "").strip(), actor=actor
        )
        events.order_cancelled(order=order, actor=actor, reason=(reason or "").strip())
    return order


def customer_may_cancel(order: Order) -> bool:
    """Whether the customer may still cancel: open order, open cycle, nothing packed yet."""
    if order.status != OrderStatus.PLACED or not order.cycle.is_open():
        return False
    return not OrderLine.objects.filter(
        Q(packed_quantity__isnull=False) | Q(packed_grams__isnull=False), order=order
    ).exists()
