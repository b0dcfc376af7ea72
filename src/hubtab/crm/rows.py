"""One row per person, as every list of people shows it (the customer list, its CSV export and the
API): the record, its tags, its balance and its figures, read in a few queries per batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from hubtab.core.models import Hub
from hubtab.crm.models import Customer, CustomerFigures, Note
from hubtab.crm.people import lapsed_after, status_of
from hubtab.ledger.selectors import states_of


@dataclass(frozen=True)
class CustomerRow:
    customer: Customer
    tags: list[str]
    balance_minor: int
    last_order_at: datetime | None
    orders_completed: int
    spent_minor: int
    last_top_up_at: datetime | None
    status: str
    spendable_minor: int | None
    notes_count: int

    @property
    def average_minor(self) -> int | None:
        """The average completed order (None before the first)."""
        return self.spent_minor // self.orders_completed if self.orders_completed else None


def customer_rows(*, hub: Hub, customers: Iterable[Customer]) -> list[CustomerRow]:
    """Rows for these customers, in their order (tags prefetched by the caller's queryset, or read
    here): one query each for the balances, the figures and the notes, whatever the count."""
    batch = list(customers)
    now, lapsed = timezone.now(), lapsed_after(hub=hub)
    states = states_of(hub_id=hub.id, account_ids=[c.account_id for c in batch])
    ids = [c.id for c in batch]
    figures = {f.customer_id: f for f in CustomerFigures.objects.filter(hub=hub, customer__in=ids)}
    notes = dict(
        Note.objects.filter(hub=hub, customer__in=ids)
        .values("customer")
        .annotate(n=Count("id"))
        .values_list("customer", "n")
    )
    rows = []
    for c in batch:
        kept = figures.get(c.id) or CustomerFigures(customer=c, hub=hub)
        state = states.get(c.account_id)
        rows.append(
            CustomerRow(
                customer=c,
                tags=sorted(t.name for t in c.tags.all()),
                balance_minor=state.balance_minor if state else 0,
                last_order_at=kept.last_order_at,
                orders_completed=kept.orders_completed,
                spent_minor=kept.spent_minor,
                last_top_up_at=kept.last_top_up_at,
                status=status_of(
                    archived=c.archived_at is not None, last_order_at=kept.last_order_at, now=now, lapsed=lapsed
                ),
                spendable_minor=state.spendable_minor if state else None,
                notes_count=notes.get(c.id, 0),
            )
        )
    return rows
