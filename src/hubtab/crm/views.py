"""Crew pages for customer records: the searchable list and one customer's page."""

from __future__ import annotations

import hashlib
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from hubtab.accounts.forms import AccountRulesForm, AmountField, BulkCreditForm, CreditActionForm, ReverseForm
from hubtab.accounts.selectors import (
    credit_unit_of,
    organisation_get,
    organisation_list,
    organisation_members,
    payment_policy_for,
    usual_largest,
)
from hubtab.accounts.services import (
    account_rules_set,
    credit_apply,
    organisation_create,
    organisation_member_remove,
    organisation_member_set,
    reversible_by_hand,
)
from hubtab.core.access import hub_view, request_user
from hubtab.core.dates import day_short, moment_short
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import (
    Unit,
    amount_from_decimal,
    currency_unit,
    minor_to_decimal,
    money_format,
    reader_locale,
    unit_get,
)
from hubtab.core.permissions import Permission
from hubtab.core.selectors import audit_list
from hubtab.core.services import audit_record
from hubtab.crm.access import own_record_or_404
from hubtab.crm.exports import customer_csv_rows
from hubtab.crm.forms import CustomerForm, StatementPeriodForm
from hubtab.crm.models import Customer
from hubtab.crm.presenters import customer_list_lines, figures_view, timeline_lines
from hubtab.crm.rows import customer_rows
from hubtab.crm.selectors import (
    LIST_ORDERS,
    activity_list,
    customer_get,
    customer_list,
    customer_records_of_user,
    customers_by_account,
    customers_in_use,
    figures_of,
    tag_names,
)
from hubtab.crm.services import (
    customer_archive,
    customer_create,
    customer_credit_apply,
    customer_transaction_correct,
    customer_unarchive,
    customer_update,
    customers_credit_apply,
    customers_floor_apply,
)
from hubtab.crm.statements import statement_csv, statement_for, statement_pdf
from hubtab.ledger.labels import posting_label
from hubtab.ledger.selectors import (
    StatementLine,
    account_state,
    account_statement,
    account_transaction,
    balances_of,
    credit_expiring,
    lines_by_transaction,
    reversed_ids,
)

if TYPE_CHECKING:
    from hubtab.accounts.models import Organisation


@dataclass(frozen=True)
class ListParams:
    """The customer list's search, tag, running-low and archived filters and order, as the page and
    its export read them from the address."""

    query: str
    tag: str
    running_low: bool
    archived: bool
    order: str

    def filters(self) -> dict[str, str]:
        return {"q": self.query, "tag": self.tag, **({"low": "1"} if self.running_low else {}),
                **({"archived": "1"} if self.archived else {})}  # fmt: skip

    def customers(self, hub: Hub) -> QuerySet[Customer]:
        return customer_list(hub=hub, query=self.query, tag=self.tag, running_low=self.running_low,
                             archived=self.archived, order=self.order)  # fmt: skip


def _list_params(request: HttpRequest) -> ListParams:
    query = request.GET.get("q", "")[:100]
    tag = request.GET.get("tag", "")[:40]
    running_low = request.GET.get("low") == "1"
    default_order = "balance" if running_low else "name"  # who is lowest comes first on the running-low list
    order = request.GET.get("order", default_order)
    return ListParams(query, tag, running_low, request.GET.get("archived") == "1",
                      order if order in LIST_ORDERS else default_order)  # fmt: skip


EXPIRY_NOTICE_DAYS = 30  # granted credit expiring within this many days is pointed out to the customer


@hub_view(Permission.VIEW_CUSTOMERS)
def customer_index(request: HttpRequest, hub: Hub) -> HttpResponse:
    params = _list_params(request)
    customers = params.customers(hub).prefetch_related("tags")
    page = Paginator(customers, 50).get_page(request.GET.get("page"))
    rows = customer_list_lines(hub=hub, rows=customer_rows(hub=hub, customers=page))
    return render(
        request,
        "crm/customer_index.html",
        {
            "hub": hub,
            "rows": rows,
            "page": page,
            "query": params.query,
            "tag": params.tag,
            "tags": tag_names(hub=hub),
            "running_low": params.running_low,
            "archived": params.archived,
            "order": params.order,
            "filter_params": urlencode(params.filters()),
            "pager_params": urlencode({**params.filters(), "order": params.order}),
        },
    )


