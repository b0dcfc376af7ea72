"""What the billing pages show of each row, in the reader's words: amounts in credits and money,
days, the card, a scheduled payment's status (with the retry day), attempts and notices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hubtab.accounts.selectors import credit_unit_of
from hubtab.billing.debtors import CARD_EXPIRED, CARD_EXPIRING, CARD_NONE, CARD_VALID, DebtorRow, OverdueRow
from hubtab.billing.declines import decline_words
from hubtab.billing.models import (
    AttemptOutcome,
    PaymentAttempt,
    ScheduledPayment,
    ScheduledPaymentKind,
    ScheduledPaymentStatus,
)
from hubtab.billing.overdue import PAID_BY_HAND
from hubtab.core.dates import day_medium, moment_short
from hubtab.core.models import Hub
from hubtab.core.money import Unit, currency_unit, money_format, reader_locale
from hubtab.messaging.models import Delivery
from hubtab.payments.models import SavedCard

CARD_WORDS = {
    CARD_VALID: gettext_lazy("Valid"),
    CARD_EXPIRING: gettext_lazy("Expires soon"),
    CARD_EXPIRED: gettext_lazy("Expired"),
    CARD_NONE: gettext_lazy("No card"),
}
NOTICE_WORDS = {
    "billing_scheduled": gettext_lazy("Payment announced"),
    "billing_failed": gettext_lazy("Charge failed, will retry"),
    "billing_failed_final": gettext_lazy("Charge failed for good"),
    "billing_action": gettext_lazy("The bank wants the customer"),
    "billing_no_card": gettext_lazy("No valid card"),
}
DELIVERY_WORDS = {"queued": gettext_lazy("Waiting to be sent"), "sent": gettext_lazy("Sent"),
                  "failed": gettext_lazy("Not delivered")}  # fmt: skip


@dataclass(frozen=True)
class Amounts:
    """Writes amounts of the hub's credit and of its currency for the reader."""

    unit: Unit
    money: Unit
    locale: str

    @classmethod
    def of(cls, hub: Hub) -> Amounts:
        return cls(credit_unit_of(hub=hub), currency_unit(hub.currency), reader_locale())

    @property
    def named_credit(self) -> bool:
        return self.unit.code != self.money.code

    def credits(self, minor: int) -> str:
        return money_format(minor, self.unit, self.locale)

    def price(self, minor: int | None) -> str:
        return money_format(minor, self.money, self.locale) if minor is not None else ""

    def owed(self, credits_minor: int, price_minor: int | None) -> dict[str, str]:
        """ "12,50 €", or in a named-credit hub "125 kai" with "12,50 €" beside it."""
        if not self.named_credit:
            return {"main": self.credits(credits_minor), "money": ""}
        return {"main": self.credits(credits_minor), "money": self.price(price_minor)}

    def day(self, value: date | None) -> str:
        return day_medium(value, self.locale) if value else ""


def card_words(card: SavedCard | None) -> str:
    if card is None:
        return ""
    return _("%(brand)s ···· %(last4)s, expires %(month)02d/%(year)s") % {
        "brand": card.brand.title(), "last4": card.last4, "month": card.exp_month, "year": card.exp_year}  # fmt: skip


def status_words(scheduled: ScheduledPayment, amounts: Amounts) -> str:
    """The status, with the day of the next try for a payment that will retry."""
    if scheduled.status == ScheduledPaymentStatus.RETRYING:
        return _("Failed, will retry on %(day)s") % {"day": amounts.day(scheduled.run_on)}
    return str(ScheduledPaymentStatus(scheduled.status).label)


def outcome_words(scheduled: ScheduledPayment) -> str:
    """Why a payment ended as it did: the bank's reason in plain words for one that failed, the
    crew's reason for one cancelled, or Hubtab's own words (stored untranslated)."""
    if scheduled.outcome == PAID_BY_HAND:
        return _(PAID_BY_HAND)
    failed = scheduled.status in (ScheduledPaymentStatus.FAILED, ScheduledPaymentStatus.RETRYING)
    if failed and scheduled.decline_code:
        return decline_words(scheduled.decline_code, scheduled.outcome)
    return _(scheduled.outcome) if scheduled.outcome else ""


