"""Scheduled payments as CSV, streamed from the page's own selector: the separator, decimal mark and
byte-order mark the hub's spreadsheet program expects (crm.exports' options), text kept safe."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from hubtab.billing.models import ScheduledPayment
from hubtab.core.models import Hub
from hubtab.core.money import minor_to_decimal, unit_get
from hubtab.crm.exports import CHUNK, LINES_PER_CHUNK, ExportOptions, csv_safe

HEADER = ["customer", "email", "amount", "currency", "credits", "unit", "date", "due_on", "kind", "status",
          "attempts", "outcome", "decline_code"]  # fmt: skip


class _Line:
    """A file-like target for csv.writer that hands back what it was given."""

    def write(self, text: str) -> str:
        return text


def scheduled_csv_rows(*, hub: Hub, payments: QuerySet[ScheduledPayment], options: ExportOptions) -> Iterator[str]:
    writer = csv.writer(_Line(), delimiter=options.separator)
    mark = "," if options.separator == ";" else "."
    units: dict[str, object] = {}

    def amount(minor: int, code: str) -> str:
        if code not in units:
            units[code] = unit_get(hub_id=hub.id, code=code)
        return str(minor_to_decimal(minor, units[code])).replace(".", mark)  # type: ignore[arg-type]

    yield ("\ufeff" if options.bom else "") + writer.writerow(HEADER)
    lines: list[str] = []
    for row in payments.iterator(chunk_size=CHUNK):
        lines.append(writer.writerow([
            csv_safe(row.customer.full_name), csv_safe(row.customer.email), amount(row.price_minor, row.currency),
            row.currency, amount(row.credits_minor, row.unit), row.unit, row.run_on.isoformat(),
            row.due_on.isoformat(), row.kind, row.status, row.attempts_made, csv_safe(row.outcome), row.decline_code,
        ]))  # fmt: skip
        if len(lines) == LINES_PER_CHUNK:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
