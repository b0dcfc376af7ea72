"""An order's own timeline (OrderEvent rows, each recorded once) and the name its postings carry."""

from __future__ import annotations

from hubtab.core.models import Hub, User
from hubtab.shop.models import (
    Order,
    OrderEvent,
)


def order_reference(hub: Hub, order: Order) -> str:
    """ "Order #12", as its postings' memo is stored; people read it in their own language,
    named from the posting's key (ledger.labels)."""
    return f"Order #{order.id}"


def order_event_record(
    order: Order, kind: str, amount_minor: int | None = None, note: str = "", actor: User | None = None, key: str = ""
) -> None:
    """Record what happened to the order; an event with a `key` is recorded once."""
    if key and OrderEvent.objects.filter(order=order, key=key).exists():
        return
    OrderEvent.objects.create(
        hub_id=order.hub_id, order=order, kind=kind, amount_minor=amount_minor, note=note[:300], actor=actor, key=key
    )
