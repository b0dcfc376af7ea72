"""What the customer pages show, built from records, figures and the ledger: the list's lines, the
timeline, the figures' cards and the account history, in the reader's language and the hub's time."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hubtab.accounts.selectors import credit_unit_of
from hubtab.accounts.services import reversible_by_hand
from hubtab.core.dates import day_medium, moment_short
from hubtab.core.models import Hub
from hubtab.core.money import Unit, money_format, reader_locale, unit_get
from hubtab.crm.models import (
    Activity,
    ActivityKind,
    ConsentSource,
    Customer,
    CustomerFigures,
    PersonStatus,
    Source,
)
from hubtab.crm.rows import CustomerRow
from hubtab.ledger.labels import posting_label
from hubtab.ledger.selectors import account_state, reversed_ids
from hubtab.ledger.statements import StatementLine, account_statement, lines_by_transaction

METHOD_WORDS = {
    "card": gettext_lazy("by card"),
    "bank_transfer": gettext_lazy("by bank transfer"),
    "cash": gettext_lazy("in cash"),
    "point_of_sale": gettext_lazy("at the point of sale"),
}


@dataclass(frozen=True)
class TimelineLine:
    when: str
    kind: str
    text: str
    amount: str
    negative: bool
    link: str
    actor: str


def _text(hub: Hub, activity: Activity) -> tuple[str, str]:
    """The line's words and, where there is one, the page it links to."""
    data, kind = activity.data, activity.kind
    order = {"order": activity.ref_id}
    order_link = reverse("shop_order", args=[hub.slug, activity.ref_id]) if activity.ref_kind == "order" else ""
    payments_link = reverse("customer_payments", args=[hub.slug, activity.customer_id])
    note = data.get("reason") or data.get("comment") or data.get("message") or ""
    texts: dict[str, tuple[str, str]] = {
        ActivityKind.CUSTOMER_ADDED: (
            _("Record created: %(source)s") % {"source": Source(data.get("source", Source.CREW)).label},
            "",
        ),
        ActivityKind.CUSTOMER_ARCHIVED: (_("Record archived"), ""),
        ActivityKind.CUSTOMER_RESTORED: (_("Record restored"), ""),
        ActivityKind.BECAME_CUSTOMER: (_("Became a customer: first order completed"), ""),
        ActivityKind.ORDER_PLACED: (_("Placed order #%(order)s") % order, order_link),
        ActivityKind.ORDER_COMPLETED: (_("Order #%(order)s completed") % order, order_link),
        ActivityKind.CHARGED: (
            _("Order paid from credit: %(reference)s") % {"reference": data.get("reference", "")},
            "",
        ),
        ActivityKind.ORDER_EXTRA: (
            _("Extra charged on order #%(order)s: %(name)s") % {**order, "name": data.get("name", "")},
            order_link,
        ),
        ActivityKind.ORDER_CANCELLED: (_("Order #%(order)s cancelled") % order, order_link),
        ActivityKind.ORDER_REFUNDED: (
            _("Order #%(order)s refunded to the card") % order
            if data.get("to") == "card"
            else _("Order #%(order)s refunded to credit") % order,
            order_link,
        ),
        ActivityKind.TOPPED_UP: (
            _("Automatic top-up %(how)s") % {"how": METHOD_WORDS["card"]}
            if data.get("automatic")
            else _("Topped up %(how)s") % {"how": METHOD_WORDS.get(data.get("method", "card"), "")},
            payments_link if activity.ref_kind == "payment" else "",
        ),
        ActivityKind.PAYMENT_FAILED: (_("Card payment failed"), payments_link),
        ActivityKind.PAYMENT_REFUNDED: (_("Refunded to the card"), payments_link),
        ActivityKind.CREDIT_ADDED: (
            _("Credit granted") if data.get("action") == "add_granted" else _("Credit added"),
            "",
        ),
        ActivityKind.CREDIT_REMOVED: (_("Credit removed"), ""),
        ActivityKind.ENTRY_REVERSED: (_("Entry reversed"), ""),
        # The line quotes the note as it reads now; a deleted note's words are gone from it too.
        ActivityKind.NOTE_ADDED: (
            _("Note added (since deleted)")
            if data.get("deleted")
            else _("Note added: %(excerpt)s") % {"excerpt": data.get("excerpt", "")},
            "" if data.get("deleted") else f"#note-{activity.ref_id}",
        ),
        ActivityKind.TAGGED: (_("Tag added: %(tag)s") % {"tag": data.get("tag", "")}, ""),
        ActivityKind.UNTAGGED: (_("Tag removed: %(tag)s") % {"tag": data.get("tag", "")}, ""),
        ActivityKind.CONSENT_GIVEN: (_("Agreed to marketing messages (%(source)s)") % _consent_source(data), ""),
        ActivityKind.CONSENT_WITHDRAWN: (
            _("Withdrew consent to marketing messages (%(source)s)") % _consent_source(data),
            "",
        ),
    }
    text, link = texts.get(kind, (activity.get_kind_display(), ""))
    return (f"{text}: {note}" if note else text), link


def _consent_source(data: dict[str, Any]) -> dict[str, str]:
    """Where a consent line was recorded, in words: by crew, an import, the sign-up..."""
    source = data.get("source", "")
    return {"source": str(ConsentSource(source).label) if source in ConsentSource.values else _("unknown")}


