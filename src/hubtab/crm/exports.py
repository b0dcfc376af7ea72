"""Lists of people as CSV, streamed row by row from one query (crm.rows) so that an export of
100,000 people holds little memory and takes seconds: the list's visible columns (or Mailchimp's),
numbers as numeric cells, and the separator, decimal mark and byte-order mark the hub's spreadsheet
program expects."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from hubtab.core.models import Hub
from hubtab.core.money import Unit
from hubtab.crm.models import Customer
from hubtab.crm.rows import CustomerRow, customer_rows_iter

CHUNK = 2000  # rows fetched from the database at a time
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


@dataclass(frozen=True)
class _Format:
    """How numbers are written: amounts in the unit's decimals, with the separator's decimal mark."""

    unit: Unit
    mark: str  # "," beside ";" (French Excel), else "."

    def money(self, minor: int | None) -> str:
        """`minor` as str(minor_to_decimal()) writes it ("-6.57", "0.05"), with the decimal mark:
        in integers, as it is written for every amount of 100,000 rows."""
        if minor is None:
            return ""
        decimals = self.unit.decimals
        if not decimals:
            return str(minor)
        whole, part = divmod(abs(minor), 10**decimals)
        return f"{'-' if minor < 0 else ''}{whole}{self.mark}{part:0{decimals}d}"


# Each visible column's CSV cells: (header, value of a row). Text goes through csv_safe; numbers and
# dates are written as they are, so a spreadsheet reads them as numbers.
Cell = tuple[str, Callable[[CustomerRow, _Format], Any]]
_CELLS: dict[str, list[Cell]] = {
    "name": [
        ("first_name", lambda r, f: csv_safe(r.customer.first_name)),
        ("last_name", lambda r, f: csv_safe(r.customer.last_name)),
        ("code", lambda r, f: csv_safe(r.customer.code)),
    ],
    "email": [("email", lambda r, f: csv_safe(r.customer.email))],
    "phone": [("phone", lambda r, f: csv_safe(r.customer.phone))],
    "tags": [("tags", lambda r, f: csv_safe(", ".join(r.tags)))],
    "status": [("status", lambda r, f: r.status)],
    "source": [("source", lambda r, f: r.customer.source)],
    "created": [("created_at", lambda r, f: _day(r.customer.created_at))],
    "last_purchase": [("last_purchase", lambda r, f: _day(r.last_order_at))],
    "orders": [("orders", lambda r, f: r.orders_completed)],
    "spent": [("total_purchases", lambda r, f: f.money(r.spent_minor))],
    "average": [("average_basket", lambda r, f: f.money(r.average_minor))],
    "balance": [("balance", lambda r, f: f.money(r.balance_minor)), ("unit", lambda r, f: f.unit.code)],
    "spendable": [("spendable", lambda r, f: f.money(r.spendable_minor))],
    "consent": [("marketing_consent", lambda r, f: "yes" if r.customer.marketing_consent else "no")],
    "notes": [("notes", lambda r, f: r.notes_count)],
}
_MAILCHIMP: list[Cell] = [
    ("Email Address", lambda r, f: csv_safe(r.customer.email)),
    ("First Name", lambda r, f: csv_safe(r.customer.first_name)),
    ("Last Name", lambda r, f: csv_safe(r.customer.last_name)),
    ("Phone Number", lambda r, f: csv_safe(r.customer.phone)),
    ("Tags", lambda r, f: csv_safe(", ".join(r.tags))),
    # Whether the person agreed to marketing emails: Mailchimp is for marketing, so whoever imports
    # the file sees who may be sent a newsletter (and Hubtab's import reads the column back).
    ("Marketing Consent", lambda r, f: "yes" if r.customer.marketing_consent else "no"),
]
LINES_PER_CHUNK = 200  # lines sent to the client at a time: fewer, larger writes


class _Line:
    """A file-like target for csv.writer that hands back what it was given."""

    def write(self, text: str) -> str:
        return text


def customer_csv_rows(
    *, hub: Hub, customers: QuerySet[Customer], unit: Unit, options: ExportOptions | None = None
) -> Iterator[str]:
    """CSV text (a byte-order mark first if asked, then the header, then LINES_PER_CHUNK lines at a
    time) for these people, in their order."""
    options = options or ExportOptions(columns=list(_CELLS))
    cells = _MAILCHIMP if options.preset == "mailchimp" else [c for col in options.columns for c in _CELLS.get(col, [])]
    writer = csv.writer(_Line(), delimiter=options.separator)
    number = _Format(unit, "," if options.separator == ";" else ".")
    values = [value for _header, value in cells]
    yield ("\ufeff" if options.bom else "") + writer.writerow([header for header, _value in cells])
    lines: list[str] = []
    for row in customer_rows_iter(hub=hub, people=customers, chunk_size=CHUNK):
        lines.append(writer.writerow([value(row, number) for value in values]))
        if len(lines) == LINES_PER_CHUNK:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def csv_safe(text: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
