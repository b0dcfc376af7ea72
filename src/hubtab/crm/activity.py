"""The record of what happened to each person and the figures kept from it; upper domains write
here only through their own `events.py`, inside the transaction of the action they report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least

from hubtab.core.models import User
from hubtab.crm.models import Activity, ActivityKind, Customer, CustomerFigures

__all__ = ["ActivityKind", "Ref", "activity_record", "figures_rebuild"]


@dataclass(frozen=True)
class Ref:
    """What an activity is about: ("order", 12), ("payment", 40), ("transaction", 7)."""

    kind: str
    id: int


def activity_record(
    *,
    customer: Customer | None,
    kind: str,
    key: str,
    occurred_at: datetime,
    amount_minor: int | None = None,
    unit: str = "",
    ref: Ref | None = None,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    cycle_id: int | None = None,
) -> bool:
    """Record that `kind` happened to the person, once per `key`, and move their figures with it.
    Returns False when the key was recorded already (a retry) or the account is nobody's (an
    organisation's). Call inside the acting service's transaction."""
    if customer is None:
        return False
    try:
        with transaction.atomic():  # a savepoint: a replayed key leaves the caller's transaction usable
            Activity.objects.create(
                hub_id=customer.hub_id, customer=customer, kind=kind, key=key[:120], occurred_at=occurred_at,
                amount_minor=amount_minor, unit=unit, ref_kind=ref.kind if ref else "", ref_id=ref.id if ref else None,
                cycle_id=cycle_id, actor=actor if actor and actor.is_authenticated else None, data=data or {},
            )  # fmt: skip
    except IntegrityError:
        return False
    _figures_move(customer, kind, occurred_at, amount_minor or 0)
    return True


# A completed order of the shop, or another shop's order paid from credit over the API.
PURCHASES = (ActivityKind.ORDER_COMPLETED, ActivityKind.CHARGED)


def _figures_move(customer: Customer, kind: str, at: datetime, amount_minor: int) -> None:
    """One activity's effect on the figures, as a single UPDATE of increments (no read, so two
    actions on one person at once both count)."""
    changes: dict[str, Any]
    if kind in PURCHASES:
        changes = {
            "orders_completed": F("orders_completed") + 1,
            "spent_minor": F("spent_minor") + amount_minor,
            # SQLite's MIN/MAX of a NULL is NULL: the column is read as `at` while still empty.
            "first_order_at": Least(Coalesce(F("first_order_at"), Value(at)), Value(at)),
            "last_order_at": Greatest(Coalesce(F("last_order_at"), Value(at)), Value(at)),
        }
    elif kind == ActivityKind.ORDER_EXTRA:
        changes = {"spent_minor": F("spent_minor") + amount_minor}
    elif kind == ActivityKind.ORDER_REFUNDED:
        changes = {"spent_minor": F("spent_minor") - amount_minor}
    elif kind == ActivityKind.TOPPED_UP:
        changes = {"last_top_up_at": Greatest(Coalesce(F("last_top_up_at"), Value(at)), Value(at))}
    else:
        return
    CustomerFigures.objects.bulk_create(
        [CustomerFigures(customer_id=customer.id, hub_id=customer.hub_id)], ignore_conflicts=True
    )
    CustomerFigures.objects.filter(hub_id=customer.hub_id, customer_id=customer.id).update(**changes)
    if kind in PURCHASES and _first_purchase(customer):
        activity_record(
            customer=customer, kind=ActivityKind.BECAME_CUSTOMER, key=f"customer:{customer.id}:became_customer",
            occurred_at=at, data={"from": "lead", "to": "customer"},
        )  # fmt: skip


def _first_purchase(customer: Customer) -> bool:
    """Whether the purchase just counted was the person's first (read under the row's update lock)."""
    return (
        CustomerFigures.objects.filter(hub_id=customer.hub_id, customer_id=customer.id)
        .values_list("orders_completed", flat=True)
        .first()
        == 1
    )


def figures_computed(*, hub_id: int) -> dict[int, dict[str, Any]]:
    """Every person's figures as their activity gives them, computed from scratch."""
    completed = Q(kind__in=PURCHASES)
    rows = (
        Activity.objects.filter(hub_id=hub_id)
        .values("customer_id")
        .annotate(
            first_order_at=Min("occurred_at", filter=completed),
            last_order_at=Max("occurred_at", filter=completed),
            completed_count=Sum(Value(1), filter=completed),
            completed_minor=Sum("amount_minor", filter=completed | Q(kind=ActivityKind.ORDER_EXTRA)),
            refunded_minor=Sum("amount_minor", filter=Q(kind=ActivityKind.ORDER_REFUNDED)),
            last_top_up_at=Max("occurred_at", filter=Q(kind=ActivityKind.TOPPED_UP)),
        )
    )
    return {
        row["customer_id"]: {
            "first_order_at": row["first_order_at"],
            "last_order_at": row["last_order_at"],
            "orders_completed": row["completed_count"] or 0,
            "spent_minor": (row["completed_minor"] or 0) - (row["refunded_minor"] or 0),
            "last_top_up_at": row["last_top_up_at"],
        }
        for row in rows
    }


FIGURE_FIELDS = ("first_order_at", "last_order_at", "orders_completed", "spent_minor", "last_top_up_at")


def figures_rebuild(*, hub_id: int) -> int:
    """Recompute the hub's figures from its activity and write them; returns how many people's
    figures were wrong (0 when the kept figures held)."""
    computed = figures_computed(hub_id=hub_id)
    empty = dict.fromkeys(FIGURE_FIELDS)
    empty.update(orders_completed=0, spent_minor=0)
    fixed = 0
    with transaction.atomic():
        kept = {f.customer_id: f for f in CustomerFigures.objects.select_for_update().filter(hub_id=hub_id)}
        for customer_id in set(computed) | set(kept):
            want = computed.get(customer_id, empty)
            have = kept.get(customer_id)
            if have is not None and all(getattr(have, name) == want[name] for name in FIGURE_FIELDS):
                continue
            if have is None and want == empty:  # a lead: no row reads as empty figures (crm.people)
                continue
            fixed += 1
            CustomerFigures.objects.update_or_create(customer_id=customer_id, defaults={"hub_id": hub_id, **want})
    return fixed


# Kinds that move a person's figures: recorded one at a time by activity_record, never many at once.
FIGURE_KINDS = frozenset({*PURCHASES, ActivityKind.ORDER_EXTRA, ActivityKind.ORDER_REFUNDED, ActivityKind.TOPPED_UP})


def activities_record_many(activities: list[Activity]) -> None:
    """Record many activities at once (an import of thousands of people), each once per key like
    activity_record, one INSERT per thousand. Only for kinds that leave the figures as they are
    (records, tags, consent); call inside the acting service's transaction."""
    assert not {activity.kind for activity in activities} & FIGURE_KINDS, "figures move one activity at a time"
    Activity.objects.bulk_create(activities, batch_size=1000, ignore_conflicts=True)
