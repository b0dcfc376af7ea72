"""Billing over the API: the hub's scheduled payments (list with the Scheduled Payments page's
filters, one with its attempts, cancel, move to another day) and its billing settings (read).

Reading needs the scope accounts:read, as the crew's money pages do; cancelling or moving a payment
changes what a customer is charged, so it needs accounts:write, as every other money-moving call.
Both writes take an Idempotency-Key and are recorded in the hub's audit as the token's maker.

No `from __future__ import annotations`: the writes are wrapped by @idempotent, and django-ninja
reads their parameters' types from the wrapper, which could not resolve them as strings."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from hubtab.accounts.selectors import credit_settings_of
from hubtab.api.errors import ApiError
from hubtab.api.idempotency import idempotent
from hubtab.api.models import ApiToken, Scope
from hubtab.api.paging import keyset_page
from hubtab.api.schemas import (
    ERRORS,
    MAX_ID,
    PAGE,
    AttemptOut,
    BillingSettingsOut,
    IsoDate,
    ObjectId,
    ScheduledCancelIn,
    ScheduledDateIn,
    ScheduledPaymentDetailOut,
    ScheduledPaymentOut,
    ScheduledPaymentPage,
)
from hubtab.api.services import token_scoped
from hubtab.billing.billing_settings import billing_settings_of, smallest_charge_minor
from hubtab.billing.changes import scheduled_payment_cancel, scheduled_payment_date_change
from hubtab.billing.declines import decline_words
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.selectors import ScheduledFilter, attempts_of, scheduled_payment_get, scheduled_payment_list

router = Router()

Cursor = Query(None, max_length=1000, description="`next_cursor` of the page before")
DateFrom = Query(None, description="Next attempt on or after this day (YYYY-MM-DD)")
DateTo = Query(None, description="Next attempt on or before this day (YYYY-MM-DD)")


def _statuses(text: str) -> tuple[str, ...]:
    statuses = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [status for status in statuses if status not in ScheduledPaymentStatus.values]
    if unknown:
        known = ", ".join(ScheduledPaymentStatus.values)
        raise ApiError(422, "validation_error", f"Unknown status {unknown[0][:40]!r}: use {known}.")
    return statuses


def _out(scheduled: ScheduledPayment) -> dict[str, Any]:
    customer = scheduled.customer
    return {
        "id": scheduled.id, "customer": customer.id, "customer_name": customer.full_name or customer.email,
        "kind": scheduled.kind, "status": scheduled.status, "due_on": scheduled.due_on, "run_on": scheduled.run_on,
        "amount": scheduled.price_minor, "currency": scheduled.currency, "credits": scheduled.credits_minor,
        "unit": scheduled.unit, "attempts_made": scheduled.attempts_made, "outcome": scheduled.outcome,
        "decline_code": scheduled.decline_code, "created_at": scheduled.created_at,
        "updated_at": scheduled.updated_at, "finished_at": scheduled.finished_at,
    }  # fmt: skip


def _detail(token: ApiToken, scheduled_id: int) -> ScheduledPaymentDetailOut:
    """The payment as it is now, with every attempt (read again after a change)."""
    scheduled = scheduled_payment_get(hub=token.hub, scheduled_id=scheduled_id)  # another hub's: not_found, 404
    attempts = [
        AttemptOut(
            number=attempt.number,
            started_at=attempt.started_at,
            finished_at=attempt.finished_at,
            outcome=attempt.outcome,
            amount=attempt.price_minor,
            decline_code=attempt.decline_code,
            message=attempt.message,
            reason=decline_words(attempt.decline_code, attempt.message) if attempt.decline_code else "",
        )
        for attempt in attempts_of(hub=token.hub, scheduled=scheduled)
    ]
    return ScheduledPaymentDetailOut(**_out(scheduled), attempts=attempts)


@router.get("/scheduled-payments", response={200: ScheduledPaymentPage, **ERRORS}, tags=["billing"])
def scheduled_payments_list(
    request: HttpRequest,
    status: str = Query("", max_length=200, description="One status or several separated by commas, e.g. "
                        "scheduled,retrying"),
    date_from: IsoDate | None = DateFrom,
    date_to: IsoDate | None = DateTo,
    customer: int | None = Query(None, ge=1, le=MAX_ID, description="One customer's id"),
    cursor: str | None = Cursor,
) -> Status[Any]:  # fmt: skip
    """The hub's scheduled payments by day of the next attempt, then id, `PAGE` at a time, filtered as
    the Scheduled Payments page filters them."""
    token = token_scoped(request, Scope.ACCOUNTS_READ)
    if date_from and date_to and date_from > date_to:
        raise ApiError(422, "validation_error", "date_from is after date_to.")
    filters = ScheduledFilter(statuses=_statuses(status), date_from=date_from, date_to=date_to, customer_id=customer)
    rows = scheduled_payment_list(hub=token.hub, filters=filters)
    page = keyset_page(rows, cursor=cursor, size=PAGE, shape="scheduled-payments")
    return Status(200, {"items": [ScheduledPaymentOut(**_out(row)) for row in page.rows],
                        "next_cursor": page.next_cursor})  # fmt: skip


@router.get("/scheduled-payments/{scheduled_id}", response={200: ScheduledPaymentDetailOut, **ERRORS},
            tags=["billing"])  # fmt: skip
def scheduled_payments_get(request: HttpRequest, scheduled_id: ObjectId) -> Status[Any]:
    """One scheduled payment with its attempts: when, the outcome, the decline code and what it means."""
    token = token_scoped(request, Scope.ACCOUNTS_READ)
    return Status(200, _detail(token, scheduled_id))


@router.post("/scheduled-payments/{scheduled_id}/cancel", response={200: ScheduledPaymentDetailOut, **ERRORS},
             tags=["billing"])  # fmt: skip
@idempotent
def scheduled_payments_cancel(request: HttpRequest, scheduled_id: ObjectId, payload: ScheduledCancelIn) -> Status[Any]:
    """Cancel a payment not yet taken, with the reason (409 while it is being charged, or once it is
    closed)."""
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    scheduled_payment_cancel(hub=token.hub, actor=token.created_by, scheduled_id=scheduled_id, reason=payload.reason)
    return Status(200, _detail(token, scheduled_id))


@router.post("/scheduled-payments/{scheduled_id}/date", response={200: ScheduledPaymentDetailOut, **ERRORS},
             tags=["billing"])  # fmt: skip
@idempotent
def scheduled_payments_date(request: HttpRequest, scheduled_id: ObjectId, payload: ScheduledDateIn) -> Status[Any]:
    """Move a payment to another day; the customer is told the new day. Not into the past, nor
    before the notice allows (422 date_too_early), nor while it is being charged (409)."""
    token = token_scoped(request, Scope.ACCOUNTS_WRITE)
    scheduled_payment_date_change(hub=token.hub, actor=token.created_by, scheduled_id=scheduled_id, run_on=payload.date)
    return Status(200, _detail(token, scheduled_id))


@router.get("/billing/settings", response={200: BillingSettingsOut, **ERRORS}, tags=["billing"])
def billing_settings_get(request: HttpRequest) -> Status[Any]:
    """The hub's billing settings, with the defaults where it never changed them."""
    token = token_scoped(request, Scope.ACCOUNTS_READ)
    hub = token.hub
    settings = billing_settings_of(hub=hub)
    return Status(200, BillingSettingsOut(
        debt_billing=settings.debt_billing, schedule_after_order=settings.schedule_after_order,
        notice_days=settings.notice_days, retry_days=list(settings.retry_days), min_charge=settings.min_charge_minor,
        smallest_charge=smallest_charge_minor(hub=hub, settings=settings), currency=hub.currency,
        overdue_days=settings.overdue_days, morning_hour=credit_settings_of(hub=hub).morning_hour,
        timezone=hub.timezone, updated_at=None if settings._state.adding else settings.updated_at,
    ))  # fmt: skip