def debtor_lines(*, hub: Hub, rows: list[DebtorRow], zone: ZoneInfo) -> list[dict[str, Any]]:
    amounts = Amounts.of(hub)
    lines = []
    for row in rows:
        lines.append({
            "customer": row.customer, "owed": amounts.owed(row.owed_minor, row.price_minor),
            "last_order": amounts.day(localtime(row.last_order_at, zone).date()) if row.last_order_at else "",
            "card_state": row.card_state, "card_state_words": CARD_WORDS[row.card_state],
            "card": card_words(row.card), "scheduled": row.scheduled,
            "scheduled_day": amounts.day(row.scheduled.run_on) if row.scheduled else "",
            "scheduled_status": status_words(row.scheduled, amounts) if row.scheduled else "",
        })  # fmt: skip
    return lines


def attempt_words(attempt: PaymentAttempt | None) -> str:
    """An attempt's outcome in plain words: "Declined: there was not enough money on the card."."""
    if attempt is None:
        return _("No charge tried yet")
    label = str(AttemptOutcome(attempt.outcome).label)
    if attempt.outcome in (AttemptOutcome.SUCCEEDED, AttemptOutcome.PROCESSING, AttemptOutcome.UNKNOWN):
        return label
    return f"{label} — {decline_words(attempt.decline_code, attempt.message)}"


def overdue_lines(*, hub: Hub, rows: list[OverdueRow]) -> list[dict[str, Any]]:
    amounts = Amounts.of(hub)
    return [
        {
            "row": row,
            "customer": row.customer,
            "owed": amounts.owed(row.owed_minor, row.price_minor),
            "since": amounts.day(row.overdue_since),
            "days": row.days_overdue,
            "last_attempt": attempt_words(row.last_attempt),
            "retryable": row.retryable,
            "open_payment": row.open_payment,
            "open_words": status_words(row.open_payment, amounts) if row.open_payment else "",
            "open_day": amounts.day(row.open_payment.run_on) if row.open_payment else "",
        }
        for row in rows
    ]


def scheduled_lines(
    *, hub: Hub, rows: Iterable[ScheduledPayment], cards: dict[int, SavedCard | None]
) -> list[dict[str, Any]]:
    """`cards`: by payment id, the card it will be (or was last) charged to."""
    amounts = Amounts.of(hub)
    lines = []
    for row in rows:
        lines.append({
            "payment": row, "customer": row.customer, "price": amounts.price(row.price_minor),
            "credits": amounts.credits(row.credits_minor) if amounts.named_credit else "",
            "day": amounts.day(row.run_on), "due_day": amounts.day(row.due_on) if row.due_on != row.run_on else "",
            "card": card_words(cards.get(row.id)), "kind": ScheduledPaymentKind(row.kind).label,
            "status": row.status, "status_words": status_words(row, amounts), "is_open": row.is_open,
            "outcome": outcome_words(row),
        })  # fmt: skip
    return lines


def totals_lines(*, hub: Hub, totals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    amounts = Amounts.of(hub)
    return [{"day": amounts.day(t["run_on"]), "count": t["count"], "amount": amounts.price(t["price_minor"] or 0)}
            for t in totals]  # fmt: skip


def attempt_lines(*, hub: Hub, attempts: Iterable[PaymentAttempt], zone: ZoneInfo) -> list[dict[str, Any]]:
    amounts = Amounts.of(hub)
    return [
        {
            "number": a.number,
            "when": moment_short(localtime(a.started_at, zone), amounts.locale),
            "outcome": str(AttemptOutcome(a.outcome).label),
            "ok": a.outcome == AttemptOutcome.SUCCEEDED,
            "why": decline_words(a.decline_code, a.message) if a.decline_code else "",
            "code": a.decline_code,
            "amount": amounts.price(a.price_minor),
        }
        for a in attempts
    ]


def notice_lines(*, deliveries: Iterable[Delivery], zone: ZoneInfo) -> list[dict[str, Any]]:
    locale = reader_locale()

    def when(value: datetime | None) -> str:
        return moment_short(localtime(value, zone), locale) if value else ""

    return [
        {"what": NOTICE_WORDS.get(d.kind, d.kind), "to": d.to_email, "when": when(d.created_at),
         "sent": when(d.sent_at), "status": d.status, "status_words": DELIVERY_WORDS.get(d.status, d.status)}
        for d in deliveries
    ]  # fmt: skip
