"""Crew pages for customer records: the searchable list and one customer's page."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from hubtab.accounts.forms import AccountRulesForm, BulkCreditForm, CreditActionForm, ReverseForm
from hubtab.accounts.selectors import (
    credit_unit_of,
    payment_policy_for,
    usual_largest,
)
from hubtab.accounts.services import (
    account_rules_set,
)
from hubtab.core.access import hub_view, may, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import (
    currency_unit,
    minor_to_decimal,
    money_format,
    reader_locale,
    unit_get,
)
from hubtab.core.permissions import Permission
from hubtab.core.presenters import audit_lines
from hubtab.core.selectors import audit_list
from hubtab.crm.consent import consent_record
from hubtab.crm.forms import ConsentForm, CustomerForm
from hubtab.crm.list_views import selected_people
from hubtab.crm.models import Customer, PersonStatus
from hubtab.crm.note_views import notes_section
from hubtab.crm.people import lapsed_after, status_of
from hubtab.crm.presenters import account_summary, figures_view, history_line, timeline_lines
from hubtab.crm.selectors import (
    activity_list,
    customer_get,
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
from hubtab.ledger.selectors import reversed_ids
from hubtab.ledger.statements import account_transaction


@hub_view(Permission.VIEW_CUSTOMERS)
def customer_detail(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(hub, customer_id)
    summary = account_summary(hub, customer, last=100)
    events = audit_lines(audit_list(hub=hub, subjects=[customer, customer.account])[:50])
    kept = figures_of(hub=hub, customer=customer)
    figures = figures_view(hub=hub, figures=kept, unit_code=customer.account.unit)
    timeline = timeline_lines(hub=hub, activities=activity_list(hub=hub, customer=customer, limit=100))
    status = status_of(archived=customer.archived_at is not None, last_order_at=kept.last_order_at,
                       now=timezone.now(), lapsed=lapsed_after(hub=hub))  # fmt: skip
    return render(
        request,
        "crm/customer_detail.html",
        {"hub": hub, "customer": customer, "summary": summary, "events": events, "figures": figures,
         "timeline": timeline, "status": status, "status_label": PersonStatus(status).label,
         "consent_form": _consent_form(customer) if may(request, Permission.EDIT_CUSTOMERS) else None,
         **notes_section(request, hub, customer)},
    )  # fmt: skip


def _consent_form(customer: Customer) -> ConsentForm:
    # Offer the change: recording what is already so does nothing.
    return ConsentForm(initial={"given": "no" if customer.marketing_consent else "yes"})


@hub_view(Permission.EDIT_CUSTOMERS)
@require_http_methods(["POST"])
def customer_consent(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """Crew write down a consent to marketing emails given or withdrawn by phone, in person or on
    paper; a refusal comes back on its own page, with what was typed."""
    customer = _customer_or_404(hub, customer_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        fields = form.for_service()
        try:
            changed = consent_record(hub=hub, customer=customer, actor=request_user(request), **fields)
        except DomainError as exc:
            form.add_error("how" if exc.code == "validation_error" else None, exc.message)
        else:
            name = {"name": customer.full_name}
            if not changed:
                messages.info(
                    request,
                    _("Nothing to record: %(name)s had already agreed to marketing emails.") % name
                    if fields["given"]
                    else _("Nothing to record: %(name)s has not agreed to marketing emails.") % name,
                )
            else:
                messages.success(
                    request,
                    _("Recorded: %(name)s agreed to marketing emails.") % name
                    if fields["given"]
                    else _("Recorded: %(name)s withdrew consent to marketing emails.") % name,
                )
            return redirect(reverse("customer_detail", args=[hub.slug, customer.id]) + "#consent")
    return render(request, "crm/consent_form.html", {"hub": hub, "customer": customer, "form": form})


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
    summary = account_summary(hub, customer, last=0)
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
        line = history_line(hub, unit, found, reversed_already) if found else None
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


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["GET", "POST"])
def customers_credit_many(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Finance credits every customer, those with a tag, or the people selected on the list (the
    selection travels with the form), at once: all or none."""
    unit = credit_unit_of(hub=hub)
    arriving = request.POST.get("from_list") == "1"  # the list's "Credit" button: nothing typed yet
    selection = _credit_selection(request, hub)
    form = BulkCreditForm(
        None if arriving else request.POST or None, unit=unit, timezone=hub.timezone, tags=tag_names(hub=hub)
    )
    context: dict[str, Any] = {"hub": hub, "form": form, "selection": selection}
    if request.method == "POST" and not arriving and form.is_valid() and (fields := form.for_service()) is not None:
        tag = "" if selection else form.cleaned_data["tag"]
        ids = selection["ids"] if selection else None
        # First show who and how much; post only what was shown (changed since: shown again).
        shown = hashlib.sha256(repr((tag, ids, sorted(fields.items()))).encode()).hexdigest()[:20]
        if request.POST.get("confirm") != shown:
            reached = customers_in_use(hub=hub, tag=tag, ids=ids).order_by(
                Lower("last_name"), Lower("first_name"), "id"
            )
            count = reached.count()
            context["preview"] = {
                "confirm": shown,
                "count": count,
                "each": money_format(fields["amount_minor"], unit, reader_locale()),
                "total": money_format(fields["amount_minor"] * count, unit, reader_locale()),
                "names": [customer.full_name for customer in reached[:12]],
                "more": max(count - 12, 0),
            }
            return render(request, "crm/customers_credit_many.html", context)
        try:
            posted = customers_credit_apply(hub=hub, actor=request_user(request), tag=tag, ids=ids, **fields)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                ngettext("Credited %(count)s customer.", "Credited %(count)s customers.", len(posted))
                % {"count": len(posted)},
            )
            return redirect(f"{reverse('customer_index', args=[hub.slug])}?{selection['back'] if selection else ''}")
    return render(request, "crm/customers_credit_many.html", context)


def _credit_selection(request: HttpRequest, hub: Hub) -> dict[str, Any] | None:
    """The list's selection, when the form came from it: whom it names now (archived people
    aside), the fields that carry it through the form, and the list to go back to."""
    if request.method != "POST" or (request.POST.get("selection") != "1" and request.POST.get("from_list") != "1"):
        return None
    people, _described = selected_people(request, hub, request.POST)
    ids = sorted(people.filter(archived_at__isnull=True).values_list("id", flat=True))
    carried = [
        (name, value) for name in ("q", "c", "v", "j", "segment", "all", "p") for value in request.POST.getlist(name)
    ]
    return {"ids": ids, "count": len(ids), "fields": carried, "back": request.POST.get("back", "")}
