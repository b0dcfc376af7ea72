"""Pages for paying in: the customer's top-up (choose, card, result), the owner's Stripe keys, and
the gateway's webhook endpoint."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from hubtab.accounts.selectors import bundle_list, credit_settings_of, credit_unit_of, topup_quote
from hubtab.core.access import hub_view, may, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import Unit, currency_unit, minor_to_decimal, money_format, reader_locale
from hubtab.core.permissions import Permission
from hubtab.crm.access import own_record_or_404
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_state
from hubtab.payments.forms import AutoTopUpForm, GatewayForm, RefundForm, TopUpForm
from hubtab.payments.gateway import stripe_js_url
from hubtab.payments.models import GatewayAccount, Payment, PaymentMethod, PaymentStatus, RefundStatus
from hubtab.payments.selectors import auto_top_up_of, hub_takes_cards, payment_list, saved_card_list, transfer_list
from hubtab.payments.services import (
    WebhookRefused,
    auto_top_up_set,
    card_setup_finish,
    card_setup_start,
    gateway_account_set,
    payment_confirmation_secret,
    payment_refresh,
    payment_refund,
    topup_card_form,
    topup_charge,
    topup_start,
    transfer_cancel,
    transfer_confirm,
    transfer_reference,
    webhook_receive,
)

log = logging.getLogger(__name__)

AMOUNT_ASKED_MAX = 10**12  # as the API's largest amount


def _own_payment(record: Customer, payment_id: int) -> Payment:
    payment = Payment.objects.filter(hub=record.hub, account_id=record.account_id, id=payment_id).first()
    if payment is None:
        raise Http404("No such payment.")
    return payment


def _what_it_buys(hub: Hub, unit: Unit, payment: Payment) -> dict[str, Any]:
    return {
        "is_currency": unit.is_currency,  # "20 € of credit", but "550 kai credits" alone
        "pays": money_format(payment.price_minor, currency_unit(payment.currency), reader_locale()),
        "gets": money_format(payment.paid_minor + payment.bonus_minor, unit, reader_locale()),
        "bonus": money_format(payment.bonus_minor, unit, reader_locale()) if payment.bonus_minor else "",
        "bundle": payment.bundle_name,
    }


def _choices(hub: Hub, unit: Unit) -> list[tuple[str, str]]:
    """The preset amounts and the bundles, each saying what it costs and what it gives."""
    choices = []
    money = currency_unit(hub.currency)
    bundles = list(bundle_list(hub=hub, unit=unit, currency=hub.currency))
    for preset in credit_settings_of(hub=hub).topup_presets_minor:
        try:
            quote = topup_quote(hub=hub, currency=hub.currency, credits_minor=preset)
        except DomainError:
            continue  # no price in this currency (yet): not offered
        if quote.bundle_id:
            continue  # costs what a bundle costs: the bundle's own line offers it
        # Each choice says what is paid and what is got: "Pay £10.00, get £10.50 (£0.50 bonus)".
        label = _("Pay %(price)s, get %(credit)s") % {
            "price": money_format(quote.price_minor, money, reader_locale()),
            "credit": money_format(quote.total_minor, unit, reader_locale()),
        }
        if quote.bonus_minor:
            label += " " + _("(%(bonus)s bonus)") % {"bonus": money_format(quote.bonus_minor, unit, reader_locale())}
        choices.append((f"amount:{preset}", label))
    for bundle in bundles:
        label = _("%(name)s: pay %(price)s, get %(credit)s") % {
            "name": bundle.name,
            "price": money_format(bundle.price_minor, money, reader_locale()),
            "credit": money_format(bundle.credits_minor, unit, reader_locale()),
        }
        choices.append((f"bundle:{bundle.price_minor}", label))
    return choices


def _amount_asked(request: HttpRequest, unit: Unit) -> dict[str, Any]:
    """The amount a link asks to pay (`?amount_minor=1550`, in minor units of the hub's credit unit,
    e.g. "pay now" for a scheduled payment), as the form's "another amount"; anything that is not a
    whole number from 1 to 10^12 is ignored and the page opens empty."""
    asked = request.GET.get("amount_minor", "")
    if not (asked.isascii() and asked.isdigit() and len(asked) <= 13) or not 0 < int(asked) <= AMOUNT_ASKED_MAX:
        return {}
    return {"choice": "other", "other": minor_to_decimal(int(asked), unit)}


@login_required
@require_http_methods(["GET", "POST"])
def topup(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """The customer chooses how much to top up."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    unit = credit_unit_of(hub=hub)
    settings_row = credit_settings_of(hub=hub)
    takes_cards = hub_takes_cards(hub=hub)
    takes_transfers = settings_row.takes_bank_transfers
    state = account_state(hub_id=hub.id, account_id=record.account_id)
    form = TopUpForm(request.POST or None, unit=unit, choices=_choices(hub, unit),
                     initial=_amount_asked(request, unit))  # fmt: skip
    method = PaymentMethod.BANK_TRANSFER if request.POST.get("method") == "bank_transfer" else PaymentMethod.CARD
    if request.method == "POST" and form.is_valid() and (fields := form.for_service()) is not None:
        # Paying exactly what is owed (a scheduled payment's "pay now") is paid whatever the hub's
        # smallest top-up, as an order's shortfall is: small debts are the ones left to chase.
        owed_minor = max(-state.balance_minor, 0)
        pays_debt = owed_minor > 0 and fields.get("credits_minor") == owed_minor
        try:
            payment = topup_start(hub=hub, customer=record, actor=request_user(request), method=method,
                                  for_shortfall=pays_debt, **fields)  # fmt: skip
        except DomainError as exc:
            form.add_error("other" if exc.code == "invalid_amount" else None, exc.message)
        else:
            if method == PaymentMethod.BANK_TRANSFER:
                return redirect("topup_done", hub_slug=hub.slug, payment_id=payment.id)
            return redirect("topup_card", hub_slug=hub.slug, payment_id=payment.id)
    return render(
        request,
        "payments/topup.html",
        {
            "hub": hub,
            "form": form,
            "takes_cards": takes_cards,
            "takes_transfers": takes_transfers,
            "balance": money_format(state.balance_minor, unit, reader_locale()),
            "limits": {
                "min": money_format(settings_row.topup_min_minor, unit, reader_locale()),
                "max": money_format(settings_row.topup_max_minor, unit, reader_locale()),
            },
        },
    )


