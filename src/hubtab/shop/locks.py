"""The rows the shop locks, one function each, and the order every path takes them in, so that two
actions on the same stock or customer wait for each other and never deadlock:
the order acted on (a checkout has none yet), variants by id, owed orders by id, then the account
(the ledger's lock, taken inside the posting)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.shop.models import CheckoutPayment, Order, Variant
from hubtab.shop.selectors import orders_owed


def variant_locked(*, hub: Hub, variant_id: int) -> Variant:
    return Variant.objects.select_for_update().get(hub=hub, id=variant_id)


def counted_variants_locked(*, hub: Hub, variant_ids: Iterable[int]) -> dict[int, Variant]:
    """The variants whose stock is counted, locked in id order (uncounted stock needs no lock)."""
    return {
        v.id: v
        for v in Variant.objects.select_for_update()
        .filter(hub=hub, id__in=list(variant_ids), stock__isnull=False)
        .select_related("product")
        .order_by("id")
    }


def owed_orders_locked(*, hub: Hub, account_id: int) -> list[Order]:
    """Earlier orders whose debt the next order collects: locked so that two orders never both carry it."""
    return list(orders_owed(hub=hub, account_id=account_id).select_for_update().order_by("id"))


def order_locked(*, hub: Hub, order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(hub=hub, id=order_id).first()
    if order is None:
        raise DomainError("not_found", _("That order does not exist at this hub."))
    return order


def checkout_payment_locked(*, hub: Hub, payment_id: int) -> CheckoutPayment | None:
    return (
        CheckoutPayment.objects.select_for_update()
        .filter(hub=hub, payment_id=payment_id)
        .select_related("customer")
        .first()
    )


def checkout_payment_unseen_locked(*, hub: Hub, customer_id: int) -> CheckoutPayment | None:
    """The customer's latest finished checkout payment they have not been shown yet."""
    return (
        CheckoutPayment.objects.select_for_update()
        .filter(hub=hub, customer_id=customer_id, finished_at__isnull=False, seen_at__isnull=True)
        .order_by("-finished_at")
        .first()
    )
