"""The morning run: each scheduled payment whose day has come (the hub's morning hour on that day,
in its time zone) is charged once, from the customer's saved card, for no more than they were told.

Exactly once, whatever crashes or runs at the same moment: one process at a time takes a payment
(a guard the database drops if the process dies); each attempt is committed as processing, with its
own key, before the gateway is called; an attempt found processing after a crash is looked up at
the gateway (payments never charges blindly twice); credit is posted by payments' settle path, once.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credit_settings_of, credits_cost_quoter
from hubtab.billing import events, locks
from hubtab.billing.billing_settings import billing_settings_of, smallest_charge_minor
from hubtab.billing.changes import _close
from hubtab.billing.dates import charge_moment, hub_today
from hubtab.billing.declines import decline_kind
from hubtab.billing.models import (
    AttemptOutcome,
    PaymentAttempt,
    ScheduledPayment,
    ScheduledPaymentStatus,
)
from hubtab.billing.notices import notice_action, notice_failed, notice_no_card
from hubtab.core.faults import crash_point
from hubtab.core.guards import exclusive
from hubtab.core.models import Hub
from hubtab.ledger.selectors import account_balance_locked
from hubtab.payments.models import Payment, PaymentStatus
from hubtab.payments.services import (
    card_for_charges,
    payment_charge,
    payment_off_session_create,
    payment_open_cancel,
)

# Stored in Hubtab's words, shown in the reader's language.
SCHEDULED_PAYMENT_MEMO = gettext_noop("Scheduled payment")
NOTHING_OWED = gettext_noop("Nothing was owed any more.")
BELOW_SMALLEST = gettext_noop("What is owed now is less than the smallest charge.")
_WAITING = (ScheduledPaymentStatus.SCHEDULED, ScheduledPaymentStatus.RETRYING)
_OPEN_ATTEMPT = (AttemptOutcome.PROCESSING, AttemptOutcome.UNKNOWN)


def billing_run(*, now: datetime | None = None) -> dict[str, int]:
    """Take every payment that is due, and look again at any left processing (a crash, a lost
    answer); safe to run twice or at the same moment. Returns the outcomes counted."""
    now = now or timezone.now()
    horizon = (now + timedelta(days=1)).date()  # no hub's today is later than UTC's tomorrow
    # The morning job walks every hub's payments.
    rows = ScheduledPayment.objects.across_hubs().filter(
        Q(status__in=_WAITING, run_on__lte=horizon) | Q(status=ScheduledPaymentStatus.PROCESSING)
    )
    counts: Counter[str] = Counter()
    hubs: dict[int, Hub] = {}
    mornings: dict[int, int] = {}
    touched: set[int] = set()
    for scheduled_id, hub_id in rows.order_by("hub_id", "run_on", "id").values_list("id", "hub_id"):
        if hub_id not in hubs:
            hubs[hub_id] = Hub.objects.get(id=hub_id)
            mornings[hub_id] = credit_settings_of(hub=hubs[hub_id]).morning_hour
        outcome = scheduled_payment_take(
            hub=hubs[hub_id], scheduled_id=scheduled_id, now=now, morning_hour=mornings[hub_id]
        )
        counts[outcome] += 1
        if outcome not in ("not_due", "busy"):
            touched.add(hub_id)
    from hubtab.billing.summaries import run_summary_send  # the summary reads what the run left

    for hub_id in sorted(touched):
        counts["summaries"] += run_summary_send(hub=hubs[hub_id], now=now, morning_hour=mornings[hub_id])
    return dict(counts)


def scheduled_payment_take(*, hub: Hub, scheduled_id: int, now: datetime, morning_hour: int | None = None) -> str:
    """Charge one payment if it is due, or carry on with one a crash or a lost answer left
    processing. Returns what happened ("succeeded", "declined", "busy", "not_due", ...)."""
    with exclusive("scheduled-payment", scheduled_id) as held:
        if not held:
            return "busy"  # another process has it now
        scheduled = ScheduledPayment.objects.get(hub=hub, id=scheduled_id)
        if scheduled.status == ScheduledPaymentStatus.PROCESSING:
            return _resume(hub, scheduled, now)
        if scheduled.status not in _WAITING or charge_moment(hub=hub, day=scheduled.run_on,
                                                             morning_hour=morning_hour) > now:  # fmt: skip
            return "not_due"
        _previous_stop(hub, scheduled)
        started = _attempt_start(hub, scheduled_id, now, morning_hour)
        if isinstance(started, str):
            return started
        crash_point("billing.attempt_committed")
        assert started.payment_id is not None
        payment_charge(hub=hub, payment_id=started.payment_id)
        crash_point("billing.charged")
        outcome = attempt_finish(hub=hub, attempt_id=started.id, now=now)
        crash_point("billing.finished")
        return outcome


def _previous_stop(hub: Hub, scheduled: ScheduledPayment) -> None:
    """A charge the last attempt left waiting for the customer's bank is stopped before a new one,
    so the customer can't confirm the old one and pay twice (if they did meanwhile, it is paid)."""
    waiting = (
        PaymentAttempt.objects.filter(hub=hub, scheduled_payment=scheduled, outcome=AttemptOutcome.ACTION_REQUIRED)
        .exclude(payment_id=None)
        .values_list("payment_id", flat=True)
    )
    for payment_id in waiting:
        assert payment_id is not None
        payment = payment_open_cancel(hub=hub, payment_id=payment_id)
        if payment.status == PaymentStatus.SUCCEEDED:
            attempt_settled(hub=hub, payment_id=payment_id)