@login_required
def topup_card(request: HttpRequest, hub_slug: str, payment_id: int) -> HttpResponse:
    """The gateway's card form (Stripe.js) for a top-up; the card goes to the gateway only."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    payment = _own_payment(record, payment_id)
    if payment.status != PaymentStatus.CREATED or payment.payment_method_ref:
        return redirect("topup_done", hub_slug=hub.slug, payment_id=payment.id)
    try:
        client_secret = topup_card_form(hub=hub, payment=payment)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("topup", hub_slug=hub.slug)
    gateway = GatewayAccount.objects.get(hub=hub)
    return render(
        request,
        "payments/topup_card.html",
        {
            "hub": hub,
            "payment": payment,
            "what": _what_it_buys(hub, credit_unit_of(hub=hub), payment),
            "stripe_js": stripe_js_url(),
            "publishable_key": gateway.publishable_key,
            "client_secret": client_secret,
        },
    )


@login_required
@require_POST
def topup_pay(request: HttpRequest, hub_slug: str, payment_id: int) -> HttpResponse:
    """The card is in the gateway: charge it (once, however often this is sent)."""
    record = own_record_or_404(request, hub_slug)
    payment = _own_payment(record, payment_id)
    try:
        topup_charge(hub=record.hub, payment_id=payment.id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("topup", hub_slug=hub_slug)
    return redirect("topup_done", hub_slug=hub_slug, payment_id=payment.id)


@login_required
def topup_done(request: HttpRequest, hub_slug: str, payment_id: int) -> HttpResponse:
    """How the top-up went, as the gateway says now; the bank's check, when it asks for one."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    try:
        payment = payment_refresh(hub=hub, payment=_own_payment(record, payment_id))
    except DomainError as exc:  # e.g. the gateway's amount differs: logged, nothing credited
        messages.error(request, exc.message)
        payment = _own_payment(record, payment_id)
    next_url = request.session.get(f"topup_next:{payment.id}", "")
    if next_url and payment.status == PaymentStatus.SUCCEEDED:
        return redirect(next_url)  # a checkout waiting for this payment shows its order
    unit = credit_unit_of(hub=hub)
    context: dict[str, Any] = {
        "hub": hub,
        "payment": payment,
        "what": _what_it_buys(hub, unit, payment),
        "balance": money_format(account_state(hub_id=hub.id, account_id=record.account_id).balance_minor, unit,
                                reader_locale()),
        "transfer": {"reference": transfer_reference(payment),
                     "details": credit_settings_of(hub=hub).bank_transfer_details},
        # A top-up started from a page that waits for it (the shop's checkout) leads back there.
        "next_url": next_url,
    }  # fmt: skip
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        client_secret = payment_confirmation_secret(hub=hub, payment=payment)
        if client_secret is None:  # the gateway cannot be asked now: shown as being confirmed
            payment.status = PaymentStatus.UNKNOWN
            return render(request, "payments/topup_done.html", context)
        gateway = GatewayAccount.objects.get(hub=hub)
        context |= {
            "stripe_js": stripe_js_url(),
            "publishable_key": gateway.publishable_key,
            "client_secret": client_secret,
            "return_url": reverse("topup_done", args=[hub.slug, payment.id]),
        }
    return render(request, "payments/topup_done.html", context)


