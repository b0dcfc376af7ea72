"""What the customer pages show, built from records and figures: the timeline's lines and the
figures' cards, in the reader's language and the hub's time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hubtab.accounts.selectors import credit_unit_of
from hubtab.core.dates import day_medium, moment_short
from hubtab.core.models import Hub
from hubtab.core.money import money_format, reader_locale, unit_get
from hubtab.crm.models import Activity, ActivityKind, CustomerFigures, Source
from hubtab.crm.rows import CustomerRow

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
    }
    text, link = texts.get(kind, (activity.get_kind_display(), ""))
    return (f"{text}: {note}" if note else text), link


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


def customer_list_lines(*, hub: Hub, rows: list[CustomerRow]) -> list[dict[str, object]]:
    """The customer list's lines: the record, its balance and last purchase, in the reader's words."""
    unit = credit_unit_of(hub=hub)
    zone = ZoneInfo(hub.timezone)
    return [
        {
            "customer": row.customer,
            "tags": row.tags,
            "balance": money_format(row.balance_minor, unit, reader_locale()),
            "in_debt": row.balance_minor < 0,
            "last_purchase": day_medium(localtime(row.last_order_at, zone).date(), reader_locale())
            if row.last_order_at
            else "",
            "orders": row.orders_completed,
        }
        for row in rows
    ]
