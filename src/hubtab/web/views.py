"""Pages: thin views that check who may look, call selectors and render."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubtab.accounts.forms import BundleForm, CreditSettingsForm, CreditUnitForm, UnitPriceForm
from hubtab.accounts.selectors import (
    bundle_list,
    credit_settings_of,
    credit_unit_of,
    topup_quote,
    unit_price_list,
    unit_price_text,
)
from hubtab.accounts.services import (
    bundle_archive,
    bundle_create,
    credit_settings_update,
    credit_unit_choose,
    unit_price_remove,
    unit_price_set,
)
from hubtab.billing.debtors import overdue_overview
from hubtab.core.access import hub_view, may, request_user
from hubtab.core.dates import day_short, moment_recent
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import Unit, currency_unit, money_format, reader_locale, unit_get
from hubtab.core.permissions import Permission, permissions_for
from hubtab.core.selectors import hub_list_for_user, membership_roles
from hubtab.crm.note_presenters import follow_up_lines
from hubtab.crm.selectors import customers_by_account, follow_ups_due, running_low_count, tag_names
from hubtab.ledger.labels import posting_label
from hubtab.ledger.selectors import (
    account_flows_by_week,
    account_list,
    activity_newest,
    holder_totals,
    holders_have_moved,
    system_account_ids,
)
from hubtab.ledger.types import AccountKind, SystemAccount
from hubtab.payments.selectors import transfer_list
from hubtab.shop.selectors import orders_open_count

if TYPE_CHECKING:
    from hubtab.ledger.models import Account

CHART_WEEKS = 8


@login_required
def home(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    hubs = list(hub_list_for_user(user=request.user))
    roles_by_hub = {hub.id: membership_roles(hub=hub, user=request.user) for hub in hubs}
    crew_hubs = [hub for hub in hubs if Permission.VIEW_ACCOUNTS in permissions_for(roles_by_hub[hub.id])]
    if not crew_hubs:
        return redirect("portal")  # a customer's home is their own accounts
    if len(hubs) == 1:
        return redirect("dashboard", slug=hubs[0].slug)
    return render(request, "web/home.html", {"hubs": crew_hubs, "is_customer_somewhere": len(crew_hubs) < len(hubs)})


@hub_view(Permission.VIEW_ACCOUNTS)
def hub_accounts(request: HttpRequest, hub: Hub) -> HttpResponse:
    customers = account_list(hub_id=hub.id).exclude(kind=AccountKind.SYSTEM).order_by("name")
    page = Paginator(customers, 50).get_page(request.GET.get("page"))
    books = account_list(hub_id=hub.id, kind=AccountKind.SYSTEM).order_by("name")
    formatter = _Formatter(hub)
    return render(
        request,
        "web/hub_accounts.html",
        {
            "hub": hub,
            "page": page,
            "customer_rows": [formatter.row(account) for account in page],
            "book_rows": [formatter.row(account) for account in books],
        },
    )


class _Formatter:
    """Formats account figures in the hub's locale, looking each unit up once."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.units: dict[str, Unit] = {}

    def money(self, amount_minor: int, code: str) -> str:
        if code not in self.units:
            self.units[code] = unit_get(hub_id=self.hub.id, code=code)
        return money_format(amount_minor, self.units[code], reader_locale())

    def row(self, account: Account) -> dict[str, object]:
        balance_minor = getattr(account, "balance_minor", 0) or 0
        held_minor = getattr(account, "held_minor", 0) or 0
        floor_minor = account.floor_minor
        return {
            "account": account,
            "balance": self.money(balance_minor, account.unit),
            "held": self.money(held_minor, account.unit) if held_minor else "",
            "floor": self.money(floor_minor, account.unit) if floor_minor else "",
            "in_debt": balance_minor < 0,
        }


