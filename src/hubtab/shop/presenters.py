"""What the shop's pages show, built from orders, lines and prices: money and weights in the
reader's language, times in the hub's zone."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hubtab.accounts.selectors import credit_unit_of
from hubtab.core.dates import moment_short
from hubtab.core.models import Hub
from hubtab.core.money import Unit, money_format, reader_locale
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_state
from hubtab.shop.models import CREW_EVENT_LABELS, FulfilmentOption, Order, OrderStatus, Variant
from hubtab.shop.selectors import Pricer, order_events, order_final_minor, order_lines


def amount_text(hub: Hub, unit: Unit, amount_minor: int) -> str:
    return money_format(amount_minor, unit, reader_locale())


def credit_box(hub: Hub, record: Customer, unit: Unit) -> dict[str, Any]:
    """What the customer can spend, kept in sight on every shop page."""
    state = account_state(hub_id=hub.id, account_id=record.account_id)
    return {
        "spendable": amount_text(hub, unit, state.spendable_minor or 0),
        "balance": amount_text(hub, unit, state.balance_minor),
        "held": amount_text(hub, unit, state.held_minor) if state.held_minor else "",
        "in_debt": state.balance_minor < 0,
    }


def price_label(pricer: Pricer, variant: Variant) -> str:
    price = amount_text(pricer.hub, pricer.unit, pricer.variant(variant))
    if variant.by_weight:
        return _("%(price)s / kg, about %(grams)s g each") % {
            "price": price,
            "grams": format_decimal(variant.estimated_grams or 0, locale=reader_locale()),
        }
    return price


def option_label(pricer: Pricer, option: FulfilmentOption) -> str:
    hub, unit = pricer.hub, pricer.unit
    fee = pricer.fee(option)
    kind = option.get_kind_display()
    if not fee:
        return fulfilment_label(kind, option.name)
    return _("%(kind)s: %(name)s (%(fee)s)") % {"kind": kind, "name": option.name, "fee": amount_text(hub, unit, fee)}


def fulfilment_label(kind: str, name: str) -> str:
    return _("%(kind)s: %(name)s") % {"kind": kind, "name": name}


def kilos(grams: int) -> str:
    """Grams as kilograms, the reader's way: "1.35" in English, "1,35" in French."""
    return format_decimal(Decimal(grams) / 1000, format="#,##0.###", locale=reader_locale())


def event_note(note: str) -> str:
    """An event's note in the reader's language where Hubtab wrote it ("Order #12")."""
    found = re.fullmatch(r"Order #(\d+)", note)
    return _("Order #%(id)s") % {"id": found[1]} if found else note


def order_view(hub: Hub, order: Order, *, for_crew: bool = False) -> dict[str, Any]:
    """An order as people read it (its customer, or crew): lines estimated and packed, its money
    and its timeline."""
    unit = credit_unit_of(hub=hub)
    lines = list(order_lines(order=order))
    with timezone.override(hub.timezone):
        events = [
            {
                "label": (CREW_EVENT_LABELS.get(event.kind) if for_crew else None) or event.get_kind_display(),
                "amount": amount_text(hub, unit, event.amount_minor) if event.amount_minor is not None else "",
                "note": event_note(event.note),
                "when": moment_short(timezone.localtime(event.at), reader_locale()),
                "kind": event.kind,
            }
            for event in order_events(order=order)
        ]
        placed = moment_short(timezone.localtime(order.placed_at), reader_locale())
    final = order.final_minor if order.final_minor is not None else order_final_minor(order)
    return {
        "order": order,
        "placed": placed,
        "fulfilment": fulfilment_label(order.get_fulfilment_kind_display(), order.fulfilment_name),
        "lines": [
            {
                "line": line,
                "estimated": amount_text(hub, unit, line.estimated_minor),
                "final": amount_text(hub, unit, line.final_minor),
                "changed": line.final_minor != line.estimated_minor,
                "unit_price": amount_text(hub, unit, line.unit_price_minor),
                "estimated_kg": kilos(line.estimated_grams or 0),
                "packed_kg": kilos(line.packed_grams) if line.packed_grams else "",
            }
            for line in lines
        ],
        "events": events,
        "money": {
            "fee": amount_text(hub, unit, order.fee_minor),
            "carried": amount_text(hub, unit, order.carried_minor),
            "estimated": amount_text(hub, unit, order.estimated_minor),
            "final": amount_text(hub, unit, final),
            "held": amount_text(hub, unit, order.held_minor),
            "due": amount_text(hub, unit, order.due_minor),
            "captured": amount_text(hub, unit, order.captured_minor),
            "released": amount_text(hub, unit, order.released_minor),
            "owed": amount_text(hub, unit, order.owed_minor),
            "refunded": amount_text(hub, unit, order.refunded_minor),
            "to_collect": amount_text(hub, unit, max(final - order.held_minor, 0)),
        },
        "final_minor": final,
    }


def order_rows(hub: Hub, orders: QuerySet[Order], limit: int = 500) -> list[dict[str, Any]]:
    """Orders as list rows, in the hub's money and time."""
    unit = credit_unit_of(hub=hub)
    with timezone.override(hub.timezone):
        return [
            {
                "order": order,
                "placed": moment_short(timezone.localtime(order.placed_at), reader_locale()),
                "total": amount_text(
                    hub, unit, order.final_minor if order.final_minor is not None else order.estimated_minor
                ),
                # From credit: held while the order is open, then what completing it took.
                "from_credit": amount_text(
                    hub, unit, order.held_minor if order.status == OrderStatus.PLACED else order.captured_minor
                )
                if order.status != OrderStatus.CANCELLED
                else "",
                "due": amount_text(hub, unit, order.due_minor) if order.due_minor and order.status == "placed" else "",
                "owed": amount_text(hub, unit, order.owed_minor) if order.owed_minor else "",
            }
            for order in orders[:limit]
        ]