def _attempt_start(hub: Hub, scheduled_id: int, now: datetime, morning_hour: int | None) -> PaymentAttempt | str:
    """Under the payment's lock and its account's: what to charge (never more than the customer
    was told, never more than they owe now), and the attempt committed as processing."""
    with transaction.atomic():
        scheduled = locks.scheduled_payment_locked(hub=hub, scheduled_id=scheduled_id)
        if scheduled.status not in _WAITING or charge_moment(hub=hub, day=scheduled.run_on,
                                                             morning_hour=morning_hour) > now:  # fmt: skip
            return "not_due"  # moved or cancelled while this run came to it
        owed = max(-account_balance_locked(hub_id=hub.id, account_id=scheduled.account_id), 0)
        credits = min(scheduled.credits_minor, owed)
        if credits == 0:
            _close(scheduled, ScheduledPaymentStatus.NOT_NEEDED, NOTHING_OWED)
            return "not_needed"
        quote = credits_cost_quoter(hub=hub, currency=scheduled.currency)(credits)
        if quote.price_minor < smallest_charge_minor(hub=hub):
            _close(scheduled, ScheduledPaymentStatus.CANCELLED, BELOW_SMALLEST)
            return "below_smallest"
        number = PaymentAttempt.objects.filter(hub=hub, scheduled_payment=scheduled).count() + 1
        key = f"bill-{scheduled.id}-{number}"
        card = card_for_charges(hub=hub, account_id=scheduled.account_id, now=now)
        attempt = PaymentAttempt(
            hub=hub, scheduled_payment=scheduled, number=number, key=key, credits_minor=credits,
            price_minor=min(quote.price_minor, scheduled.price_minor), started_at=now,
        )  # fmt: skip
        if card is None:  # nothing to charge: the customer is told, and tried again on the schedule
            attempt.outcome, attempt.decline_code, attempt.finished_at = AttemptOutcome.NO_CARD, "no_card", now
            attempt.save()
            retry_on = _retry_day(hub, scheduled, now)
            _after_failure(hub, scheduled, attempt, retry_on)
            notice_no_card(hub=hub, scheduled=scheduled, attempt=attempt, retry_on=retry_on)
            return "no_card"
        payment = payment_off_session_create(
            hub=hub, customer=scheduled.customer, card=card, quote=quote, key=key, memo=SCHEDULED_PAYMENT_MEMO
        )
        attempt.payment_id = payment.id
        attempt.save()
        scheduled.status = ScheduledPaymentStatus.PROCESSING
        scheduled.attempts_made += 1
        scheduled.updated_at = now
        scheduled.save(update_fields=["status", "attempts_made", "updated_at"])
    return attempt


def _resume(hub: Hub, scheduled: ScheduledPayment, now: datetime) -> str:
    """A payment left processing: its attempt's charge is asked about (or made, if the gateway
    never saw it) and the outcome recorded."""
    attempt = (
        PaymentAttempt.objects.filter(hub=hub, scheduled_payment=scheduled, outcome__in=_OPEN_ATTEMPT)
        .order_by("-number")
        .first()
    )
    if attempt is None or attempt.payment_id is None:
        return "busy"  # not reached: the attempt is committed with the processing status
    status = Payment.objects.filter(hub=hub, id=attempt.payment_id).values_list("status", flat=True).get()
    if status not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED):
        payment_charge(hub=hub, payment_id=attempt.payment_id)
    return attempt_finish(hub=hub, attempt_id=attempt.id, now=now)


def _retry_day(hub: Hub, scheduled: ScheduledPayment, now: datetime) -> date | None:
    """The next try's day, counted from the payment's day, or None when the schedule is spent."""
    failures = (
        PaymentAttempt.objects.filter(hub=hub, scheduled_payment=scheduled)
        .exclude(outcome__in=[*_OPEN_ATTEMPT, AttemptOutcome.SUCCEEDED])
        .count()
    )
    retry_days = list(billing_settings_of(hub=hub).retry_days)
    if failures > len(retry_days):
        return None
    return max(scheduled.due_on + timedelta(days=retry_days[failures - 1]), hub_today(hub=hub, now=now)
               + timedelta(days=1))  # fmt: skip