def _line(
    hub: Hub, unit: Unit, line: StatementLine, reversed_already: AbstractSet[int] = frozenset()
) -> dict[str, Any]:
    """One history line for people, in the hub's locale and time (call under its timezone)."""
    return {
        "when": moment_short(localtime(line.posted_at), reader_locale()),
        "what": posting_label(kind=line.kind, key=line.key, memo=line.memo),
        "granted": line.lot_kind == "granted",
        "amount": money_format(line.amount_minor, unit, reader_locale()),
        "balance": money_format(line.balance_after_minor, unit, reader_locale()),
        "negative": line.amount_minor < 0,
        "transaction_id": line.transaction_id,
        "reversible": reversible_by_hand(
            owner=line.owner, kind=line.kind, reversed_already=line.transaction_id in reversed_already
        ),
        # Postings an order or a payment made are undone there: say where instead of offering a reversal.
        "owner": line.owner.kind if line.owner else "",
    }


def _account_summary(hub: Hub, customer: Customer, *, last: int) -> dict[str, Any]:
    """A customer's figures and their last `last` account lines, formatted in the hub's locale and time."""
    unit = unit_get(hub_id=hub.id, code=customer.account.unit)
    state = account_state(hub_id=hub.id, account_id=customer.account_id)
    statement = account_statement(
        hub_id=hub.id,
        account_id=customer.account_id,
        start=customer.account.created_at,
        end=timezone.now() + timedelta(seconds=1),
    )
    shown = lines_by_transaction(statement.lines)[-last:] if last else []
    reversed_already = reversed_ids(hub_id=hub.id, transaction_ids=[line.transaction_id for line in shown])
    with timezone.override(hub.timezone):
        lines = [_line(hub, unit, line, reversed_already) for line in reversed(shown)]
    return {
        "hub": hub,
        "balance": money_format(state.balance_minor, unit, reader_locale()),
        "held": money_format(state.held_minor, unit, reader_locale()),
        "floor": money_format(state.floor_minor or 0, unit, reader_locale()),
        "may_owe": money_format(-(state.floor_minor or 0), unit, reader_locale())
        if (state.floor_minor or 0) < 0
        else "",
        "spendable": money_format(state.spendable_minor or 0, unit, reader_locale()),
        "has_holds": state.held_minor != 0,
        "in_debt": state.balance_minor < 0,
        "lines": lines,
    }


