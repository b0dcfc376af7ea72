"""Scheduling payments of debt: the preview crew see, "Bill customers" (one open payment per
customer: billing again updates it), scheduling after an order, and crew moving or cancelling one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credits_cost_quoter
from hubtab.billing import events
from hubtab.billing.billing_settings import billing_settings_of, smallest_charge_minor
from hubtab.billing.dates import first_charge_day, hub_today
from hubtab.billing.models import (
    OPEN_STATUSES,
    ScheduledPayment,
    ScheduledPaymentKind,
    ScheduledPaymentStatus,
)
from hubtab.billing.notices import notices_scheduled
from hubtab.core.dates import day_medium
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import currency_unit, money_format, reader_locale
from hubtab.core.services import audit_record
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import balances_of
from hubtab.payments.models import SavedCard
from hubtab.payments.services import card_expired

CHUNK = 500  # customers billed per transaction: one lock set, one bulk write


@dataclass(frozen=True)
class BillLine:
    """What billing one customer would do: charge `price_minor` for `owed_minor` on `run_on`, or
    not, and why (`problem`)."""

    customer: Customer
    owed_minor: int
    price_minor: int
    run_on: date
    card: SavedCard | None
    scheduled: ScheduledPayment | None
    unit: str
    problem_code: str = ""  # "", nothing_owed, below_smallest, processing, no_card (scheduled all the same)
    problem: str = ""

    @property
    def billable(self) -> bool:
        return self.problem_code in ("", "no_card")


@dataclass
class BillResult:
    scheduled: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[Customer, str]] = field(default_factory=list)


def _cards_of(hub: Hub, account_ids: list[int], now: datetime) -> dict[int, SavedCard]:
    """Each account's card for charges: its newest saved card that has not expired."""
    cards: dict[int, SavedCard] = {}
    rows = SavedCard.objects.filter(hub=hub, account_id__in=account_ids, removed_at__isnull=True).order_by("created_at")
    for card in rows:
        if not card_expired(card, now):
            cards[card.account_id] = card
    return cards


def earliest_charge_day(*, hub: Hub, now: datetime | None = None) -> date:
    """The first day a payment scheduled now may be charged: its customer must be told in time."""
    return first_charge_day(hub=hub, now=now or timezone.now(), notice_days=billing_settings_of(hub=hub).notice_days)


def _lines(hub: Hub, customers: list[Customer], run_on: date | None, now: datetime, lock: bool) -> list[BillLine]:
    settings = billing_settings_of(hub=hub)
    earliest = first_charge_day(hub=hub, now=now, notice_days=settings.notice_days)
    smallest = smallest_charge_minor(hub=hub, settings=settings)
    quote = credits_cost_quoter(hub=hub, currency=hub.currency)
    unit = quote(1).unit
    account_ids = [c.account_id for c in customers]
    open_rows = ScheduledPayment.objects.filter(hub=hub, kind=ScheduledPaymentKind.DEBT, status__in=OPEN_STATUSES,
                                                customer__in=customers)  # fmt: skip
    if lock:
        open_rows = open_rows.select_for_update().order_by("id")  # rows locked in id order: no deadlock
    existing = {row.customer_id: row for row in open_rows}
    balances = balances_of(hub_id=hub.id, account_ids=account_ids)
    cards = _cards_of(hub, account_ids, now)
    lines = []
    for customer in customers:
        owed = max(-balances.get(customer.account_id, 0), 0)
        scheduled = existing.get(customer.id)
        day = run_on or (scheduled.run_on if scheduled and scheduled.run_on >= earliest else earliest)
        price = quote(owed).price_minor if owed else 0
        code, problem = "", ""
        if not owed:
            code, problem = "nothing_owed", _("Owes nothing.")
        elif price < smallest:
            code, problem = (
                "below_smallest",
                _("Owes less than the smallest charge (%(smallest)s).")
                % {"smallest": money_format(smallest, currency_unit(hub.currency), reader_locale())},
            )
        elif scheduled is not None and scheduled.status == ScheduledPaymentStatus.PROCESSING:
            code, problem = "processing", _("Being charged right now.")
        elif customer.account_id not in cards:
            code, problem = "no_card", _("No valid saved card: the customer is asked to save one.")
        card = cards.get(customer.account_id)
        lines.append(BillLine(customer, owed, price, day, card, scheduled, unit.code, code, problem))
    return lines


def debt_preview(*, hub: Hub, customer_ids: Iterable[int], run_on: date | None = None,
                 now: datetime | None = None) -> list[BillLine]:  # fmt: skip
    """What "Bill customers" would do for each of these customers, changing nothing."""
    now = now or timezone.now()
    _day_check(hub, run_on, now)
    customers = list(Customer.objects.filter(hub=hub, id__in=list(customer_ids)).order_by("id"))
    return _lines(hub, customers, run_on, now, lock=False)


