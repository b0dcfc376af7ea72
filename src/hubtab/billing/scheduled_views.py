"""The Scheduled Payments pages (finance and owner): the list with its filter and totals per day,
its CSV export, acting on many at once, and one payment with its attempts, notices and actions."""

from __future__ import annotations

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_POST

from hubtab.billing.changes import scheduled_payment_cancel, scheduled_payment_date_change
from hubtab.billing.exports import scheduled_csv_rows
from hubtab.billing.forms import CancelForm, DayForm, ScheduledFilterForm, field_errors
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.presenters import (
    Amounts,
    attempt_lines,
    notice_lines,
    scheduled_lines,
    status_words,
    totals_lines,
)
from hubtab.billing.scheduling import earliest_charge_day
from hubtab.billing.selectors import (
    ScheduledFilter,
    attempts_of,
    notices_of,
    scheduled_cards,
    scheduled_payment_get,
    scheduled_payment_list,
    scheduled_totals_by_day,
)
from hubtab.billing.views import named_by_reason
from hubtab.core.access import hub_view, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.permissions import Permission
from hubtab.core.services import audit_record
from hubtab.crm.exports import ExportOptions

PAGE_SIZE = 50
MAX_SELECTED = 500  # payments changed one by one, each in its own transaction
FILTER_PARAMS = ("status", "date_from", "date_to")


def _filters(request: HttpRequest) -> tuple[ScheduledFilterForm, ScheduledFilter, list[tuple[str, str]]]:
    params = [(name, request.GET[name]) for name in FILTER_PARAMS if request.GET.get(name)]
    form = ScheduledFilterForm(request.GET if params else None)
    return form, form.filters(), params


