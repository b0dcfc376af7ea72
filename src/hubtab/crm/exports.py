"""Customer lists as CSV, streamed in chunks so that an export of 100,000 customers holds little memory."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from hubtab.core.models import Hub
from hubtab.core.money import Unit, minor_to_decimal
from hubtab.crm.models import Customer
from hubtab.crm.rows import customer_rows

HEADER = [
    "first_name", "last_name", "email", "phone", "code", "tags", "balance", "unit", "created_at",
    "last_purchase", "orders", "total_purchases",
]  # fmt: skip
CHUNK = 1000


class _Line:
    """A file-like target for csv.writer that hands back what it was given."""

    def write(self, text: str) -> str:
        return text


def customer_csv_rows(*, hub: Hub, customers: QuerySet[Customer], unit: Unit) -> Iterator[str]:
    """CSV lines (Excel-friendly: a BOM first, then the header) for these customers, in their order.
    Cells that a spreadsheet would run as a formula are quoted with a leading apostrophe."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(HEADER)
    batch: list[Customer] = []
    for customer in customers.prefetch_related("tags").iterator(chunk_size=CHUNK):
        batch.append(customer)
        if len(batch) == CHUNK:
            yield from _rows(hub, batch, unit, writer)
            batch = []
    if batch:
        yield from _rows(hub, batch, unit, writer)


def _rows(hub: Hub, batch: list[Customer], unit: Unit, writer: Any) -> Iterator[str]:
    for row in customer_rows(hub=hub, customers=batch):
        c = row.customer
        yield writer.writerow(
            [
                csv_safe(c.first_name),
                csv_safe(c.last_name),
                csv_safe(c.email),
                csv_safe(c.phone),
                csv_safe(c.code),
                csv_safe(", ".join(row.tags)),
                str(minor_to_decimal(row.balance_minor, unit)),
                unit.code,
                c.created_at.isoformat(timespec="seconds"),
                row.last_order_at.isoformat(timespec="seconds") if row.last_order_at else "",
                row.orders_completed,
                str(minor_to_decimal(row.spent_minor, unit)),
            ]
        )


def csv_safe(text: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
