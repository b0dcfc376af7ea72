"""A customer's statement for a period, as people read it (one line per transaction, running
balance, opening and closing balance), and as CSV and PDF files."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext as _

from hubtab.core.dates import moment_short
from hubtab.core.models import Hub
from hubtab.core.money import Unit, minor_to_decimal, money_format, unit_get
from hubtab.crm.exports import csv_safe
from hubtab.crm.models import Customer
from hubtab.ledger.labels import posting_label
from hubtab.ledger.statements import StatementLine, account_statement, lines_by_transaction

# What a customer can filter their history by, and the kinds of transaction each covers.
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "top_ups": ("top_up",),
    "orders": ("charge", "hold_capture"),
    "credit": ("grant", "adjustment", "refund", "reversal", "lot_expiry", "transfer"),
}


@dataclass(frozen=True)
class CustomerStatement:
    hub: Hub
    customer: Customer
    unit: Unit
    first_day: date
    last_day: date
    opening_minor: int
    closing_minor: int
    lines: list[StatementLine]  # oldest first


def statement_for(
    *, hub: Hub, customer: Customer, first_day: date, last_day: date, group: str = ""
) -> CustomerStatement:
    """The statement from the start of `first_day` to the end of `last_day`, in the hub's time."""
    tz = ZoneInfo(hub.timezone)
    start = datetime.combine(first_day, time.min, tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)
    raw = account_statement(hub_id=hub.id, account_id=customer.account_id, start=start, end=end)
    lines = lines_by_transaction(raw.lines)
    if group in KIND_GROUPS:
        lines = [line for line in lines if line.kind in KIND_GROUPS[group]]
    return CustomerStatement(
        hub=hub,
        customer=customer,
        unit=unit_get(hub_id=hub.id, code=raw.unit),
        first_day=first_day,
        last_day=last_day,
        opening_minor=raw.opening_minor,
        closing_minor=raw.closing_minor,
        lines=lines,
    )


def _when(statement: CustomerStatement, line: StatementLine) -> str:
    return moment_short(line.posted_at.astimezone(ZoneInfo(statement.hub.timezone)), statement.hub.locale)


def statement_csv(statement: CustomerStatement) -> str:
    """Machine-readable: ISO times in the hub's timezone, plain decimal amounts."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "description", "amount", "balance", "unit", "transaction"])
    tz = ZoneInfo(statement.hub.timezone)
    for line in statement.lines:
        description = posting_label(kind=line.kind, key=line.key, memo=line.memo)
        writer.writerow(
            [
                line.posted_at.astimezone(tz).isoformat(timespec="seconds"),
                csv_safe(description),
                minor_to_decimal(line.amount_minor, statement.unit),
                minor_to_decimal(line.balance_after_minor, statement.unit),
                statement.unit.code,
                line.transaction_id,
            ]
        )
    return "\ufeff" + out.getvalue()


def _pdf_text(text: str) -> str:
    """The PDF's built-in fonts read Windows-1252: spaces of every width become plain spaces."""
    text = text.replace("\u202f", " ").replace("\u00a0", " ")
    return text.encode("cp1252", errors="replace").decode("cp1252")


def statement_pdf(statement: CustomerStatement) -> bytes:
    hub, customer, unit = statement.hub, statement.customer, statement.unit

    def money(minor: int) -> str:
        return _pdf_text(money_format(minor, unit, hub.locale))

    with translation.override(hub.locale):
        from fpdf import FPDF  # imported when a PDF is made: it takes seconds, and most processes never need it

        pdf = FPDF(format="A4")
        pdf.core_fonts_encoding = "cp1252"
        pdf.set_title(_pdf_text(f"{hub.name} - {customer.full_name}"))
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=16)
        pdf.cell(0, 9, _pdf_text(hub.name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.cell(0, 6, _pdf_text(_("Account statement")), new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, _pdf_text(f"{customer.full_name} <{customer.email}>"), new_x="LMARGIN", new_y="NEXT")
        period = _("From %(first)s to %(last)s") % {
            "first": statement.first_day.isoformat(),
            "last": statement.last_day.isoformat(),
        }
        pdf.cell(0, 6, _pdf_text(period), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.cell(0, 6, _pdf_text(_("Opening balance")) + ": " + money(statement.opening_minor), new_x="LMARGIN",
                 new_y="NEXT")  # fmt: skip
        pdf.ln(2)
        widths = (45, 85, 30, 30)
        pdf.set_font("Helvetica", style="B", size=9)
        for width, title in zip(widths, (_("When"), _("What"), _("Amount"), _("Balance")), strict=True):
            pdf.cell(width, 7, _pdf_text(title), border="B", align="R" if width == 30 else "L")
        pdf.ln()
        pdf.set_font("Helvetica", size=9)
        for line in statement.lines:
            pdf.cell(widths[0], 6, _pdf_text(_when(statement, line)))
            pdf.cell(widths[1], 6, _pdf_text(posting_label(kind=line.kind, key=line.key, memo=line.memo)[:60]))
            pdf.cell(widths[2], 6, money(line.amount_minor), align="R")
            pdf.cell(widths[3], 6, money(line.balance_after_minor), align="R")
            pdf.ln()
        if not statement.lines:
            pdf.cell(0, 6, _pdf_text(_("No account activity in this period.")), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.cell(0, 7, _pdf_text(_("Closing balance")) + ": " + money(statement.closing_minor), new_x="LMARGIN",
                 new_y="NEXT")  # fmt: skip
    return bytes(pdf.output())
