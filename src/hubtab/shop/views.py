"""The shop's pages for customers: the storefront, cart, checkout and their orders (crew's pages
are in crew_views). Views parse, check, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hubtab.core.access import request_user
from hubtab.core.dates import moment_short
from hubtab.core.errors import DomainError
from hubtab.core.money import reader_locale
from hubtab.crm.access import own_record_or_404
from hubtab.crm.models import Customer
from hubtab.payments.selectors import hub_takes_cards
from hubtab.shop.forms import (
    CheckoutForm,
)
from hubtab.shop.models import (
    CheckoutPayment,
    FulfilmentOption,
    RestMethod,
    Variant,
)
from hubtab.shop.presenters import (
    amount_text,
    credit_box,
    fulfilment_label,
    option_label,
    order_rows,
    order_view,
    price_label,
)
from hubtab.shop.selectors import (
    MAX_QUANTITY,
    CheckoutQuote,
    Pricer,
    cart_lines,
    cart_of,
    checkout_quote,
    cycle_next,
    cycles_open,
    order_get,
    order_list,
    product_list,
)
from hubtab.shop.services import (
    CheckoutDraft,
    cart_save,
    checkout_key,
    checkout_paid_place,
    checkout_paid_seen,
    checkout_topup_start,
    customer_may_cancel,
    order_cancel,
    order_place,
    rest_methods_for,
)


@login_required
@require_http_methods(["GET", "POST"])
def storefront(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """The hub's shop: the open cycle's products, with the customer's credit in sight."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    pricer = Pricer(hub)
    unit = pricer.unit
    items = cart_of(customer=record)
    if request.method == "POST":
        variant = (
            Variant.objects.filter(
                hub=hub, id=int_or_none(request.POST.get("variant")) or 0, active=True, product__active=True
            )
            .select_related("product")
            .first()
        )
        typed = request.POST.get("quantity")
        quantity = 1 if typed is None else _quantity(typed)  # the product card's button alone adds one
        if variant is None or quantity is None or not 1 <= quantity <= MAX_QUANTITY:
            messages.error(request, _("Choose a product and a quantity from 1 to %(max)s.") % {"max": MAX_QUANTITY})
        else:
            items[variant.id] = min(items.get(variant.id, 0) + quantity, MAX_QUANTITY)
            cart_save(customer=record, items=items)
            messages.success(
                request,
                _("Added %(quantity)s × %(name)s to your cart.")  # noqa: RUF001 (the multiplication sign)
                % {"quantity": quantity, "name": str(variant)},
            )
        return redirect(f"{reverse('shop', args=[hub.slug])}#product-{variant.product_id if variant else ''}")
    cycle = cycles_open(hub=hub).first()
    with timezone.override(hub.timezone):
        closes = moment_short(timezone.localtime(cycle.closes_at), reader_locale()) if cycle else ""
        upcoming = cycle_next(hub=hub)
        opens = moment_short(timezone.localtime(upcoming.opens_at), reader_locale()) if upcoming else ""
    products = [
        {
            "product": product,
            "variants": [
                {"variant": v, "price": price_label(pricer, v), "sold_out": v.stock == 0}
                for v in product.variants.all()
            ],
        }
        for product in (product_list(hub=hub, active_only=True) if cycle else [])
    ]
    return render(
        request,
        "shop/storefront.html",
        {
            "hub": hub,
            "cycle": cycle,
            "closes": closes,
            "opens": opens,
            "products": products,
            "credit": credit_box(hub, record, unit),
            "cart_count": sum(items.values()),
        },
    )