@hub_view(Permission.VIEW_CUSTOMERS)
def customer_detail(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(hub, customer_id)
    summary = _account_summary(hub, customer, last=100)
    events = audit_list(hub=hub, subjects=[customer, customer.account])[:50]
    figures = figures_view(hub=hub, figures=figures_of(hub=hub, customer=customer), unit_code=customer.account.unit)
    timeline = timeline_lines(hub=hub, activities=activity_list(hub=hub, customer=customer, limit=100))
    return render(
        request,
        "crm/customer_detail.html",
        {"hub": hub, "customer": customer, "summary": summary, "events": events, "figures": figures,
         "timeline": timeline},
    )  # fmt: skip


def _customer_or_404(hub: Hub, customer_id: int) -> Customer:
    customer = customer_get(hub=hub, customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _form_page(request: HttpRequest, hub: Hub, form: CustomerForm, customer: Customer | None, write) -> HttpResponse:
    """Show the form, or run `write` (a service call) on valid input; a refusal shows on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = write(form)
        except DomainError as exc:
            form.add_error("email" if exc.code == "customer_exists" else None, exc.message)
        else:
            return redirect("customer_detail", slug=hub.slug, customer_id=saved.id)
    return render(request, "crm/customer_form.html", {"hub": hub, "form": form, "customer": customer})


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_new(request: HttpRequest, hub: Hub) -> HttpResponse:
    return _form_page(
        request,
        hub,
        CustomerForm(request.POST or None),
        None,
        lambda form: customer_create(
            hub=hub, actor=request_user(request), tags=form.tag_names(), **form.fields_for_service()
        ),
    )


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(hub, customer_id)
    initial = {name: getattr(customer, name) for name in CustomerForm.base_fields if name != "tags"}
    initial["tags"] = ", ".join(tag.name for tag in customer.tags.all())
    return _form_page(
        request,
        hub,
        CustomerForm(request.POST or None, initial=initial),
        customer,
        lambda form: customer_update(
            hub=hub, customer=customer, actor=request_user(request), tags=form.tag_names(), **form.fields_for_service()
        ),
    )


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["POST"])
def customer_archive_toggle(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(hub, customer_id)
    if customer.archived_at is None:
        customer_archive(hub=hub, customer=customer, actor=request_user(request))
    else:
        customer_unarchive(hub=hub, customer=customer, actor=request_user(request))
    return redirect("customer_detail", slug=hub.slug, customer_id=customer.id)


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    """A customer's own page: each hub where they hold an account, balance and recent history."""
    assert request.user.pk is not None
    hubs = [_account_summary(c.hub, c, last=10) for c in customer_records_of_user(user_id=request.user.pk)]
    return render(request, "crm/portal.html", {"hubs": hubs})


def _period(request: HttpRequest, hub: Hub) -> tuple[StatementPeriodForm, date, date]:
    today = timezone.localdate(timezone=ZoneInfo(hub.timezone))
    form = StatementPeriodForm(
        request.GET or None, initial={"first_day": today - timedelta(days=89), "last_day": today}
    )
    first_day, last_day = today - timedelta(days=89), today
    if form.is_valid():
        first_day = form.cleaned_data["first_day"] or first_day
        last_day = form.cleaned_data["last_day"] or last_day
    return form, first_day, last_day


@login_required
def portal_hub(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """My account at one hub: figures, credit about to expire, and my history for a period, filtered."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    form, first_day, last_day = _period(request, hub)
    group = form.cleaned_data.get("group", "") if form.is_bound and form.is_valid() else ""
    statement = statement_for(hub=hub, customer=record, first_day=first_day, last_day=last_day, group=group)
    summary = _account_summary(hub, record, last=0)
    unit = statement.unit
    soon = timezone.now() + timedelta(days=EXPIRY_NOTICE_DAYS)
    with timezone.override(hub.timezone):
        expiring = [
            {
                "amount": money_format(e.remaining_minor, unit, reader_locale()),
                "on": day_short(localtime(e.expires_at).date(), reader_locale()),
            }
            for e in credit_expiring(hub_id=hub.id, account_id=record.account_id, before=soon)
        ]
        lines = [_line(hub, unit, line) for line in reversed(statement.lines)]
    return render(
        request,
        "crm/portal_hub.html",
        {
            "hub": hub,
            "summary": summary,
            "form": form,
            "lines": lines,
            "expiring": expiring,
            "opening": money_format(statement.opening_minor, unit, reader_locale()),
            "closing": money_format(statement.closing_minor, unit, reader_locale()),
            "query": urlencode({"first_day": first_day.isoformat(), "last_day": last_day.isoformat(), "group": group}),
        },
    )


@login_required
def portal_statement(request: HttpRequest, hub_slug: str, fmt: str) -> HttpResponse:
    """My statement for the chosen period as a CSV or PDF file."""
    if fmt not in ("csv", "pdf"):
        raise Http404("Statements come as CSV or PDF.")
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    form, first_day, last_day = _period(request, hub)
    if form.is_bound and not form.is_valid():
        return HttpResponse(
            " ".join(str(m) for msgs in form.errors.values() for m in msgs), status=400, content_type="text/plain"
        )
    group = form.cleaned_data.get("group", "") if form.is_bound else ""
    statement = statement_for(hub=hub, customer=record, first_day=first_day, last_day=last_day, group=group)
    name = f"{hub.slug}-statement-{first_day.isoformat()}-{last_day.isoformat()}"
    if fmt == "pdf":
        response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    else:
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["GET", "POST"])
def customer_credit(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """Finance adds, grants, removes, refunds or records credit for one customer, with a reason;
    and sets this customer's own spending limit and payment policy."""
    customer = _customer_or_404(hub, customer_id)
    unit = unit_get(hub_id=hub.id, code=customer.account.unit)
    policy, own_policy = payment_policy_for(hub=hub, account_id=customer.account_id)
    rules_initial = {
        "floor": minor_to_decimal(customer.account.floor_minor or 0, unit),
        "payment_policy": policy if own_policy else "",
    }
    posted_rules = request.method == "POST" and "floor" in request.POST
    form = CreditActionForm(
        request.POST if request.method == "POST" and not posted_rules else None,
        unit=unit,
        timezone=hub.timezone,
        money_unit=currency_unit(hub.currency),
        usual_largest=usual_largest(hub=hub),
    )
    rules = AccountRulesForm(request.POST if posted_rules else None, unit=unit, initial=rules_initial)
    if posted_rules and rules.is_valid() and (fields := rules.for_service()) is not None:
        try:
            account_rules_set(hub=hub, actor=request_user(request), account_id=customer.account_id, **fields)
        except DomainError as exc:
            rules.add_error(None, exc.message)
        else:
            messages.success(request, _("Spending limit and payment policy saved."))
            return redirect("customer_detail", slug=hub.slug, customer_id=customer.id)
    elif request.method == "POST" and not posted_rules and form.is_valid():
        if (fields := form.for_service()) is not None:
            try:
                customer_credit_apply(hub=hub, actor=request_user(request), customer=customer, **fields)
            except DomainError as exc:
                form.add_error("amount" if exc.code == "insufficient_funds" else None, exc.message)
            else:
                messages.success(request, _("Done: the balance and history below include it."))
                return redirect("customer_detail", slug=hub.slug, customer_id=customer.id)
    summary = _account_summary(hub, customer, last=0)
    return render(
        request,
        "crm/customer_credit.html",
        {
            "hub": hub,
            "holder_name": customer.full_name,
            "back_url": reverse("customer_detail", args=[hub.slug, customer.id]),
            "form": form,
            "rules": rules,
            "summary": summary,
        },
    )


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["GET", "POST"])
def customer_transaction_reverse(request: HttpRequest, hub: Hub, customer_id: int, transaction_id: int) -> HttpResponse:
    """Finance reverses a mistaken entry of this customer's history; the reason is required."""
    customer = _customer_or_404(hub, customer_id)
    found = account_transaction(hub_id=hub.id, account_id=customer.account_id, transaction_id=transaction_id)
    unit = unit_get(hub_id=hub.id, code=customer.account.unit)
    reversed_already = reversed_ids(hub_id=hub.id, transaction_ids=[transaction_id])
    with timezone.override(hub.timezone):
        line = _line(hub, unit, found, reversed_already) if found else None
    if line is None:
        raise Http404("No such entry in this customer's history.")
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer_transaction_correct(
                hub=hub,
                actor=request_user(request),
                customer=customer,
                transaction_id=transaction_id,
                reason=form.cleaned_data["reason"],
                key=f"crew-reverse:{form.cleaned_data['key']}",
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Reversed: the history shows the correction."))
            return redirect("customer_detail", slug=hub.slug, customer_id=customer.id)
    return render(request, "crm/customer_reverse.html", {"hub": hub, "customer": customer, "line": line, "form": form})


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["POST"])
def customers_floor_apply_view(request: HttpRequest, hub: Hub) -> HttpResponse:
    tag = request.POST.get("tag", "")[:40]
    changed = customers_floor_apply(hub=hub, actor=request_user(request), tag=tag)
    messages.success(request, _("Spending limit applied to %(count)s customers.") % {"count": changed})
    return redirect("credit_settings", slug=hub.slug)


@hub_view(Permission.VIEW_CUSTOMERS)
@require_http_methods(["GET"])
def customer_export(request: HttpRequest, hub: Hub) -> StreamingHttpResponse:
    """The customer list as CSV, with the same search, tag, running-low filter and order as the page."""
    params = _list_params(request)
    customers = params.customers(hub)
    audit_record(
        hub=hub,
        actor=request_user(request),
        action="customers.export",
        summary=gettext_noop("Exported the running-low list") if params.running_low
        else gettext_noop("Exported the customer list"),
        data={"q": params.query, "tag": params.tag, "low": params.running_low, "archived": params.archived,
              "rows": customers.count()},
    )  # fmt: skip
    unit = credit_unit_of(hub=hub)
    kind = "running-low" if params.running_low else "archived" if params.archived else "customers"
    filename = f"{hub.slug}-{kind}-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(
        customer_csv_rows(hub=hub, customers=customers, unit=unit), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["GET", "POST"])
def customers_credit_many(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Finance credits every customer, or every customer with a tag, at once: all or none."""
    unit = credit_unit_of(hub=hub)
    form = BulkCreditForm(request.POST or None, unit=unit, timezone=hub.timezone, tags=tag_names(hub=hub))
    if request.method == "POST" and form.is_valid() and (fields := form.for_service()) is not None:
        tag = form.cleaned_data["tag"]
        # First show who and how much; post only what was shown (changed since: shown again).
        shown = hashlib.sha256(repr((tag, sorted(fields.items()))).encode()).hexdigest()[:20]
        if request.POST.get("confirm") != shown:
            reached = customers_in_use(hub=hub, tag=tag).order_by(Lower("last_name"), Lower("first_name"), "id")
            count = reached.count()
            preview: dict[str, Any] = {
                "confirm": shown,
                "count": count,
                "each": money_format(fields["amount_minor"], unit, reader_locale()),
                "total": money_format(fields["amount_minor"] * count, unit, reader_locale()),
                "names": [customer.full_name for customer in reached[:12]],
                "more": max(count - 12, 0),
            }
            return render(request, "crm/customers_credit_many.html", {"hub": hub, "form": form, "preview": preview})
        try:
            posted = customers_credit_apply(hub=hub, actor=request_user(request), tag=tag, **fields)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Credited %(count)s customers.") % {"count": len(posted)})
            return redirect("customer_index", slug=hub.slug)
    return render(request, "crm/customers_credit_many.html", {"hub": hub, "form": form})


# --- organisations (the money rules are in accounts; names and emails are here) --------------------


@hub_view(Permission.VIEW_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def organisation_index(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Organisations with their balances; finance and owners create them here."""
    error = ""
    if request.method == "POST":
        if Permission.MOVE_MONEY not in request.hub_permissions:  # type: ignore[attr-defined]
            raise PermissionDenied
        try:
            organisation = organisation_create(hub=hub, actor=request_user(request), name=request.POST.get("name", ""))
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("organisation_detail", slug=hub.slug, organisation_id=organisation.id)
    organisations = list(organisation_list(hub=hub))
    unit = credit_unit_of(hub=hub)
    balances = balances_of(hub_id=hub.id, account_ids=[o.account_id for o in organisations])
    rows = [{"organisation": o, "balance": money_format(balances.get(o.account_id, 0), unit, reader_locale())}
            for o in organisations]  # fmt: skip
    return render(request, "crm/organisation_index.html", {"hub": hub, "rows": rows, "error": error})


@hub_view(Permission.VIEW_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def organisation_detail(request: HttpRequest, hub: Hub, organisation_id: int) -> HttpResponse:
    """An organisation's balance, members (with their monthly limit and this month's spending) and
    statement; finance and owners add members by email, change limits and remove them."""
    organisation = organisation_get(hub=hub, organisation_id=organisation_id)
    if organisation is None:
        raise Http404("No such organisation.")
    error = ""
    unit = credit_unit_of(hub=hub)
    if request.method == "POST":
        if Permission.MOVE_MONEY not in request.hub_permissions:  # type: ignore[attr-defined]
            raise PermissionDenied
        error = _organisation_member_change(request, hub, organisation, unit)
        if not error:
            return redirect("organisation_detail", slug=hub.slug, organisation_id=organisation.id)
    members = organisation_members(hub=hub, organisation=organisation, now=timezone.now())
    people = customers_by_account(hub=hub, account_ids=[m["account_id"] for m in members])
    state = account_state(hub_id=hub.id, account_id=organisation.account_id)
    statement = account_statement(
        hub_id=hub.id, account_id=organisation.account_id, start=organisation.created_at,
        end=timezone.now() + timedelta(seconds=1),
    )  # fmt: skip
    with timezone.override(hub.timezone):
        lines = [_line(hub, unit, line) for line in reversed(lines_by_transaction(statement.lines)[-100:])]
    return render(
        request,
        "crm/organisation_detail.html",
        {
            "hub": hub,
            "organisation": organisation,
            "error": error,
            "balance": money_format(state.balance_minor, unit, reader_locale()),
            "spendable": money_format(state.spendable_minor or 0, unit, reader_locale()),
            "members": [
                {
                    "customer": people.get(m["account_id"]),
                    "account_id": m["account_id"],
                    "limit": money_format(m["monthly_limit_minor"], unit, reader_locale())
                    if m["monthly_limit_minor"] is not None
                    else "",
                    "spent": money_format(m["spent_this_month_minor"], unit, reader_locale()),
                }
                for m in members
            ],
            "lines": lines,
        },
    )


def _organisation_member_change(request: HttpRequest, hub: Hub, organisation: Organisation, unit: Unit) -> str:
    """Add or change a member (by email, with an optional monthly limit) or remove one; an error or ""."""
    actor = request_user(request)
    try:
        if "remove" in request.POST:
            account_id = int(request.POST["remove"])
            organisation_member_remove(hub=hub, actor=actor, organisation=organisation, member_account_id=account_id)
            return ""
        email = request.POST.get("email", "").strip()
        customer = customer_list(hub=hub).filter(email__iexact=email).first() if email else None
        if customer is None:
            return _("No customer of this hub has the email %(email)s.") % {"email": email or "—"}
        limit_text = request.POST.get("limit", "").strip()
        limit = None
        if limit_text:
            field = AmountField(max_digits=16, decimal_places=4)
            limit = amount_from_decimal(field.clean(limit_text), unit)
        organisation_member_set(hub=hub, actor=actor, organisation=organisation,
                                member_account_id=customer.account_id, monthly_limit_minor=limit)  # fmt: skip
    except DomainError as exc:
        return exc.message
    except (ValueError, forms.ValidationError):
        return _("Enter the monthly limit as an amount, e.g. 30 or 12,50.")
    return ""


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["GET", "POST"])
def organisation_credit(request: HttpRequest, hub: Hub, organisation_id: int) -> HttpResponse:
    """Finance credits (or corrects) an organisation's balance, as for a customer."""
    organisation = organisation_get(hub=hub, organisation_id=organisation_id)
    if organisation is None:
        raise Http404("No such organisation.")
    unit = credit_unit_of(hub=hub)
    form = CreditActionForm(
        request.POST or None, unit=unit, timezone=hub.timezone, money_unit=currency_unit(hub.currency),
        usual_largest=usual_largest(hub=hub),
    )  # fmt: skip
    back_url = reverse("organisation_detail", args=[hub.slug, organisation.id])
    if request.method == "POST" and form.is_valid() and (fields := form.for_service()) is not None:
        try:
            credit_apply(hub=hub, actor=request_user(request), account_id=organisation.account_id, **fields)
        except DomainError as exc:
            form.add_error("amount" if exc.code == "insufficient_funds" else None, exc.message)
        else:
            messages.success(request, _("Done: the balance and history below include it."))
            return redirect(back_url)
    state = account_state(hub_id=hub.id, account_id=organisation.account_id)
    summary = {
        "balance": money_format(state.balance_minor, unit, reader_locale()),
        "spendable": money_format(state.spendable_minor or 0, unit, reader_locale()),
        "in_debt": state.balance_minor < 0,
    }
    return render(
        request,
        "crm/customer_credit.html",
        {"hub": hub, "holder_name": organisation.name, "back_url": back_url, "form": form, "summary": summary},
    )
