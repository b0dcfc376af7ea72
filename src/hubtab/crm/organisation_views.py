"""Crew pages for organisations that share one balance (the money rules are in accounts; names and
emails are here)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hubtab.accounts.forms import AmountField, CreditActionForm
from hubtab.accounts.selectors import (
    credit_unit_of,
    organisation_get,
    organisation_list,
    organisation_members,
    usual_largest,
)
from hubtab.accounts.services import (
    credit_apply,
    organisation_create,
    organisation_member_remove,
    organisation_member_set,
)
from hubtab.core.access import hub_view, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import (
    Unit,
    amount_from_decimal,
    currency_unit,
    money_format,
    reader_locale,
)
from hubtab.core.permissions import Permission
from hubtab.crm.presenters import history_line
from hubtab.crm.selectors import (
    customer_list,
    customers_by_account,
)
from hubtab.ledger.selectors import account_state, balances_of
from hubtab.ledger.statements import account_statement, lines_by_transaction

if TYPE_CHECKING:
    from hubtab.accounts.models import Organisation


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
        lines = [history_line(hub, unit, line) for line in reversed(lines_by_transaction(statement.lines)[-100:])]
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