@hub_view(Permission.VIEW_ACCOUNTS)
def dashboard(request: HttpRequest, hub: Hub) -> HttpResponse:
    """The hub's overview: the credit it holds, money in and out by week, who runs low, what just happened."""
    unit = credit_unit_of(hub=hub)
    low_minor = credit_settings_of(hub=hub).low_balance_minor
    totals = holder_totals(hub_id=hub.id, unit=unit.code, low_minor=low_minor)
    activity = activity_newest(hub_id=hub.id, limit=10)
    customers = customers_by_account(hub=hub, account_ids=[line.account_id for line in activity])
    today = timezone.localdate(timezone=ZoneInfo(hub.timezone))
    follow_ups = (
        follow_up_lines(notes=follow_ups_due(hub=hub, today=today), today=today)
        if may(request, Permission.VIEW_CUSTOMERS)
        else []
    )
    # Finance's figure: who is overdue, linking to the page where they settle it.
    overdue = overdue_overview(hub=hub) if may(request, Permission.MOVE_MONEY) else None
    return render(
        request,
        "web/dashboard.html",
        {
            "hub": hub,
            "overdue": overdue,
            "overdue_owed": money_format(overdue.owed_minor, unit, reader_locale()) if overdue else "",
            "credit": money_format(totals.credit_minor, unit, reader_locale()),
            "debt": money_format(totals.debt_minor, unit, reader_locale()),
            "has_debt": totals.debt_minor > 0,
            "accounts": totals.accounts,
            "running_low": running_low_count(hub=hub),
            "low_threshold": money_format(low_minor, unit, reader_locale()),
            "chart": _weekly_chart(hub, unit),
            "transfers_waiting": transfer_list(hub=hub).count(),
            "orders_open": orders_open_count(hub=hub),
            "follow_ups": follow_ups,
            "activity": [
                {
                    "customer": customers.get(line.account_id),
                    "name": line.account_name,
                    "what": posting_label(kind=line.kind, key=line.key, memo=line.memo),
                    "amount": money_format(line.amount_minor, unit, reader_locale()),
                    "negative": line.amount_minor < 0,
                    "when": moment_recent(timezone.localtime(line.posted_at), reader_locale()),
                }
                for line in activity
            ],
        },
    )


def _weekly_chart(hub: Hub, unit: Unit) -> dict[str, Any]:
    """Top-ups (money paid in) against spending (sales) per week, as bar geometry for an SVG."""
    tz = ZoneInfo(hub.timezone)
    today = timezone.localdate(timezone=tz)
    first = today - timedelta(days=today.weekday(), weeks=CHART_WEEKS - 1)
    since = datetime.combine(first, time.min, tzinfo=tz)
    paid_in = account_flows_by_week(
        hub_id=hub.id,
        account_ids=system_account_ids(
            hub_id=hub.id,
            # In named credits, what customers bought is what the hub issued.
            codes=[SystemAccount.PAYMENTS_CLEARING, SystemAccount.EXTERNAL_PAYMENTS]
            if unit.is_currency
            else [SystemAccount.CREDIT_ISSUED],
            unit=unit.code,
        ),
        since=since,
        tz=tz,
    )
    sales = account_flows_by_week(
        hub_id=hub.id,
        account_ids=system_account_ids(hub_id=hub.id, codes=[SystemAccount.SALES], unit=unit.code),
        since=since,
        tz=tz,
    )
    weeks = [first + timedelta(weeks=n) for n in range(CHART_WEEKS)]
    # Money paid in leaves the clearing accounts (their debits); spending is what sales took.
    series = [(week, paid_in.get(week, (0, 0))[1], sales.get(week, (0, 0))[0]) for week in weeks]
    top = max([1, *(max(top_ups, spent) for _, top_ups, spent in series)])
    height, slot, bar = 160, 80, 28
    bars = []
    for n, (week, top_ups, spent) in enumerate(series):
        x = 70 + n * slot + (slot - 2 * bar - 2) // 2
        h_in, h_out = round(height * top_ups / top), round(height * spent / top)
        bars.append(
            {
                "label": day_short(week, reader_locale()),
                "x_in": x,
                "x_out": x + bar + 2,
                "x_label": x + bar + 1,
                "y_in": 10 + height - h_in,
                "h_in": h_in,
                "y_out": 10 + height - h_out,
                "h_out": h_out,
                "top_ups": money_format(top_ups, unit, reader_locale()),
                "spent": money_format(spent, unit, reader_locale()),
            }
        )
    return {
        "bars": bars,
        "width": 70 + CHART_WEEKS * slot,
        "base_y": 10 + height,
        "label_y": 10 + height + 18,
        "top": money_format(top, unit, reader_locale()),
        "empty": all(top_ups == 0 and spent == 0 for _, top_ups, spent in series),
    }


@hub_view(Permission.MOVE_MONEY)
def credit_settings(request: HttpRequest, hub: Hub) -> HttpResponse:
    """The hub's credit rules (owner and finance), and applying the spending limit to customers."""
    unit = credit_unit_of(hub=hub)
    current = credit_settings_of(hub=hub)
    form = CreditSettingsForm(request.POST or None, unit=unit, initial=CreditSettingsForm.initial_from(current, unit))
    if request.method == "POST" and form.is_valid() and (fields := form.for_service()) is not None:
        try:
            credit_settings_update(hub=hub, actor=request_user(request), **fields)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Credit settings saved."))
            return redirect("credit_settings", slug=hub.slug)
    return _credit_settings_page(request, hub, unit, form=form)