def _after_failure(hub: Hub, scheduled: ScheduledPayment, attempt: PaymentAttempt, retry_on: date | None) -> None:
    scheduled.decline_code = attempt.decline_code
    scheduled.outcome = attempt.message or attempt.decline_code
    if retry_on is None:
        _close(scheduled, ScheduledPaymentStatus.FAILED, scheduled.outcome)
        scheduled.save(update_fields=["decline_code"])
        events.scheduled_payment_failed(scheduled=scheduled)
        return
    scheduled.status = ScheduledPaymentStatus.RETRYING
    scheduled.run_on = retry_on
    scheduled.updated_at = timezone.now()
    scheduled.save(update_fields=["status", "run_on", "decline_code", "outcome", "updated_at"])


def attempt_finish(*, hub: Hub, attempt_id: int, now: datetime | None = None) -> str:
    """Record what the attempt's charge came to, once: paid, declined (tried again on the schedule,
    or never again for a hard decline), the bank wants the customer, or still unknown."""
    now = now or timezone.now()
    attempt_row = PaymentAttempt.objects.get(hub=hub, id=attempt_id)
    with transaction.atomic():
        scheduled = locks.scheduled_payment_locked(hub=hub, scheduled_id=attempt_row.scheduled_payment_id)
        attempt = locks.attempt_locked(hub=hub, attempt_id=attempt_id)
        if attempt.outcome not in _OPEN_ATTEMPT:
            return str(attempt.outcome)  # recorded before (a second run, the webhook's receiver)
        assert attempt.payment_id is not None  # an open attempt always has its payment
        payment = Payment.objects.get(hub=hub, id=attempt.payment_id)
        card = card_for_charges(hub=hub, account_id=scheduled.account_id, now=now)
        attempt.finished_at = now
        if payment.status == PaymentStatus.SUCCEEDED:
            attempt.outcome = AttemptOutcome.SUCCEEDED
            attempt.save(update_fields=["outcome", "finished_at"])
            _close(scheduled, ScheduledPaymentStatus.SUCCEEDED, "")
            return "succeeded"
        if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.REQUIRES_ACTION):
            code = payment.decline_code or ("authentication_required" if payment.status ==
                                            PaymentStatus.REQUIRES_ACTION else "card_declined")  # fmt: skip
            kind = decline_kind(code)
            attempt.decline_code, attempt.message = code, payment.failure_message[:300]
            attempt.outcome = {"hard": AttemptOutcome.DECLINED_HARD, "action": AttemptOutcome.ACTION_REQUIRED}.get(
                kind, AttemptOutcome.DECLINED
            )
            attempt.save(update_fields=["outcome", "decline_code", "message", "finished_at"])
            retry_on = None if kind == "hard" else _retry_day(hub, scheduled, now)
            _after_failure(hub, scheduled, attempt, retry_on)
            if kind == "action":  # Stripe says so with a decline (authentication_required) or a waiting charge
                notice_action(hub=hub, scheduled=scheduled, attempt=attempt, card=card,
                              waiting=payment.status == PaymentStatus.REQUIRES_ACTION)  # fmt: skip
            else:
                notice_failed(hub=hub, scheduled=scheduled, attempt=attempt, card=card, retry_on=retry_on)
            crash_point("billing.finishing")  # a crash here rolls back the outcome and its notice together
            return str(attempt.outcome)
        # No answer yet (a timeout, a charge still processing): the reconcile job and the next
        # run ask again; no new attempt starts while this one is open.
        attempt.outcome = AttemptOutcome.UNKNOWN
        attempt.finished_at = None
        attempt.save(update_fields=["outcome", "finished_at"])
        return "unknown"


def attempt_settled(*, hub: Hub, payment_id: int) -> str | None:
    """A charge of an attempt succeeded after its attempt was recorded otherwise (the customer
    confirmed with their bank, the reconcile job heard back): the scheduled payment is paid."""
    attempt_row = PaymentAttempt.objects.filter(hub=hub, payment_id=payment_id).first()
    if attempt_row is None:
        return None
    with transaction.atomic():
        scheduled = locks.scheduled_payment_locked(hub=hub, scheduled_id=attempt_row.scheduled_payment_id)
        attempt = locks.attempt_locked(hub=hub, attempt_id=attempt_row.id)
        if attempt.outcome == AttemptOutcome.SUCCEEDED:
            return "succeeded"
        attempt.outcome = AttemptOutcome.SUCCEEDED
        attempt.finished_at = attempt.finished_at or timezone.now()
        attempt.save(update_fields=["outcome", "finished_at"])
        if scheduled.status != ScheduledPaymentStatus.SUCCEEDED:
            _close(scheduled, ScheduledPaymentStatus.SUCCEEDED, "")
    return "succeeded"
