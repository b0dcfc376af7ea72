"""One row per person, as every list of people shows it (the customer list, its CSV export and the
API): the record, its tags, its balance and its figures. They are read with the people themselves,
as columns of the same query (people_with_rows), so that a page or an export of 100,000 people
costs one query, not one per person or per batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import connection
from django.db.models import CharField, Count, F, OuterRef, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from hubtab.core.models import Hub
from hubtab.crm.models import Customer, CustomerFigures, Note, Tag
from hubtab.crm.people import lapsed_after, spendable_of, status_of, with_balance_row
from hubtab.ledger.selectors import balance_subquery, spendable_subquery


class Person(Protocol):
    """What a row says of the person's record: a Customer, or a ListRecord read for a whole list."""

    id: int
    email: str
    first_name: str
    last_name: str
    phone: str
    code: str
    source: str
    created_at: datetime
    archived_at: datetime | None
    marketing_consent: bool

    @property
    def full_name(self) -> str: ...


@dataclass(slots=True)
class ListRecord:
    """A person's record as a whole list (an export) reads it: the fields it shows, and nothing that
    would cost building a model instance for each of 100,000 people."""

    id: int
    email: str
    first_name: str
    last_name: str
    phone: str
    code: str
    source: str
    created_at: datetime
    archived_at: datetime | None
    marketing_consent: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


LIST_FIELDS = tuple(field.name for field in fields(ListRecord))


@dataclass(frozen=True)
class CustomerRow:
    customer: Person
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


def _row_columns(hub: Hub, *, joined: bool = False) -> dict[str, Any]:
    """What a row shows beside the record, as columns of the people's query: the figures (empty for
    someone without any), the balance and what is spendable (the account's one balance row), the
    number of notes, and the tags' ids (digits and commas, named in Python: tag names may hold any
    character). A page reads the figures and the balance by a subquery each, which the database
    runs for the 50 people shown only, after sorting; a whole list (`joined`) joins them instead,
    which costs one pass over each table rather than a lookup per person."""
    tag_ids = (
        Customer.tags.through.objects.filter(customer_id=OuterRef("pk"))
        .values("customer_id")
        .annotate(ids=StringAgg(Cast("tag_id", CharField()), Value(",")))
        .values("ids")  # type: ignore[misc]  # django-stubs does not know StringAgg (Django 6) yet
    )
    notes = Note.objects.filter(hub=hub).filter(customer=OuterRef("pk")).values("customer").annotate(n=Count("id"))
    if joined:
        figures: dict[str, Any] = {name: F(f"figures__{field}") for name, field in _FIGURES.items()}
        money = {"row_balance": F("balance_row__balance_minor"), "row_spendable": spendable_of("balance_row")}
    else:
        kept = CustomerFigures.objects.filter(hub=hub).filter(customer_id=OuterRef("pk"))
        figures = {name: Subquery(kept.values(field)) for name, field in _FIGURES.items()}
        money = {"row_balance": balance_subquery(), "row_spendable": spendable_subquery()}
    return {
        **figures,
        **money,
        "row_notes": Coalesce(Subquery(notes.values("n")), 0),
        "row_tag_ids": Subquery(tag_ids),
    }


_FIGURES = {
    "row_last_order_at": "last_order_at",
    "row_orders": "orders_completed",
    "row_spent": "spent_minor",
    "row_last_top_up_at": "last_top_up_at",
}


def people_with_rows(people: QuerySet[Customer], *, hub: Hub, joined: bool = False) -> QuerySet[Customer]:
    """The people (filtered and sorted as they are) with their rows' columns: customer_rows and
    customer_rows_iter read them from there, with no query of their own."""
    if joined:
        people = with_balance_row(people)
    return people.annotate(**_row_columns(hub, joined=joined))


# The columns of someone whose row could not be read (not a person of the hub).
_EMPTY = (None, None, None, None, None, None, 0, None)


class _RowMaker:
    """Turns people read with their rows' columns into rows (the hub's tag names read once)."""

    def __init__(self, hub: Hub) -> None:
        self.now: datetime = timezone.now()
        self.lapsed: timedelta = lapsed_after(hub=hub)
        self.tag_names = dict(Tag.objects.filter(hub=hub).values_list("id", "name"))

    def row(self, person: Person, columns: Sequence[Any]) -> CustomerRow:
        """The row of `person`, from their rows' columns (in _row_columns' order)."""
        last_order_at, orders, spent, last_top_up_at, balance, spendable, notes, tag_ids = columns
        return CustomerRow(
            customer=person,
            tags=sorted(self.tag_names.get(int(tag_id), "") for tag_id in tag_ids.split(",")) if tag_ids else [],
            balance_minor=balance or 0,
            last_order_at=last_order_at,
            orders_completed=orders or 0,
            spent_minor=spent or 0,
            last_top_up_at=last_top_up_at,
            status=status_of(
                archived=person.archived_at is not None, last_order_at=last_order_at, now=self.now, lapsed=self.lapsed
            ),
            spendable_minor=spendable,
            notes_count=notes,
        )


def customer_rows(*, hub: Hub, customers: Iterable[Customer]) -> list[CustomerRow]:
    """Rows for these customers, in their order: read with them when they come from
    people_with_rows, else in one query for all of them."""
    batch = list(customers)
    names = list(_row_columns(hub))
    columns = {c.id: [getattr(c, name) for name in names] for c in batch if hasattr(c, names[-1])}
    if plain := [c.id for c in batch if c.id not in columns]:
        read = people_with_rows(Customer.objects.filter(hub=hub).filter(id__in=plain), hub=hub)
        columns.update({values[0]: values[1:] for values in read.values_list("id", *names)})
    maker = _RowMaker(hub)
    return [maker.row(c, columns.get(c.id, _EMPTY)) for c in batch]


def customer_rows_iter(*, hub: Hub, people: QuerySet[Customer], chunk_size: int = 2000) -> Iterator[CustomerRow]:
    """Rows for every one of these people, in their order, streamed from one query (for exports:
    memory stays flat whatever their number); their records are ListRecords."""
    maker = _RowMaker(hub)
    width = len(LIST_FIELDS)
    whole = people_with_rows(people, hub=hub, joined=True).values_list(*LIST_FIELDS, *_row_columns(hub, joined=True))
    for values in _read_whole(whole, chunk_size):
        yield maker.row(ListRecord(*values[:width]), values[width:])


def _read_whole(people: QuerySet[Customer, tuple[Any, ...]], chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """Iterate over every row of the query through a server-side cursor. PostgreSQL plans a cursor
    for its first rows (cursor_tuple_fraction) and compiles a costly one (JIT): for a list read to
    its end, where a cursor outside a transaction is run whole when it is opened anyway, that chose
    a lookup per person plus a second of compiling, over 2-3 times the time of one pass over each
    table. So this query is planned as read whole and not compiled; the settings are put back as
    soon as it is planned (on the first row)."""
    rows = people.iterator(chunk_size=chunk_size)
    if connection.vendor != "postgresql":
        yield from rows
        return
    with connection.cursor() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 1.0; SET jit = off")
    try:
        first = next(rows, None)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET cursor_tuple_fraction; RESET jit")
    if first is not None:
        yield first
        yield from rows