@hub_view(Permission.MOVE_MONEY)
def scheduled_payments(request: HttpRequest, hub: Hub) -> HttpResponse:
    form, filters, params = _filters(request)
    page = Paginator(scheduled_payment_list(hub=hub, filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    cards = scheduled_cards(hub=hub, payments=page, now=timezone.now())
    return render(request, "billing/scheduled.html", {
        "hub": hub, "form": form, "page": page, "lines": scheduled_lines(hub=hub, rows=page, cards=cards),
        "totals": totals_lines(hub=hub, totals=scheduled_totals_by_day(hub=hub, filters=filters)),
        "pager_params": urlencode(params), "back": urlencode([*params, ("page", str(page.number))]),
        "earliest": earliest_charge_day(hub=hub), "named_credit": Amounts.of(hub).named_credit,
    })  # fmt: skip


@hub_view(Permission.MOVE_MONEY)
def scheduled_export(request: HttpRequest, hub: Hub) -> StreamingHttpResponse:
    """The filtered list as CSV (all its pages)."""
    _form, filters, _params = _filters(request)
    payments = scheduled_payment_list(hub=hub, filters=filters)
    audit_record(hub=hub, actor=request_user(request), action="billing.export",
                 summary=gettext_noop("Exported the scheduled payments"),
                 data={"statuses": list(filters.statuses), "rows": payments.count()})  # fmt: skip
    options = ExportOptions.read(request.GET, hub=hub, columns=[])
    response = StreamingHttpResponse(scheduled_csv_rows(hub=hub, payments=payments, options=options),
                                     content_type="text/csv; charset=utf-8")  # fmt: skip
    response["Content-Disposition"] = (
        f'attachment; filename="{hub.slug}-scheduled-payments-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response


@hub_view(Permission.MOVE_MONEY)
@require_POST
def scheduled_bulk(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Move the selected payments to another day, or cancel them with a reason; each one on its
    own, so that one being charged right now is reported and the others are changed."""
    back = f"{reverse('scheduled_payments', args=[hub.slug])}?{request.POST.get('back', '')}"
    ids = [int(i) for i in request.POST.getlist("p")[:MAX_SELECTED] if i.isdigit()]
    rows = {row.id: row for row in ScheduledPayment.objects.filter(hub=hub, id__in=ids).select_related("customer")}
    if not rows:
        messages.error(request, _("Tick the payments to change first."))
        return redirect(back)
    action = request.POST.get("action", "")
    actor = request_user(request)
    if action == "date":
        day_form = DayForm(request.POST)
        if not day_form.is_valid():
            messages.error(request, field_errors(day_form, "run_on"))
            return redirect(back)
        run_on = day_form.cleaned_data["run_on"]

        def change(row: ScheduledPayment) -> None:
            scheduled_payment_date_change(hub=hub, actor=actor, scheduled_id=row.id, run_on=run_on)

        def said(n: int) -> str:
            return ngettext("%(n)s payment moved to %(day)s.", "%(n)s payments moved to %(day)s.", n) % {
                "n": n, "day": Amounts.of(hub).day(run_on)}  # fmt: skip

    elif action == "cancel":
        cancel_form = CancelForm(request.POST)
        if not cancel_form.is_valid():
            messages.error(request, field_errors(cancel_form, "reason"))
            return redirect(back)
        reason = cancel_form.cleaned_data["reason"]

        def change(row: ScheduledPayment) -> None:
            scheduled_payment_cancel(hub=hub, actor=actor, scheduled_id=row.id, reason=reason)

        def said(n: int) -> str:
            return ngettext("%(n)s payment cancelled.", "%(n)s payments cancelled.", n) % {"n": n}

    else:
        messages.error(request, _("Choose what to do with the selected payments."))
        return redirect(back)
    failures: list[tuple[str, str]] = []
    for row in sorted(rows.values(), key=lambda r: r.id):
        try:
            change(row)
        except DomainError as exc:
            failures.append((row.customer.full_name, exc.message))
    changed = len(rows) - len(failures)
    if changed:
        messages.success(request, said(changed))
    if failures:
        messages.error(request, ngettext("%(n)s payment not changed:", "%(n)s payments not changed:", len(failures))
                       % {"n": len(failures)} + " " + named_by_reason(failures))  # fmt: skip
    return redirect(back)


def _payment_or_404(hub: Hub, scheduled_id: int) -> ScheduledPayment:
    try:
        return scheduled_payment_get(hub=hub, scheduled_id=scheduled_id)
    except DomainError as exc:
        raise Http404(exc.message) from exc


@hub_view(Permission.MOVE_MONEY)
def scheduled_payment_detail(request: HttpRequest, hub: Hub, scheduled_id: int) -> HttpResponse:
    """One payment: what, when, its status; each attempt (when, outcome, the bank's reason in plain
    words) and each notice sent; moving, cancelling or (when it failed) charging it again."""
    payment = _payment_or_404(hub, scheduled_id)
    zone = ZoneInfo(hub.timezone)
    amounts = Amounts.of(hub)
    [line] = scheduled_lines(hub=hub, rows=[payment],
                             cards=scheduled_cards(hub=hub, payments=[payment], now=timezone.now()))  # fmt: skip
    changeable = payment.status in (ScheduledPaymentStatus.SCHEDULED, ScheduledPaymentStatus.RETRYING)
    return render(request, "billing/scheduled_detail.html", {
        "hub": hub, "payment": payment, "line": line, "status_words": status_words(payment, amounts),
        "attempts": attempt_lines(hub=hub, attempts=attempts_of(hub=hub, scheduled=payment), zone=zone),
        "notices": notice_lines(deliveries=notices_of(hub=hub, scheduled=payment), zone=zone),
        "changeable": changeable,
        "retryable": payment.status in (ScheduledPaymentStatus.FAILED, ScheduledPaymentStatus.RETRYING),
        "day_form": DayForm(initial={"run_on": max(payment.run_on, earliest_charge_day(hub=hub))}),
        "earliest": earliest_charge_day(hub=hub), "cancel_form": CancelForm(),
    })  # fmt: skip


@hub_view(Permission.MOVE_MONEY)
@require_POST
def scheduled_date_change(request: HttpRequest, hub: Hub, scheduled_id: int) -> HttpResponse:
    payment = _payment_or_404(hub, scheduled_id)
    form = DayForm(request.POST)
    if not form.is_valid():
        messages.error(request, field_errors(form, "run_on"))
    else:
        try:
            scheduled_payment_date_change(hub=hub, actor=request_user(request), scheduled_id=payment.id,
                                          run_on=form.cleaned_data["run_on"])  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Moved to %(day)s; the customer is told.")
                             % {"day": Amounts.of(hub).day(form.cleaned_data["run_on"])})  # fmt: skip
    return redirect("scheduled_payment_detail", slug=hub.slug, scheduled_id=payment.id)


@hub_view(Permission.MOVE_MONEY)
@require_POST
def scheduled_cancel(request: HttpRequest, hub: Hub, scheduled_id: int) -> HttpResponse:
    payment = _payment_or_404(hub, scheduled_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, field_errors(form, "reason"))
    else:
        try:
            scheduled_payment_cancel(hub=hub, actor=request_user(request), scheduled_id=payment.id,
                                     reason=form.cleaned_data["reason"])  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Payment cancelled."))
    return redirect("scheduled_payment_detail", slug=hub.slug, scheduled_id=payment.id)
