"""Reads of who owes the hub: the customers to bill (balance below zero, with what they owe, their
last order, their card and any payment already scheduled) and the overdue accounts (a payment that
failed for good, or debt older than the hub's overdue days), shared by the pages and the overview.

A customer who no longer owes anything is on neither list, whatever their payments' statuses: a
payment that failed for good stays "failed" (its history is true), and money recorded by hand
afterwards takes the customer off the overdue list by bringing their balance back to zero."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, F, Max, OuterRef, QuerySet
from django.utils import timezone

from hubtab.accounts.selectors import Quote, credits_cost_quoter
from hubtab.billing.billing_settings import billing_settings_of
from hubtab.billing.dates import hub_today
from hubtab.billing.models import (
    OPEN_STATUSES,
    PaymentAttempt,
    ScheduledPayment,
    ScheduledPaymentKind,
    ScheduledPaymentStatus,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.crm.filters import Condition, PeopleFilter
from hubtab.crm.models import Customer
from hubtab.crm.people import people_matching
from hubtab.ledger.selectors import below_zero_since, negative_since
from hubtab.payments.models import SavedCard
from hubtab.payments.services import card_expired

CARD_VALID, CARD_EXPIRING, CARD_EXPIRED, CARD_NONE = "valid", "expiring", "expired", "none"


@dataclass(frozen=True)
class DebtorFilter:
    """What the Customer Billing page filters on. Amounts owed are in the hub's credit unit."""

    tag: str = ""
    cycle_id: int | None = None  # customers who ordered in this order cycle
    owed_min_minor: int | None = None
    owed_max_minor: int | None = None


def debtor_list(*, hub: Hub, filters: DebtorFilter | None = None) -> QuerySet[Customer]:
    """The hub's customers whose balance is below zero (archived ones too: archiving a person does
    not settle what they owe), who owes most first; each with `owed_minor` and `last_order_at`.
    Read through the CRM's one people selector, so "ordered in a cycle" and tags mean what they
    mean on the people list; the balance comes from the joined balance row, one pass for the
    count and the page."""
    filters = filters or DebtorFilter()
    conditions = [Condition("in_debt")]
    if filters.tag:
        conditions.append(Condition("tags_any", filters.tag))
    if filters.cycle_id is not None:
        conditions.append(Condition("in_cycle", str(filters.cycle_id)))
    if filters.owed_min_minor is not None:  # owes at least X: the balance is at most -X
        conditions.append(Condition("balance_max", str(-filters.owed_min_minor)))
    if filters.owed_max_minor is not None:
        conditions.append(Condition("balance_min", str(-filters.owed_max_minor)))
    people = people_matching(hub=hub, people=PeopleFilter(tuple(conditions)), everyone=True)
    return people.annotate(
        owed_minor=-F("balance_row__balance_minor"), last_order_at=F("figures__last_order_at")
    ).order_by("-owed_minor", "id")


def debtor_ids(*, hub: Hub, filters: DebtorFilter | None = None) -> list[int]:
    """Every debtor the filter lets in ("all that match")."""
    return list(debtor_list(hub=hub, filters=filters).values_list("id", flat=True))


def money_quoter(*, hub: Hub) -> Callable[[int], Quote] | None:
    """What an amount of the hub's credit costs in its currency, or None where credit has no price
    in it yet (a named credit never priced): the pages then show the credits alone."""
    try:
        return credits_cost_quoter(hub=hub, currency=hub.currency)
    except DomainError:
        return None


def _cards_by_account(hub: Hub, account_ids: list[int]) -> dict[int, list[SavedCard]]:
    cards: dict[int, list[SavedCard]] = {}
    rows = SavedCard.objects.filter(hub=hub, account_id__in=account_ids, removed_at__isnull=True).order_by(
        "-created_at"
    )
    for card in rows:
        cards.setdefault(card.account_id, []).append(card)
    return cards


