"""The Customer Billing pages (finance and owner): the customers in debt with their filter, the
preview of billing a selection (or all that match), "Bill customers", and the billing settings
(the owner changes them; finance reads them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from hubtab.accounts.selectors import credit_settings_of, credit_unit_of
from hubtab.billing.billing_settings import billing_settings_of, billing_settings_update, smallest_charge_minor
from hubtab.billing.debtors import debtor_ids, debtor_list, debtor_rows
from hubtab.billing.forms import BillingSettingsForm, DayForm, DebtorFilterForm, field_errors
from hubtab.billing.presenters import Amounts, card_words, debtor_lines
from hubtab.billing.scheduling import BillLine, BillResult, debt_bill, debt_preview, earliest_charge_day
from hubtab.core.access import hub_view, may, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import currency_unit
from hubtab.core.permissions import Permission
from hubtab.crm.cycles import cycle_choices
from hubtab.crm.selectors import tag_names

PAGE_SIZE = 50
MAX_SELECTED = 5000  # ids posted one by one; beyond, "all that match" carries the filter instead
PREVIEW_ROWS = 100  # lines shown of each part of the preview; the counts and totals cover all
NAMES_SHOWN = 5  # customers named per reason in a result message
FILTER_PARAMS = ("tag", "cycle", "owed_min", "owed_max")


def _filter_form(hub: Hub, params: QueryDict) -> DebtorFilterForm:
    bound = any(params.get(name) for name in FILTER_PARAMS)
    return DebtorFilterForm(params if bound else None, unit=credit_unit_of(hub=hub), tags=tag_names(hub=hub),
                            cycles=cycle_choices(hub=hub))  # fmt: skip


def _filter_params(params: QueryDict) -> list[tuple[str, str]]:
    return [(name, str(params.get(name, ""))) for name in FILTER_PARAMS if params.get(name)]


@hub_view(Permission.MOVE_MONEY)
def billing_customers(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Customers in debt, with what they owe, their last order, their card and any payment already
    scheduled; crew tick some (or all that match) and see what billing them would do."""
    form = _filter_form(hub, request.GET)
    filters = form.filters() if form.is_bound else None
    page = Paginator(debtor_list(hub=hub, filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    params = _filter_params(request.GET)
    amounts = Amounts.of(hub)
    return render(request, "billing/customers.html", {
        "hub": hub, "form": form, "page": page, "filter_params": params, "pager_params": urlencode(params),
        "lines": debtor_lines(hub=hub, rows=debtor_rows(hub=hub, customers=page), zone=ZoneInfo(hub.timezone)),
        "settings": billing_settings_of(hub=hub), "named_credit": amounts.named_credit, "unit": amounts.unit,
    })  # fmt: skip


def _selection(hub: Hub, params: QueryDict) -> tuple[list[int], list[tuple[str, str]]]:
    """The customers a selection names (every debtor the filter lets in, with `all`, or the ticked
    ids), and the fields that carry it to the next step."""
    if params.get("all") == "1":
        form = _filter_form(hub, params)
        filters = form.filters() if form.is_bound else None
        return debtor_ids(hub=hub, filters=filters), [("all", "1"), *_filter_params(params)]
    ids = sorted({int(i) for i in params.getlist("p")[:MAX_SELECTED] if i.isdigit()})
    return ids, [*(("p", str(i)) for i in ids), *_filter_params(params)]


def _back(hub: Hub, params: QueryDict) -> str:
    query = urlencode(_filter_params(params))
    return reverse("billing_customers", args=[hub.slug]) + (f"?{query}" if query else "")


@hub_view(Permission.MOVE_MONEY)
@require_POST
def billing_preview(request: HttpRequest, hub: Hub) -> HttpResponse:
    """What "Bill customers" would do for the selection, on the day chosen (the first the notice
    allows unless crew choose a later one); nothing is changed."""
    ids, carried = _selection(hub, request.POST)
    if not ids:
        messages.error(request, _("Tick the customers to bill first."))
        return redirect(_back(hub, request.POST))
    earliest = earliest_charge_day(hub=hub)
    form = DayForm(request.POST if request.POST.get("run_on") else None, initial={"run_on": earliest})
    run_on = form.cleaned_data["run_on"] if form.is_bound and form.is_valid() else None
    try:
        lines = debt_preview(hub=hub, customer_ids=ids, run_on=run_on)
    except DomainError as exc:
        form.add_error("run_on", exc.message)
        lines = debt_preview(hub=hub, customer_ids=ids)
    return _preview_page(request, hub, lines, form, carried, earliest)


def _preview_page(request: HttpRequest, hub: Hub, lines: list[BillLine], form: DayForm,
                  carried: list[tuple[str, str]], earliest: Any) -> HttpResponse:  # fmt: skip
    amounts = Amounts.of(hub)
    quote_lines = [_preview_line(line, amounts) for line in lines]
    billable = [line for line in quote_lines if line["billable"]]
    skipped = [line for line in quote_lines if not line["billable"]]
    return render(request, "billing/preview.html", {
        "hub": hub, "form": form, "carried": carried, "earliest": earliest, "back": _back(hub, request.POST),
        "earliest_words": amounts.day(earliest),
        "billable": billable[:PREVIEW_ROWS], "billable_count": len(billable),
        "billable_more": max(len(billable) - PREVIEW_ROWS, 0),
        "skipped": skipped[:PREVIEW_ROWS], "skipped_count": len(skipped),
        "skipped_more": max(len(skipped) - PREVIEW_ROWS, 0),
        "total": amounts.price(sum(line.price_minor for line in lines if line.billable)),
        "days": sorted({amounts.day(line.run_on) for line in lines if line.billable}),
        "no_card": sum(1 for line in lines if line.problem_code == "no_card"),
        "updates": sum(1 for line in lines if line.billable and line.scheduled is not None),
        "billing_on": billing_settings_of(hub=hub).debt_billing,
        "smallest": amounts.price(smallest_charge_minor(hub=hub)),
        "named_credit": amounts.named_credit,
    })  # fmt: skip


def _preview_line(line: BillLine, amounts: Amounts) -> dict[str, Any]:
    return {
        "customer": line.customer, "billable": line.billable, "problem": line.problem, "code": line.problem_code,
        "owed": amounts.credits(line.owed_minor), "price": amounts.price(line.price_minor),
        "day": amounts.day(line.run_on), "card": card_words(line.card),
        "updates": line.scheduled is not None and line.billable,
        "was_day": amounts.day(line.scheduled.run_on) if line.scheduled else "",
    }  # fmt: skip


@hub_view(Permission.MOVE_MONEY)
@require_POST
def billing_bill(request: HttpRequest, hub: Hub) -> HttpResponse:
    """ "Bill customers": one payment per customer (billing again updates it), each told."""
    ids, _carried = _selection(hub, request.POST)
    back = _back(hub, request.POST)
    if not ids:
        messages.error(request, _("Tick the customers to bill first."))
        return redirect(back)
    form = DayForm(request.POST)
    if not form.is_valid():
        messages.error(request, field_errors(form, "run_on"))
        return redirect(back)
    try:
        result = debt_bill(hub=hub, actor=request_user(request), customer_ids=ids, run_on=form.cleaned_data["run_on"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    _say_result(request, result)
    return redirect(back)


def _say_result(request: HttpRequest, result: BillResult) -> None:
    done = result.scheduled + result.updated + result.unchanged
    if done:
        messages.success(request, _("%(scheduled)s, %(updated)s, %(unchanged)s.") % {
            "scheduled": ngettext("%(n)s payment scheduled", "%(n)s payments scheduled", result.scheduled)
            % {"n": result.scheduled},
            "updated": ngettext("%(n)s updated", "%(n)s updated", result.updated) % {"n": result.updated},
            "unchanged": ngettext("%(n)s already scheduled as it is", "%(n)s already scheduled as they are",
                                  result.unchanged) % {"n": result.unchanged},
        })  # fmt: skip
    if result.skipped:
        messages.warning(request, ngettext("%(n)s customer not billed:", "%(n)s customers not billed:",
                                           len(result.skipped)) % {"n": len(result.skipped)}
                         + " " + named_by_reason((c.full_name, why) for c, why in result.skipped))  # fmt: skip


def named_by_reason(pairs: Iterable[tuple[str, str]]) -> str:
    """ "Owes nothing: Marie Test, Paul Test. Being charged right now: Léa Test." (a few names each)."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in pairs:
        by_reason.setdefault(reason, []).append(name)
    parts = []
    for reason, names in by_reason.items():
        shown = ", ".join(names[:NAMES_SHOWN])
        if len(names) > NAMES_SHOWN:
            shown += " " + _("and %(n)s more") % {"n": len(names) - NAMES_SHOWN}
        parts.append(_("%(reason)s: %(names)s.") % {"reason": reason.rstrip("."), "names": shown})
    return " ".join(parts)


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["GET", "POST"])
def billing_settings_page(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Debt-based billing, the notice, the retries, the smallest charge and when debt is overdue:
    the owner changes them, finance reads them."""
    may_edit = may(request, Permission.MANAGE_SETTINGS)
    if request.method == "POST" and not may_edit:
        raise PermissionDenied("Only the hub's owner changes the billing settings.")
    money = currency_unit(hub.currency)
    current = billing_settings_of(hub=hub)
    form = BillingSettingsForm(
        request.POST if request.method == "POST" else None, currency=money, read_only=not may_edit,
        initial=BillingSettingsForm.initial_from(current, money),
    )  # fmt: skip
    if request.method == "POST" and (fields := form.for_service()) is not None:
        try:
            billing_settings_update(hub=hub, actor=request_user(request), **fields)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Billing settings saved."))
            return redirect("billing_settings", slug=hub.slug)
    return render(request, "billing/settings.html", {
        "hub": hub, "form": form, "may_edit": may_edit,
        "morning_hour": f"{credit_settings_of(hub=hub).morning_hour:02d}:00",
        "smallest": Amounts.of(hub).price(smallest_charge_minor(hub=hub, settings=current)),
    })  # fmt: skip
