"""Lists of people as CSV, streamed in chunks so that an export of 100,000 people holds little
memory: the list's visible columns (or Mailchimp's), numbers as numeric cells, and the separator,
decimal mark and byte-order mark the hub's spreadsheet program expects."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from hubtab.core.models import Hub
from hubtab.core.money import Unit, minor_to_decimal
from hubtab.crm.models import Customer
from hubtab.crm.rows import CustomerRow, customer_rows

CHUNK = 1000
PRESETS = ("", "mailchimp")


@dataclass(frozen=True)
class ExportOptions:
    columns: list[str]
    separator: str = ","
    bom: bool = True
    preset: str = ""  # "mailchimp": the columns Mailchimp's import reads

    @classmethod
    def read(cls, params: Any, *, hub: Hub, columns: list[str]) -> ExportOptions:
        """From the export form: `csv_sep` ("comma" or "semicolon"; French hubs default to `;`, as
        French Excel expects), `bom` ("0" leaves it out) and `preset`."""
        default = "semicolon" if hub.locale.lower().startswith("fr") else "comma"
        separator = ";" if params.get("csv_sep", default) == "semicolon" else ","
        preset = params.get("preset", "")
        return cls(columns, separator, params.get("bom", "1") != "0", preset if preset in PRESETS else "")


def _day(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


# Each visible column's CSV cells: (header, value of a row). Text goes through csv_safe; numbers and
# dates are written as they are, so a spreadsheet reads them as numbers.
Cell = tuple[str, Callable[[CustomerRow], Any]]
_CELLS: dict[str, list[Cell]] = {
    "name": [
        ("first_name", lambda r: csv_safe(r.customer.first_name)),
        ("last_name", lambda r: csv_safe(r.customer.last_name)),
        ("code", lambda r: csv_safe(r.customer.code)),
    ],
    "email": [("email", lambda r: csv_safe(r.customer.email))],
    "phone": [("phone", lambda r: csv_safe(r.customer.phone))],
    "tags": [("tags", lambda r: csv_safe(", ".join(r.tags)))],
    "status": [("status", lambda r: r.status)],
    "source": [("source", lambda r: r.customer.source)],
    "created": [("created_at", lambda r: _day(r.customer.created_at))],
    "last_purchase": [("last_purchase", lambda r: _day(r.last_order_at))],
    "orders": [("orders", lambda r: r.orders_completed)],
    "spent": [("total_purchases", lambda r: ("money", r.spent_minor))],
    "average": [("average_basket", lambda r: ("money", r.average_minor))],
    "balance": [("balance", lambda r: ("money", r.balance_minor)), ("unit", lambda r: ("unit", None))],
    "spendable": [("spendable", lambda r: ("money", r.spendable_minor))],
    "consent": [("marketing_consent", lambda r: "yes" if r.customer.marketing_consent else "no")],
    "notes": [("notes", lambda r: r.notes_count)],
}
_MAILCHIMP: list[Cell] = [
    ("Email Address", lambda r: csv_safe(r.customer.email)),
    ("First Name", lambda r: csv_safe(r.customer.first_name)),
    ("Last Name", lambda r: csv_safe(r.customer.last_name)),
    ("Phone Number", lambda r: csv_safe(r.customer.phone)),
    ("Tags", lambda r: csv_safe(", ".join(r.tags))),
]


class _Line:
    """A file-like target for csv.writer that hands back what it was given."""

    def write(self, text: str) -> str:
        return text


def customer_csv_rows(
    *, hub: Hub, customers: QuerySet[Customer], unit: Unit, options: ExportOptions | None = None
) -> Iterator[str]:
    """CSV lines (a byte-order mark first if asked, then the header) for these people, in their order."""
    options = options or ExportOptions(columns=list(_CELLS))
    cells = _MAILCHIMP if options.preset == "mailchimp" else [c for col in options.columns for c in _CELLS.get(col, [])]
    writer = csv.writer(_Line(), delimiter=options.separator)
    decimal_comma = options.separator == ";"
    yield ("\ufeff" if options.bom else "") + writer.writerow([header for header, _value in cells])
    batch: list[Customer] = []
    for customer in customers.prefetch_related("tags").iterator(chunk_size=CHUNK):
        batch.append(customer)
        if len(batch) == CHUNK:
            yield from _lines(hub, batch, unit, writer, cells, decimal_comma)
            batch = []
    if batch:
        yield from _lines(hub, batch, unit, writer, cells, decimal_comma)


def _lines(hub: Hub, batch: list[Customer], unit: Unit, writer: Any, cells: list[Cell], comma: bool) -> Iterator[str]:
    for row in customer_rows(hub=hub, customers=batch):
        yield writer.writerow([_cell(value(row), unit, comma) for _header, value in cells])


def _cell(value: Any, unit: Unit, comma: bool) -> Any:
    if not isinstance(value, tuple):
        return value
    kind, minor = value
    if kind == "unit":
        return unit.code
    if minor is None:
        return ""
    amount: Decimal = minor_to_decimal(minor, unit)
    return str(amount).replace(".", ",") if comma else str(amount)


def csv_safe(text: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
