"""The Overdue accounts pages (finance and owner): who is overdue, by how much and for how long, with
the last charge's outcome; charging a failed payment again now, recording money paid by hand,
scheduling a new day, and (through payments' crew card page) saving a card on the phone."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import localize_input
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubtab.billing.billing_settings import billing_settings_of
from hubtab.billing.debtors import money_quoter, overdue_entries, overdue_get, overdue_rows
from hubtab.billing.declines import decline_words
from hubtab.billing.forms import DayForm, RecordPaymentForm
from hubtab.billing.models import PaymentAttempt
from hubtab.billing.overdue import overdue_payment_record, overdue_schedule, scheduled_payment_retry_now
from hubtab.billing.presenters import Amounts, overdue_lines
from hubtab.billing.scheduling import earliest_charge_day
from hubtab.core.access import hub_view, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import currency_unit, minor_to_decimal
from hubtab.core.permissions import Permission
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_state

PAGE_SIZE = 50


@hub_view(Permission.MOVE_MONEY)
def overdue_accounts(request: HttpRequest, hub: Hub) -> HttpResponse:
    entries = overdue_entries(hub=hub)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    amounts = Amounts.of(hub)
    return render(request, "billing/overdue.html", {
        "hub": hub, "page": page, "lines": overdue_lines(hub=hub, rows=overdue_rows(hub=hub, entries=page)),
        "count": len(entries), "owed": amounts.credits(sum(entry.owed_minor for entry in entries)),
        "named_credit": amounts.named_credit,
        "overdue_days": billing_settings_of(hub=hub).overdue_days,
    })  # fmt: skip


def _customer_or_404(hub: Hub, customer_id: int) -> Customer:
    customer = Customer.objects.filter(hub=hub, id=customer_id).first()
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _account_page(request: HttpRequest, hub: Hub, customer: Customer, *, status: int = 200,
                  **forms: Any) -> HttpResponse:  # fmt: skip
    """One overdue customer: what they owe and since when, and the forms to settle it."""
    row = overdue_get(hub=hub, customer_id=customer.id)
    amounts = Amounts.of(hub)
    earliest = earliest_charge_day(hub=hub)
    balance = account_state(hub_id=hub.id, account_id=customer.account_id).balance_minor
    money = currency_unit(hub.currency)
    quote = money_quoter(hub=hub)
    owed_money = quote(-balance).price_minor if quote and balance < 0 else None
    # What they owe, in money, is what they most often bring: typed in already.
    initial = {"amount": localize_input(minor_to_decimal(owed_money, money))} if owed_money else {}
    context = {
        "hub": hub, "customer": customer, "line": overdue_lines(hub=hub, rows=[row])[0] if row else None,
        "owes": amounts.credits(-balance) if balance < 0 else "", "earliest": earliest,
        "record_form": RecordPaymentForm(currency=money, initial=initial),
        "day_form": DayForm(initial={"run_on": earliest}), "billing_on": billing_settings_of(hub=hub).debt_billing,
    } | forms  # fmt: skip
    return render(request, "billing/overdue_account.html", context, status=status)


@hub_view(Permission.MOVE_MONEY)
def overdue_account(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    return _account_page(request, hub, _customer_or_404(hub, customer_id))


@hub_view(Permission.MOVE_MONEY)
@require_POST
def overdue_record(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """Money the customer paid by hand (cash or bank transfer)."""
    customer = _customer_or_404(hub, customer_id)
    form = RecordPaymentForm(request.POST, currency=currency_unit(hub.currency))
    if (fields := form.for_service()) is not None:
        try:
            overdue_payment_record(hub=hub, actor=request_user(request), customer=customer, **fields)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(amount)s recorded for %(name)s.") % {
                "amount": Amounts.of(hub).price(fields["amount_minor"]), "name": customer.full_name})  # fmt: skip
            return redirect("billing_overdue", slug=hub.slug)
    return _account_page(request, hub, customer, record_form=form)


@hub_view(Permission.MOVE_MONEY)
@require_POST
def overdue_schedule_view(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """Schedule what the customer owes for a new day (the customer is told)."""
    customer = _customer_or_404(hub, customer_id)
    form = DayForm(request.POST)
    if form.is_valid():
        try:
            overdue_schedule(hub=hub, actor=request_user(request), customer_id=customer.id,
                             run_on=form.cleaned_data["run_on"])  # fmt: skip
        except DomainError as exc:
            form.add_error("run_on" if exc.code in ("date_too_early", "validation_error") else None, exc.message)
        else:
            messages.success(request, _("%(name)s's payment is scheduled for %(day)s; they are told.") % {
                "name": customer.full_name, "day": Amounts.of(hub).day(form.cleaned_data["run_on"])})  # fmt: skip
            return redirect("billing_overdue", slug=hub.slug)
    return _account_page(request, hub, customer, day_form=form)


@hub_view(Permission.MOVE_MONEY)
@require_POST
def scheduled_retry(request: HttpRequest, hub: Hub, scheduled_id: int) -> HttpResponse:
    """Charge a failed payment again now; back to the page it was asked from."""
    back = request.POST.get("next", "")
    if not back.startswith(f"/hubs/{hub.slug}/billing/") or not url_has_allowed_host_and_scheme(back, None):
        back = reverse("billing_overdue", args=[hub.slug])
    try:
        outcome = scheduled_payment_retry_now(hub=hub, actor=request_user(request), scheduled_id=scheduled_id)
    except DomainError as exc:
        if exc.code == "not_found":
            raise Http404(exc.message) from exc
        messages.error(request, exc.message)
        return redirect(back)
    last = PaymentAttempt.objects.filter(hub=hub, scheduled_payment_id=scheduled_id).order_by("-number").first()
    why = decline_words(last.decline_code, last.message) if last and last.decline_code else ""
    said = {
        "succeeded": _("Paid: the charge went through."),
        "action_required": _("The bank wants the customer to confirm the payment: they were sent a link."),
        "unknown": _("No answer yet from the payment provider: it is asked again in a few minutes."),
        "busy": _("This payment is being charged right now; look again in a minute."),
    }.get(outcome)
    if outcome == "succeeded":
        messages.success(request, said or "")
    elif said:
        messages.warning(request, said)
    else:
        messages.error(request, _("The charge failed: %(why)s") % {"why": why or _("The bank declined the card.")})
    return redirect(back)