def _quantity(typed: str) -> int | None:
    """A quantity as typed: whole, in digits 0-9 ("1.5", "1e9", "abc" and "١٢" are not)."""
    text = typed.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _cart_view_lines(request: HttpRequest, record: Customer, pricer: Pricer) -> list[dict[str, Any]]:
    """The cart's lines, priced now; what is no longer for sale is taken out, with a word."""
    hub, unit = pricer.hub, pricer.unit
    items = cart_of(customer=record)
    if not items:
        return []
    sellable = set(
        Variant.objects.filter(hub=hub, id__in=list(items), active=True, product__active=True).values_list(
            "id", flat=True
        )
    )
    if set(items) - sellable:
        messages.info(request, _("Something in your cart is no longer for sale and was taken out."))
        items = {variant_id: quantity for variant_id, quantity in items.items() if variant_id in sellable}
        cart_save(customer=record, items=items)
    if not items:
        return []
    return [
        {
            "line": line,
            "price": price_label(pricer, line.variant),
            "total": amount_text(hub, unit, line.estimated_minor),
        }
        for line in cart_lines(hub=hub, items=items, pricer=pricer)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def cart(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """The cart: change quantities, remove, choose pickup or delivery, go to checkout."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    if request.method == "GET" and (paid := checkout_paid_seen(hub=hub, customer=record)) is not None:
        return _paid_checkout_outcome(request, record, paid)
    pricer = Pricer(hub)
    unit = pricer.unit
    if request.method == "POST":
        items = cart_of(customer=record)
        remove = int_or_none(request.POST.get("remove"))
        refused = False
        for variant_id in list(items):
            typed = request.POST.get(f"quantity_{variant_id}")
            quantity = items[variant_id] if typed is None else _quantity(typed)
            if variant_id == remove or quantity == 0:
                items.pop(variant_id)
            elif quantity is not None and 1 <= quantity <= MAX_QUANTITY:
                items[variant_id] = quantity
            else:
                refused = True  # that line stays as it was
        if refused:
            messages.error(
                request, _("Quantities are whole numbers from 0 (to remove) to %(max)s.") % {"max": MAX_QUANTITY}
            )
        cart_save(customer=record, items=items)
        return redirect("shop_cart", hub_slug=hub.slug)
    lines = _cart_view_lines(request, record, pricer)
    cycle = cycles_open(hub=hub).first()
    options = [(option, option_label(pricer, option)) for option in cycle.options.all()] if cycle else []
    return render(
        request,
        "shop/cart.html",
        {
            "hub": hub,
            "lines": lines,
            "cycle": cycle,
            "options": options,
            "subtotal": amount_text(hub, unit, sum(row["line"].estimated_minor for row in lines)),
            "has_weighed": any(row["line"].by_weight for row in lines),
            "credit": credit_box(hub, record, unit),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """The order's total and how the hub's payment policy pays it; blocked orders are offered a
    top-up of exactly what is missing, and the customer comes back here after paying."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    if (paid := checkout_paid_seen(hub=hub, customer=record)) is not None:  # placed while they were away
        return _paid_checkout_outcome(request, record, paid)
    pricer = Pricer(hub)
    unit = pricer.unit
    items = cart_of(customer=record)
    cycle = cycles_open(hub=hub).first()
    if not items or cycle is None:
        messages.info(request, _("Your cart is empty.") if cycle else _("The shop is closed for now."))
        return redirect("shop", hub_slug=hub.slug)
    options = list(cycle.options.all())
    option_id = int_or_none(request.POST.get("option") or request.GET.get("option"))
    option = next((o for o in options if o.id == option_id), options[0] if len(options) == 1 else None)
    if options and option is None:
        messages.info(request, _("Choose pickup or delivery."))
        return redirect("shop_cart", hub_slug=hub.slug)
    try:
        quote = checkout_quote(hub=hub, account_id=record.account_id, items=items, option=option)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("shop_cart", hub_slug=hub.slug)
    rest_methods = rest_methods_for(hub=hub, quote=quote)
    form = CheckoutForm(
        request.POST or None,
        initial={"key": checkout_key(), "option": option.id if option else None},
        options=[(o, option_label(pricer, o)) for o in options],
        rest_methods=rest_methods,
        fulfilment_kind=option.kind if option else "",
    )
    if request.method == "POST" and form.is_valid():
        rest_method = form.cleaned_data.get("rest_method") or ""
        if request.POST.get("do") == "topup" or rest_method == RestMethod.CARD:
            draft = CheckoutDraft(key=form.cleaned_data["key"], cycle_id=cycle.id, items=items,
                                  option_id=option.id if option else None)  # fmt: skip
            return _checkout_topup(request, record, quote, option, draft)
        try:
            order = order_place(
                hub=hub,
                customer=record,
                cycle_id=cycle.id,
                items=items,
                option_id=option.id if option else None,
                key=form.cleaned_data["key"],
                rest_method=rest_method,
            )
        except DomainError as exc:
            if exc.code == "checkout_used":  # an old tab: start again from the cart as it is now
                messages.error(request, exc.message)
                return redirect(reverse("shop_checkout", args=[hub.slug]) + (f"?option={option.id}" if option else ""))
            form.add_error(None, exc.message)
        else:
            cart_save(customer=record, items={})
            messages.success(request, _("Thank you: your order is placed."))
            return redirect("my_order", hub_slug=hub.slug, order_id=order.id)
    return render(
        request,
        "shop/checkout.html",
        {
            "hub": hub,
            "cycle": cycle,
            "option": option,
            "option_label": fulfilment_label(option.get_kind_display(), option.name) if option else "",
            "form": form,
            "quote": quote,
            "lines": [{"line": line, "total": amount_text(hub, unit, line.estimated_minor)} for line in quote.lines],
            "money": {
                name: amount_text(hub, unit, getattr(quote, f"{name}_minor"))
                for name in (
                    "subtotal",
                    "fee",
                    "carried",
                    "total",
                    "credit",
                    "own_credit",
                    "borrowed",
                    "rest",
                    "spendable",
                )
            },
            "credit": credit_box(hub, record, unit),
            "takes_cards": hub_takes_cards(hub=hub),
            "has_weighed": any(line.by_weight for line in quote.lines),
        },
    )


def _checkout_topup(
    request: HttpRequest, record: Customer, quote: CheckoutQuote, option: FulfilmentOption | None,
    draft: CheckoutDraft,
) -> HttpResponse:  # fmt: skip
    hub = record.hub
    back = reverse("shop_checkout", args=[hub.slug]) + (f"?option={option.id}" if option else "")
    try:
        payment = checkout_topup_start(hub=hub, customer=record, shortfall_minor=quote.rest_minor, draft=draft)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    # Once paid, the top-up's result page leads to the order, placed with this checkout's key.
    request.session[f"topup_next:{payment.id}"] = reverse("shop_checkout_paid", args=[hub.slug, payment.id])
    return redirect("topup_card", hub_slug=hub.slug, payment_id=payment.id)


@login_required
def checkout_paid(request: HttpRequest, hub_slug: str, payment_id: int) -> HttpResponse:
    """Back from paying a checkout: the order it placed, or why it could not be placed (the money
    is then on the customer's credit)."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    waiting = checkout_paid_place(hub=hub, payment_id=payment_id)
    if waiting is None or waiting.customer_id != record.id:
        raise Http404("No such checkout.")
    if waiting.finished_at is None:  # not paid (yet): the payment's own page says where it stands
        return redirect("topup_done", hub_slug=hub.slug, payment_id=payment_id)
    checkout_paid_seen(hub=hub, customer=record)
    return _paid_checkout_outcome(request, record, waiting)


def _paid_checkout_outcome(request: HttpRequest, record: Customer, waiting: CheckoutPayment) -> HttpResponse:
    """Show the customer what their paid checkout became; the cart it ordered is emptied."""
    hub = record.hub
    if waiting.order_id is not None:
        cart_save(customer=record, items={})
        messages.success(request, _("Thank you: your payment went through and your order is placed."))
        return redirect("my_order", hub_slug=hub.slug, order_id=waiting.order_id)
    messages.error(
        request,
        _("Your payment went through and the money is on your credit, but the order could not be placed: "
          "%(why)s") % {"why": waiting.failure},
    )  # fmt: skip
    return redirect("shop_cart", hub_slug=hub.slug)


@login_required
def my_orders(request: HttpRequest, hub_slug: str) -> HttpResponse:
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    rows = order_rows(hub, order_list(hub=hub, account_id=record.account_id))
    return render(request, "shop/my_orders.html", {"hub": hub, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def my_order(request: HttpRequest, hub_slug: str, order_id: int) -> HttpResponse:
    """My order: items as ordered and packed, and what happened to the money. While the cycle is
    open and the order not packed, I may cancel it myself."""
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    order = order_get(hub=hub, order_id=order_id, account_id=record.account_id)
    if order is None:
        raise Http404("No such order.")
    may_cancel = customer_may_cancel(order)
    if request.method == "POST" and request.POST.get("do") == "cancel":
        try:
            order_cancel(hub=hub, actor=request_user(request), order_id=order.id, reason=_("Cancelled by the customer"),
                         by_customer=True)  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your order is cancelled and its credit released."))
        return redirect("my_order", hub_slug=hub.slug, order_id=order.id)
    return render(request, "shop/my_order.html", {"hub": hub, **order_view(hub, order), "may_cancel": may_cancel})