def _credit_settings_page(request: HttpRequest, hub: Hub, unit: Unit, **bound: forms.Form) -> HttpResponse:
    """The settings page, with any form that was just sent shown as sent (with its errors)."""
    locked = holders_have_moved(hub_id=hub.id, unit=unit.code)
    if "form" not in bound:
        current = credit_settings_of(hub=hub)
        bound["form"] = CreditSettingsForm(unit=unit, initial=CreditSettingsForm.initial_from(current, unit))
    unit_initial = {"named": "no" if unit.is_currency else "yes", "decimals": unit.decimals}
    if not unit.is_currency:
        unit_initial |= {"code": unit.code, "name": unit.name}
    forms_shown = {
        "unit_form": CreditUnitForm(currency=hub.currency, locked=locked, initial=unit_initial),
        "price_form": UnitPriceForm(unit=unit, initial={"currency": hub.currency}),
        "bundle_form": BundleForm(unit=unit, initial={"currency": hub.currency}),
    } | bound
    prices = [
        {"currency": price.currency, "text": unit_price_text(price=price, unit=unit, locale=reader_locale())}
        for price in unit_price_list(hub=hub, unit=unit)
    ]
    bundles = []
    for bundle in bundle_list(hub=hub, unit=unit):
        bonus_minor = bundle.credits_minor - _worth(hub, bundle.currency, bundle.price_minor)
        bundles.append(
            {
                "id": bundle.id,
                "name": bundle.name,
                "pays": money_format(bundle.price_minor, currency_unit(bundle.currency), reader_locale()),
                "gets": money_format(bundle.credits_minor, unit, reader_locale()),
                "bonus": money_format(bonus_minor, unit, reader_locale()) if bonus_minor > 0 else "",
            }
        )
    return render(
        request,
        "accounts/credit_settings.html",
        {"hub": hub, "unit": unit, "locked": locked, "prices": prices, "bundles": bundles,
         "tags": tag_names(hub=hub)} | forms_shown,
    )  # fmt: skip


def _worth(hub: Hub, currency: str, price_minor: int) -> int:
    """What a price buys at the hub's rate, without bundle or bonus (0 where it has no rate now)."""
    try:
        quote = topup_quote(hub=hub, currency=currency, price_minor=price_minor)
    except DomainError:
        return 0
    return quote.paid_minor


@hub_view(Permission.MOVE_MONEY)
@require_POST
def credit_unit_view(request: HttpRequest, hub: Hub) -> HttpResponse:
    unit = credit_unit_of(hub=hub)
    locked = holders_have_moved(hub_id=hub.id, unit=unit.code)
    initial = {"named": "no" if unit.is_currency else "yes", "code": "" if unit.is_currency else unit.code,
               "decimals": unit.decimals}  # fmt: skip
    form = CreditUnitForm(request.POST, currency=hub.currency, locked=locked, initial=initial)
    if form.is_valid():
        try:
            chosen = credit_unit_choose(hub=hub, actor=request_user(request), **form.for_service())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Customers' credit counts in %(unit)s.") % {"unit": chosen.name})
            return redirect("credit_settings", slug=hub.slug)
    return _credit_settings_page(request, hub, unit, unit_form=form)


@hub_view(Permission.MOVE_MONEY)
@require_POST
def unit_price_view(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Set the price of the hub's credits in a currency, or stop selling them in it."""
    unit = credit_unit_of(hub=hub)
    if "remove" in request.POST:
        try:
            unit_price_remove(hub=hub, actor=request_user(request), currency=request.POST["remove"])
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("credit_settings", slug=hub.slug)
    form = UnitPriceForm(request.POST, unit=unit)
    if form.is_valid() and (fields := form.for_service()) is not None:
        try:
            unit_price_set(hub=hub, actor=request_user(request), **fields)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Price saved."))
            return redirect("credit_settings", slug=hub.slug)
    return _credit_settings_page(request, hub, unit, price_form=form)


@hub_view(Permission.MOVE_MONEY)
@require_POST
def bundle_create_view(request: HttpRequest, hub: Hub) -> HttpResponse:
    unit = credit_unit_of(hub=hub)
    form = BundleForm(request.POST, unit=unit)
    if form.is_valid() and (fields := form.for_service()) is not None:
        try:
            bundle_create(hub=hub, actor=request_user(request), **fields)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Bundle added: customers get it when they pay its price."))
            return redirect("credit_settings", slug=hub.slug)
    return _credit_settings_page(request, hub, unit, bundle_form=form)


@hub_view(Permission.MOVE_MONEY)
@require_POST
def bundle_archive_view(request: HttpRequest, hub: Hub, bundle_id: int) -> HttpResponse:
    try:
        bundle_archive(hub=hub, actor=request_user(request), bundle_id=bundle_id)
    except DomainError as exc:
        if exc.code == "not_found":
            raise Http404(exc.message) from exc
        raise
    messages.success(request, _("Bundle removed; credit bought with it stays."))
    return redirect("credit_settings", slug=hub.slug)