def timeline_lines(*, hub: Hub, activities: list[Activity]) -> list[TimelineLine]:
    lines = []
    for activity in activities:
        text, link = _text(hub, activity)
        amount = ""
        if activity.amount_minor is not None and activity.unit:
            amount = money_format(activity.amount_minor, unit_get(hub_id=hub.id, code=activity.unit), reader_locale())
        negative = activity.kind in (ActivityKind.CREDIT_REMOVED, ActivityKind.PAYMENT_FAILED)
        lines.append(
            TimelineLine(
                when=moment_short(localtime(activity.occurred_at, ZoneInfo(hub.timezone)), reader_locale()),
                kind=activity.kind,
                text=text,
                amount=amount,
                negative=negative,
                link=link,
                actor=activity.actor.email if activity.actor else "",
            )
        )
    return lines


@dataclass(frozen=True)
class FiguresView:
    last_order: str
    first_order: str
    orders_completed: int
    spent: str
    average_basket: str
    last_top_up: str


def figures_view(*, hub: Hub, figures: CustomerFigures, unit_code: str) -> FiguresView:
    unit = unit_get(hub_id=hub.id, code=unit_code)
    count = figures.orders_completed

    def day(value: datetime | None) -> str:
        return day_medium(localtime(value, ZoneInfo(hub.timezone)).date(), reader_locale()) if value else "—"

    return FiguresView(
        last_order=day(figures.last_order_at),
        first_order=day(figures.first_order_at),
        orders_completed=count,
        spent=money_format(figures.spent_minor, unit, reader_locale()),
        average_basket=money_format(figures.spent_minor // count, unit, reader_locale()) if count else "—",
        last_top_up=day(figures.last_top_up_at),
    )


def customer_list_lines(*, hub: Hub, rows: list[CustomerRow], columns: list[str]) -> list[dict[str, object]]:
    """The list's lines: each person's cells for the columns shown, in the reader's words."""
    unit = credit_unit_of(hub=hub)
    zone = ZoneInfo(hub.timezone)
    locale = reader_locale()

    def money(minor: int | None) -> str:
        return money_format(minor, unit, locale) if minor is not None else "—"

    def day(value: datetime | None) -> str:
        return day_medium(localtime(value, zone).date(), locale) if value else "—"

    def cells(row: CustomerRow) -> dict[str, object]:
        c = row.customer
        return {
            "email": c.email,
            "phone": c.phone or "—",
            "source": Source(c.source).label,
            "created": day(c.created_at),
            "last_purchase": day(row.last_order_at),
            "orders": row.orders_completed,
            "spent": money(row.spent_minor),
            "average": money(row.average_minor),
            "balance": money(row.balance_minor),
            "spendable": money(row.spendable_minor),
            "consent": _("Yes") if c.marketing_consent else _("No"),
            "notes": row.notes_count,
        }

    lines: list[dict[str, object]] = []
    for row in rows:
        shown = cells(row)
        lines.append({
            "customer": row.customer,
            "tags": row.tags,
            "in_debt": row.balance_minor < 0,
            "status": row.status,
            "status_label": PersonStatus(row.status).label,
            "cells": [(code, shown.get(code, "")) for code in columns],
        })  # fmt: skip
    return lines


def history_line(
    hub: Hub, unit: Unit, line: StatementLine, reversed_already: AbstractSet[int] = frozenset()
) -> dict[str, Any]:
    """One history line for people, in the hub's locale and time (call under its timezone)."""
    return {
        "when": moment_short(localtime(line.posted_at), reader_locale()),
        "what": posting_label(kind=line.kind, key=line.key, memo=line.memo),
        "granted": line.lot_kind == "granted",
        "amount": money_format(line.amount_minor, unit, reader_locale()),
        "balance": money_format(line.balance_after_minor, unit, reader_locale()),
        "negative": line.amount_minor < 0,
        "transaction_id": line.transaction_id,
        "reversible": reversible_by_hand(
            owner=line.owner, kind=line.kind, reversed_already=line.transaction_id in reversed_already
        ),
        # Postings an order or a payment made are undone there: say where instead of offering a reversal.
        "owner": line.owner.kind if line.owner else "",
    }


def account_summary(hub: Hub, customer: Customer, *, last: int) -> dict[str, Any]:
    """A customer's figures and their last `last` account lines, formatted in the hub's locale and time."""
    unit = unit_get(hub_id=hub.id, code=customer.account.unit)
    state = account_state(hub_id=hub.id, account_id=customer.account_id)
    statement = account_statement(
        hub_id=hub.id,
        account_id=customer.account_id,
        start=customer.account.created_at,
        end=timezone.now() + timedelta(seconds=1),
    )
    shown = lines_by_transaction(statement.lines)[-last:] if last else []
    reversed_already = reversed_ids(hub_id=hub.id, transaction_ids=[line.transaction_id for line in shown])
    with timezone.override(hub.timezone):
        lines = [history_line(hub, unit, line, reversed_already) for line in reversed(shown)]
    return {
        "hub": hub,
        "balance": money_format(state.balance_minor, unit, reader_locale()),
        "held": money_format(state.held_minor, unit, reader_locale()),
        "floor": money_format(state.floor_minor or 0, unit, reader_locale()),
        "may_owe": money_format(-(state.floor_minor or 0), unit, reader_locale())
        if (state.floor_minor or 0) < 0
        else "",
        "spendable": money_format(state.spendable_minor or 0, unit, reader_locale()),
        "has_holds": state.held_minor != 0,
        "in_debt": state.balance_minor < 0,
        "lines": lines,
    }