@hub_view(Permission.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def gateway_settings(request: HttpRequest, hub: Hub) -> HttpResponse:
    """The owner enters the hub's Stripe keys; the secret ones are never shown back in full."""
    current = GatewayAccount.objects.filter(hub=hub).first()
    form = GatewayForm(request.POST or None, initial={"publishable_key": current.publishable_key if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            gateway_account_set(hub=hub, actor=request_user(request), **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Stripe keys saved."))
            return redirect("gateway_settings", slug=hub.slug)
    return render(
        request,
        "payments/gateway_settings.html",
        {
            "hub": hub,
            "form": form,
            "current": current,
            "webhook_url": f"{settings.HUBTAB_BASE_URL}{reverse('stripe_webhook', args=[hub.slug])}",
        },
    )


@csrf_exempt  # signed by the gateway instead
@require_POST
def stripe_webhook(request: HttpRequest, hub_slug: str) -> HttpResponse:
    try:
        outcome = webhook_receive(
            hub_slug=hub_slug, payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except WebhookRefused as refused:
        log.warning("stripe webhook refused (%s): %s", refused.status, refused.reason)
        return JsonResponse({"error": refused.reason}, status=refused.status)
    log.info("stripe webhook: %s", outcome)
    return JsonResponse({"ok": outcome})


@hub_view(Permission.VIEW_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def customer_payments(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """A customer's card payments, refunds and saved cards; finance refunds a payment to its card."""
    customer = Customer.objects.filter(hub=hub).filter(id=customer_id).first()
    if customer is None:
        raise Http404("No such customer.")
    money = currency_unit(hub.currency)
    refund_forms: dict[int, RefundForm] = {}
    if request.method == "POST":
        if not may(request, Permission.MOVE_MONEY):
            raise PermissionDenied("Your role does not move money.")
        payment_id = int(request.POST.get("payment", "0") or 0)
        form = RefundForm(request.POST, currency=money, prefix=f"p{payment_id}")
        refund_forms[payment_id] = form
        if form.is_valid() and (fields := form.for_service()) is not None:
            try:
                refund = payment_refund(hub=hub, actor=request_user(request), payment_id=payment_id, **fields)
            except DomainError as exc:
                form.add_error("amount", exc.message)
            else:
                if refund.status == RefundStatus.FAILED:
                    messages.error(request, _("The card refund was refused: %(why)s. The credit is back.")
                                   % {"why": refund.failure_message})  # fmt: skip
                else:
                    messages.success(request, _("Refund sent to the card; the paid credit was taken back."))
                return redirect("customer_payments", slug=hub.slug, customer_id=customer.id)
    unit = credit_unit_of(hub=hub)
    payments = []
    for payment in payment_list(hub=hub, account_id=customer.account_id):
        left = payment.card_refundable_minor
        refundable = left > 0
        form = refund_forms.get(payment.id) or RefundForm(
            currency=money, initial={"amount": minor_to_decimal(left, money)}, prefix=f"p{payment.id}"
        )
        payments.append({
            "payment": payment,
            "what": _what_it_buys(hub, unit, payment),
            "refunded": money_format(payment.refunded_minor, money, reader_locale()) if payment.refunded_minor else "",
            "refund_form": form if refundable else None,
            "refunds": list(payment.refunds.all()),
        })  # fmt: skip
    return render(
        request,
        "payments/customer_payments.html",
        {"hub": hub, "customer": customer, "payments": payments,
         "cards": saved_card_list(hub=hub, account_id=customer.account_id)},
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def auto_top_up(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """The customer's standing order: top up from a saved card below a line, or every week or month."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    unit = credit_unit_of(hub=hub)
    cards = [
        (card.id, _("%(brand)s ending %(last4)s, expires %(month)s/%(year)s")
         % {"brand": card.brand.title(), "last4": card.last4, "month": card.exp_month, "year": card.exp_year})
        for card in saved_card_list(hub=hub, account_id=record.account_id)
    ]  # fmt: skip
    rule = auto_top_up_of(hub=hub, account_id=record.account_id)
    initial: dict[str, Any] = {"active": True, "kind": "threshold"}
    if rule is not None:
        initial = {
            "active": rule.active, "card": rule.card_id, "kind": rule.kind, "period": rule.period,
            **{name: minor_to_decimal(getattr(rule, f"{name}_minor"), unit)
               for name in ("threshold", "target", "amount") if getattr(rule, f"{name}_minor") is not None},
        }  # fmt: skip
    form = AutoTopUpForm(request.POST or None, unit=unit, cards=cards, initial=initial)
    if request.method == "POST" and cards and form.is_valid() and (fields := form.for_service()) is not None:
        try:
            auto_top_up_set(hub=hub, customer=record, **fields)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Automatic top-up saved."))
            return redirect("auto_top_up", hub_slug=hub.slug)
    return render(request, "payments/auto_top_up.html", {"hub": hub, "form": form, "cards": cards, "unit": unit})


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["GET", "POST"])
def transfers(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Bank transfers customers announced: finance confirms each when the money is in the account."""
    if request.method == "POST":
        action = transfer_confirm if request.POST.get("do") == "confirm" else transfer_cancel
        try:
            payment = action(hub=hub, actor=request_user(request), payment_id=int(request.POST.get("payment") or 0))
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", _("Choose a transfer.")))
        else:
            status = payment.get_status_display()
            messages.success(request, _("Transfer %(ref)s: %(status)s.") % {"ref": transfer_reference(payment),
                                                                          "status": status})  # fmt: skip
        return redirect("transfers", slug=hub.slug)
    unit = credit_unit_of(hub=hub)
    waiting = [
        {"payment": payment, "reference": transfer_reference(payment), "what": _what_it_buys(hub, unit, payment)}
        for payment in transfer_list(hub=hub)
    ]
    return render(request, "payments/transfers.html", {"hub": hub, "waiting": waiting})


def _card_page(request: HttpRequest, hub: Hub, customer: Customer, back_url: str, actor_is_crew: bool) -> HttpResponse:
    if request.method == "POST":
        try:
            card = card_setup_finish(hub=hub, customer=customer, setup_ref=request.POST.get("setup", ""),
                                     actor=request_user(request))  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Card saved: %(brand)s ending %(last4)s.")
                             % {"brand": card.brand.title(), "last4": card.last4})  # fmt: skip
            return redirect(back_url)
    context: dict[str, Any] = {"hub": hub, "customer": customer, "back_url": back_url, "crew": actor_is_crew}
    try:
        setup_ref, client_secret = card_setup_start(hub=hub, customer=customer)
    except DomainError as exc:  # no gateway, or it does not answer: say so on the page
        return render(request, "payments/card_setup.html", context | {"unavailable": exc.message})
    gateway = GatewayAccount.objects.get(hub=hub)
    context |= {"setup_ref": setup_ref, "client_secret": client_secret, "publishable_key": gateway.publishable_key,
                "stripe_js": stripe_js_url()}  # fmt: skip
    return render(request, "payments/card_setup.html", context)


@hub_view(Permission.MOVE_MONEY)
@require_http_methods(["GET", "POST"])
def customer_card_setup(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """Finance saves a new card for a customer on the phone (the card goes to Stripe only)."""
    customer = Customer.objects.filter(hub=hub).filter(id=customer_id).first()
    if customer is None:
        raise Http404("No such customer.")
    return _card_page(request, hub, customer, reverse("customer_payments", args=[hub.slug, customer.id]), True)


@login_required
@require_http_methods(["GET", "POST"])
def my_card_setup(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """The customer saves a new card (e.g. when the old one expires); then back to their automatic
    top-up, or to their account page when they came from there (`?back=account`: upcoming payments)."""
    record = own_record_or_404(request, hub_slug)
    back = "portal_hub" if request.GET.get("back") == "account" else "auto_top_up"
    return _card_page(request, record.hub, record, reverse(back, args=[hub_slug]), False)
