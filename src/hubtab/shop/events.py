"""What happens to orders, as each customer's activity: one function per happening, called inside
the transaction of the shop service that caused it."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from hubtab.core.models import User
from hubtab.crm.activity import ActivityKind, Ref, activity_record
from hubtab.shop.models import Order


def _about(order: Order) -> dict[str, Any]:
    """The order an activity is about, and its cycle (for "ordered in this cycle")."""
    return {"ref": Ref("order", order.id), "cycle_id": order.cycle_id}


def order_placed(*, order: Order) -> None:
    activity_record(
        customer=order.customer, kind=ActivityKind.ORDER_PLACED, key=f"order:{order.id}:placed",
        occurred_at=order.placed_at, amount_minor=order.estimated_minor, unit=order.unit, **_about(order),
    )  # fmt: skip


def order_completed(*, order: Order, actor: User | None) -> None:
    """Its total less the earlier debt it carried: what was bought with this order (the figures'
    total spent counts each purchase once)."""
    assert order.final_minor is not None and order.completed_at is not None
    activity_record(
        customer=order.customer, kind=ActivityKind.ORDER_COMPLETED, key=f"order:{order.id}:completed",
        occurred_at=order.completed_at, amount_minor=order.final_minor - order.carried_minor, unit=order.unit,
        **_about(order), actor=actor, data={"owed_minor": order.owed_minor},
    )  # fmt: skip


def order_extra_charged(*, order: Order, line_id: int, amount_minor: int, name: str, actor: User | None) -> None:
    """An extra added to an order already completed: bought after the fact, so it counts as spent."""
    activity_record(
        customer=order.customer, kind=ActivityKind.ORDER_EXTRA, key=f"order:{order.id}:extra:{line_id}",
        occurred_at=timezone.now(), amount_minor=amount_minor, unit=order.unit, **_about(order), actor=actor,
        data={"name": name},
    )  # fmt: skip


def order_cancelled(*, order: Order, actor: User | None, reason: str) -> None:
    activity_record(
        customer=order.customer, kind=ActivityKind.ORDER_CANCELLED, key=f"order:{order.id}:cancelled",
        occurred_at=order.cancelled_at or timezone.now(), amount_minor=order.estimated_minor, unit=order.unit,
        **_about(order), actor=actor, data={"reason": reason},
    )  # fmt: skip


def order_refunded(*, order: Order, amount_minor: int, key: str, to: str, reason: str, actor: User | None) -> None:
    activity_record(
        customer=order.customer, kind=ActivityKind.ORDER_REFUNDED, key=key, occurred_at=timezone.now(),
        amount_minor=amount_minor, unit=order.unit, **_about(order), actor=actor, data={"to": to, "reason": reason},
    )  # fmt: skip