def card_state(cards: list[SavedCard], now: datetime) -> tuple[str, SavedCard | None]:
    """The state of a customer's saved cards (newest first) for charges, and the card it is about:
    the card charges use (payments' card_for_charges: the newest one not expired), valid or
    expiring soon (it expires this month or next); else the newest expired one; else none."""
    usable = next((card for card in cards if not card_expired(card, now)), None)
    if usable is not None:
        next_month = (now.year + now.month // 12, now.month % 12 + 1)
        soon = (usable.exp_year, usable.exp_month) in ((now.year, now.month), next_month)
        return (CARD_EXPIRING if soon else CARD_VALID), usable
    if cards:
        return CARD_EXPIRED, cards[0]
    return CARD_NONE, None


def _open_debt_payments(hub: Hub, customer_ids: list[int]) -> dict[int, ScheduledPayment]:
    rows = ScheduledPayment.objects.filter(
        hub=hub, kind=ScheduledPaymentKind.DEBT, status__in=OPEN_STATUSES, customer_id__in=customer_ids
    )
    return {row.customer_id: row for row in rows}


@dataclass(frozen=True)
class DebtorRow:
    customer: Customer
    owed_minor: int  # in the hub's credit unit
    price_minor: int | None  # what it costs in money at the hub's price (None: credit has no price)
    last_order_at: datetime | None
    card_state: str
    card: SavedCard | None
    scheduled: ScheduledPayment | None  # the open payment of this debt, if any


def debtor_rows(*, hub: Hub, customers: Iterable[Customer], now: datetime | None = None) -> list[DebtorRow]:
    """The rows of a page of debtor_list: three queries whatever the page's size."""
    now = now or timezone.now()
    customers = list(customers)
    quote = money_quoter(hub=hub)
    cards = _cards_by_account(hub, [c.account_id for c in customers])
    scheduled = _open_debt_payments(hub, [c.id for c in customers])
    rows = []
    for customer in customers:
        owed = getattr(customer, "owed_minor", 0) or 0
        state, card = card_state(cards.get(customer.account_id, []), now)
        rows.append(DebtorRow(
            customer=customer, owed_minor=owed, price_minor=quote(owed).price_minor if quote and owed > 0 else None,
            last_order_at=getattr(customer, "last_order_at", None), card_state=state, card=card,
            scheduled=scheduled.get(customer.id),
        ))  # fmt: skip
    return rows


# --- overdue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueEntry:
    """Who is overdue and by how much, read for the whole list at once (no more than that)."""

    customer_id: int
    account_id: int
    owed_minor: int  # in the hub's credit unit
    failed: ScheduledPayment | None  # the payment that failed for good, not followed by another


@dataclass(frozen=True)
class OverdueRow:
    customer: Customer
    owed_minor: int
    price_minor: int | None
    overdue_since: date  # the failed payment's day, or the day the debt passed the overdue days
    days_overdue: int
    failed: ScheduledPayment | None
    open_payment: ScheduledPayment | None  # one that is scheduled, processing or will retry
    last_attempt: PaymentAttempt | None  # the newest try at any of the customer's debt payments

    @property
    def retryable(self) -> ScheduledPayment | None:
        """The payment "Retry now" takes: the one that will retry, or the one that failed for good."""
        if self.open_payment is not None and self.open_payment.status == ScheduledPaymentStatus.RETRYING:
            return self.open_payment
        return self.failed if self.open_payment is None else None


def _failed_for_good(hub: Hub) -> dict[int, ScheduledPayment]:
    """Per customer, their newest debt payment that failed for good, where no payment made after it
    is open or paid (a cancelled or unneeded later one does not settle anything)."""
    later = ScheduledPayment.objects.filter(
        hub=hub, kind=ScheduledPaymentKind.DEBT, customer_id=OuterRef("customer_id"), id__gt=OuterRef("id"),
        status__in=[*OPEN_STATUSES, ScheduledPaymentStatus.SUCCEEDED],
    )  # fmt: skip
    rows = (
        ScheduledPayment.objects.filter(hub=hub, kind=ScheduledPaymentKind.DEBT, status=ScheduledPaymentStatus.FAILED)
        .exclude(Exists(later))
        .order_by("id")
    )
    return {row.customer_id: row for row in rows}  # the newest wins


def overdue_entries(
    *, hub: Hub, now: datetime | None = None, customer_ids: list[int] | None = None
) -> list[OverdueEntry]:
    """The customers who still owe and either have a payment that failed for good or have owed for
    longer than the hub's overdue days, who owes most first: a handful of queries for any number."""
    now = now or timezone.now()
    debtors = debtor_list(hub=hub)
    if customer_ids is not None:
        debtors = debtors.filter(id__in=customer_ids)
    owing = list(debtors.values_list("id", "account_id", "owed_minor"))  # type: ignore[misc]  # debtor_list annotates it
    failed = _failed_for_good(hub)
    overdue_after = timedelta(days=billing_settings_of(hub=hub).overdue_days)
    only = [account_id for _id, account_id, _owed in owing] if customer_ids is not None else None
    too_long = below_zero_since(hub_id=hub.id, before=now - overdue_after, account_ids=only)
    return [
        OverdueEntry(customer_id, account_id, owed, failed.get(customer_id))
        for customer_id, account_id, owed in owing
        if customer_id in failed or account_id in too_long
    ]


def _last_attempts(hub: Hub, customer_ids: list[int]) -> dict[int, PaymentAttempt]:
    newest = (
        PaymentAttempt.objects.filter(hub=hub, scheduled_payment__kind=ScheduledPaymentKind.DEBT,
                                      scheduled_payment__customer_id__in=customer_ids)
        .values("scheduled_payment__customer_id").annotate(last=Max("id")).values("last")
    )  # fmt: skip
    attempts = PaymentAttempt.objects.filter(hub=hub, id__in=newest).select_related("scheduled_payment")
    return {attempt.scheduled_payment.customer_id: attempt for attempt in attempts}


def overdue_rows(*, hub: Hub, entries: Iterable[OverdueEntry], now: datetime | None = None) -> list[OverdueRow]:
    """The lines of a page of overdue_entries: since when each is overdue (the failed payment's day,
    or the day the debt passed the overdue days, whichever came first), the open payment and the
    last charge tried. A few queries whatever the page's length."""
    now = now or timezone.now()
    entries = list(entries)
    today = hub_today(hub=hub, now=now)
    overdue_after = timedelta(days=billing_settings_of(hub=hub).overdue_days)
    ids = [entry.customer_id for entry in entries]
    customers = Customer.objects.filter(hub=hub).in_bulk(ids)
    since = negative_since(hub_id=hub.id, account_ids=[entry.account_id for entry in entries])
    open_payments = _open_debt_payments(hub, ids)
    attempts = _last_attempts(hub, ids)
    quote = money_quoter(hub=hub)
    rows = []
    for entry in entries:
        starts = [entry.failed.due_on] if entry.failed else []
        went_below = since.get(entry.account_id)
        if went_below is not None and went_below + overdue_after <= now:
            starts.append(hub_today(hub=hub, now=went_below + overdue_after))
        start = min(starts, default=today)
        rows.append(OverdueRow(
            customer=customers[entry.customer_id], owed_minor=entry.owed_minor,
            price_minor=quote(entry.owed_minor).price_minor if quote else None, overdue_since=start,
            days_overdue=max((today - start).days, 0), failed=entry.failed,
            open_payment=open_payments.get(entry.customer_id), last_attempt=attempts.get(entry.customer_id),
        ))  # fmt: skip
    return rows


def overdue_list(*, hub: Hub, now: datetime | None = None) -> list[OverdueRow]:
    """Every overdue customer's line (a page of them: overdue_rows of a page of overdue_entries)."""
    return overdue_rows(hub=hub, entries=overdue_entries(hub=hub, now=now), now=now)


def overdue_get(*, hub: Hub, customer_id: int, now: datetime | None = None) -> OverdueRow | None:
    """One customer's line of the overdue list, or None when they are not overdue (any more)."""
    entries = overdue_entries(hub=hub, now=now, customer_ids=[customer_id])
    return next(iter(overdue_rows(hub=hub, entries=entries, now=now)), None)


@dataclass(frozen=True)
class OverdueOverview:
    count: int
    owed_minor: int  # in the hub's credit unit


def overdue_overview(*, hub: Hub, now: datetime | None = None) -> OverdueOverview:
    entries = overdue_entries(hub=hub, now=now)
    return OverdueOverview(count=len(entries), owed_minor=sum(entry.owed_minor for entry in entries))