def _day_check(hub: Hub, run_on: date | None, now: datetime) -> None:
    if run_on is None:
        return
    earliest = earliest_charge_day(hub=hub, now=now)
    if run_on < earliest:
        raise DomainError(
            "date_too_early",
            _("Customers must be told first: the earliest day is %(day)s.")
            % {"day": day_medium(earliest, reader_locale())},
        )
    if (run_on - hub_today(hub=hub, now=now)).days > 366:
        raise DomainError("validation_error", _("Choose a day within a year."))


def debt_bill(
    *, hub: Hub, actor: User | None, customer_ids: Iterable[int], run_on: date | None = None,
    now: datetime | None = None, automatic: bool = False,
) -> BillResult:  # fmt: skip
    """Schedule (or update) one payment of each customer's debt, on `run_on` or the first morning
    the notice allows, and tell each customer whose payment is new or changed. A customer with
    no saved card is still scheduled (they are told and may save one); one who owes nothing, or
    less than the smallest charge, or is being charged right now, is skipped with the reason."""
    now = now or timezone.now()
    if not billing_settings_of(hub=hub).debt_billing:
        raise DomainError(
            "billing_off", _("Debt-based billing is off at this hub: turn it on in the billing settings.")
        )
    _day_check(hub, run_on, now)
    ids = sorted(set(customer_ids))
    result = BillResult()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for attempt in range(3):
            try:
                with transaction.atomic():
                    counts, skipped = _bill_chunk(hub, actor, chunk, run_on, now)
            except IntegrityError:  # another crew member billed one of these at the same moment: again
                if attempt == 2:
                    raise
                continue
            result.scheduled += counts["scheduled"]
            result.updated += counts["updated"]
            result.unchanged += counts["unchanged"]
            result.skipped.extend(skipped)
            break
    if actor is not None and not automatic and (result.scheduled or result.updated):
        audit_record(
            hub=hub, actor=actor, action="billing.bill",
            summary=gettext_noop("Billed customers: %(scheduled)s scheduled, %(updated)s updated"),
            params={"scheduled": result.scheduled, "updated": result.updated},
        )  # fmt: skip
    return result


def _bill_chunk(
    hub: Hub, actor: User | None, ids: list[int], run_on: date | None, now: datetime
) -> tuple[dict[str, int], list[tuple[Customer, str]]]:
    customers = list(Customer.objects.filter(hub=hub, id__in=ids).order_by("id"))
    lines = _lines(hub, customers, run_on, now, lock=True)
    created: list[tuple[ScheduledPayment, BillLine]] = []
    changed: list[tuple[ScheduledPayment, BillLine]] = []
    counts = {"scheduled": 0, "updated": 0, "unchanged": 0}
    skipped: list[tuple[Customer, str]] = []
    for line in lines:
        if not line.billable:
            skipped.append((line.customer, line.problem))
            continue
        row = line.scheduled
        if row is None:
            created.append((ScheduledPayment(
                hub=hub, customer=line.customer, account_id=line.customer.account_id, due_on=line.run_on,
                run_on=line.run_on, credits_minor=line.owed_minor, unit=line.unit,
                price_minor=line.price_minor, currency=hub.currency, created_by=actor, created_at=now, updated_at=now,
            ), line))  # fmt: skip
        elif (row.credits_minor, row.run_on) == (line.owed_minor, line.run_on):
            counts["unchanged"] += 1
        else:
            row.credits_minor, row.price_minor = line.owed_minor, line.price_minor
            row.due_on = row.run_on = line.run_on
            row.status = ScheduledPaymentStatus.SCHEDULED  # a new amount and day: tried afresh
            row.attempts_made = 0
            row.notice_version += 1
            row.updated_at = now
            changed.append((row, line))
    ScheduledPayment.objects.bulk_create([row for row, _line in created])
    ScheduledPayment.objects.filter(hub=hub).bulk_update(
        [row for row, _line in changed],
        ["credits_minor", "price_minor", "due_on", "run_on", "status", "attempts_made", "notice_version", "updated_at"],
    )
    # The chunk's activities and notices go in with one INSERT each: one per customer, with its
    # savepoint, was six round trips a customer (2,000 billed in 11.7 s, now 2.5 s: bench/billing.py).
    told = [*created, *changed]
    events.payments_scheduled(scheduled=[row for row, _line in told], actor=actor)
    notices_scheduled(hub=hub, payments=[(row, line.card) for row, line in told])
    counts["scheduled"], counts["updated"] = len(created), len(changed)
    return counts, skipped
