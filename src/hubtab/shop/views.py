"""The shop's pages: for customers the storefront, cart, checkout and their orders; for crew the
catalogue, order cycles, packing and completion. Views parse, check, call a service, render."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from hubtab.accounts.selectors import credit_unit_of
from hubtab.core.access import hub_view, request_user
from hubtab.core.dates import moment_short
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import Unit, currency_unit, minor_to_decimal, money_format, reader_locale
from hubtab.core.permissions import ORDER_ACTIONS, OrderAction, Permission
from hubtab.crm.access import own_record_or_404
from hubtab.crm.models import Customer
from hubtab.crm.selectors import customer_get
from hubtab.ledger.selectors import account_state
from hubtab.payments.selectors import hub_takes_cards
from hubtab.shop.forms import (
    CheckoutForm,
    CompleteForm,
    CycleForm,
    ExtraForm,
    FulfilmentForm,
    PackForm,
    ProductForm,
    RefundForm,
    TierForm,
    VariantForm,
    amount_minor_of,
    fresh_key,
)
from hubtab.shop.models import (
    CREW_EVENT_LABELS,
    CheckoutPayment,
    FulfilmentOption,
    Order,
    OrderStatus,
    RestMethod,
    Variant,
)
from hubtab.shop.selectors import (
    MAX_QUANTITY,
    CheckoutQuote,
    Pricer,
    cart_lines,
    cart_of,
    checkout_quote,
    cycle_get,
    cycle_list,
    cycle_next,
    cycle_totals,
    cycles_open,
    order_events,
    order_final_minor,
    order_get,
    order_lines,
    order_list,
    product_get,
    product_list,
    tier_list,
)
from hubtab.shop.services import (
    BulkAction,
    CheckoutDraft,
    cart_save,
    checkout_key,
    checkout_paid_place,
    checkout_paid_seen,
    checkout_topup_start,
    customer_may_cancel,
    cycle_save,
    fulfilment_add,
    money_to_collect,
    order_cancel,
    order_complete,
    order_extra_add,
    order_pack,
    order_paid_by_hand,
    order_place,
    order_refund,
    orders_bulk,
    product_save,
    refundable_minor,
    rest_methods_for,
    tier_save,
    variant_save,
)

# --- the customer's side --------------------------------------------------------------------------


def _money(hub: Hub, unit: Unit, amount_minor: int) -> str:
    return money_format(amount_minor, unit, reader_locale())


def _credit_box(hub: Hub, record: Customer, unit: Unit) -> dict[str, Any]:
    """What the customer can spend, kept in sight on every shop page."""
    state = account_state(hub_id=hub.id, account_id=record.account_id)
    return {
        "spendable": _money(hub, unit, state.spendable_minor or 0),
        "balance": _money(hub, unit, state.balance_minor),
        "held": _money(hub, unit, state.held_minor) if state.held_minor else "",
        "in_debt": state.balance_minor < 0,
    }


def _price_label(pricer: Pricer, variant: Variant) -> str:
    price = _money(pricer.hub, pricer.unit, pricer.variant(variant))
    if variant.by_weight:
        return _("%(price)s / kg, about %(grams)s g each") % {
            "price": price,
            "grams": format_decimal(variant.estimated_grams or 0, locale=reader_locale()),
        }
    return price


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
            Variant.objects.with_scopes_disabled()
            .filter(hub=hub, id=_int(request.POST.get("variant")), active=True, product__active=True)
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
                {"variant": v, "price": _price_label(pricer, v), "sold_out": v.stock == 0}
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
            "credit": _credit_box(hub, record, unit),
            "cart_count": sum(items.values()),
        },
    )


def _quantity(typed: str) -> int | None:
    """A quantity as typed: whole, in digits 0-9 ("1.5", "1e9", "abc" and "١٢" are not)."""
    text = typed.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def _int(value: object) -> int | None:
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
        Variant.objects.with_scopes_disabled()
        .filter(hub=hub, id__in=list(items), active=True, product__active=True)
        .values_list("id", flat=True)
    )
    if set(items) - sellable:
        messages.info(request, _("Something in your cart is no longer for sale and was taken out."))
        items = {variant_id: quantity for variant_id, quantity in items.items() if variant_id in sellable}
        cart_save(customer=record, items=items)
    if not items:
        return []
    return [
        {"line": line, "price": _price_label(pricer, line.variant), "total": _money(hub, unit, line.estimated_minor)}
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
        remove = _int(request.POST.get("remove"))
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
    options = [(option, _option_label(pricer, option)) for option in cycle.options.all()] if cycle else []
    return render(
        request,
        "shop/cart.html",
        {
            "hub": hub,
            "lines": lines,
            "cycle": cycle,
            "options": options,
            "subtotal": _money(hub, unit, sum(row["line"].estimated_minor for row in lines)),
            "has_weighed": any(row["line"].by_weight for row in lines),
            "credit": _credit_box(hub, record, unit),
        },
    )


def _option_label(pricer: Pricer, option: FulfilmentOption) -> str:
    hub, unit = pricer.hub, pricer.unit
    fee = pricer.fee(option)
    kind = option.get_kind_display()
    if not fee:
        return _fulfilment(kind, option.name)
    return _("%(kind)s: %(name)s (%(fee)s)") % {"kind": kind, "name": option.name, "fee": _money(hub, unit, fee)}


def _fulfilment(kind: str, name: str) -> str:
    return _("%(kind)s: %(name)s") % {"kind": kind, "name": name}


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
    option_id = _int(request.POST.get("option") or request.GET.get("option"))
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
        options=[(o, _option_label(pricer, o)) for o in options],
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
            "option_label": _fulfilment(option.get_kind_display(), option.name) if option else "",
            "form": form,
            "quote": quote,
            "lines": [{"line": line, "total": _money(hub, unit, line.estimated_minor)} for line in quote.lines],
            "money": {
                name: _money(hub, unit, getattr(quote, f"{name}_minor"))
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
            "credit": _credit_box(hub, record, unit),
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


def _kilos(grams: int) -> str:
    """Grams as kilograms, the reader's way: "1.35" in English, "1,35" in French."""
    return format_decimal(Decimal(grams) / 1000, format="#,##0.###", locale=reader_locale())


def _event_note(note: str) -> str:
    """An event's note in the reader's language where Hubtab wrote it ("Order #12")."""
    found = re.fullmatch(r"Order #(\d+)", note)
    return _("Order #%(id)s") % {"id": found[1]} if found else note


def _order_view(hub: Hub, order: Order, *, for_crew: bool = False) -> dict[str, Any]:
    """An order as people read it (its customer, or crew): lines estimated and packed, its money
    and its timeline."""
    unit = credit_unit_of(hub=hub)
    lines = list(order_lines(order=order))
    with timezone.override(hub.timezone):
        events = [
            {
                "label": (CREW_EVENT_LABELS.get(event.kind) if for_crew else None) or event.get_kind_display(),
                "amount": _money(hub, unit, event.amount_minor) if event.amount_minor is not None else "",
                "note": _event_note(event.note),
                "when": moment_short(timezone.localtime(event.at), reader_locale()),
                "kind": event.kind,
            }
            for event in order_events(order=order)
        ]
        placed = moment_short(timezone.localtime(order.placed_at), reader_locale())
    final = order.final_minor if order.final_minor is not None else order_final_minor(order)
    return {
        "order": order,
        "placed": placed,
        "fulfilment": _fulfilment(order.get_fulfilment_kind_display(), order.fulfilment_name),
        "lines": [
            {
                "line": line,
                "estimated": _money(hub, unit, line.estimated_minor),
                "final": _money(hub, unit, line.final_minor),
                "changed": line.final_minor != line.estimated_minor,
                "unit_price": _money(hub, unit, line.unit_price_minor),
                "estimated_kg": _kilos(line.estimated_grams or 0),
                "packed_kg": _kilos(line.packed_grams) if line.packed_grams else "",
            }
            for line in lines
        ],
        "events": events,
        "money": {
            "fee": _money(hub, unit, order.fee_minor),
            "carried": _money(hub, unit, order.carried_minor),
            "estimated": _money(hub, unit, order.estimated_minor),
            "final": _money(hub, unit, final),
            "held": _money(hub, unit, order.held_minor),
            "due": _money(hub, unit, order.due_minor),
            "captured": _money(hub, unit, order.captured_minor),
            "released": _money(hub, unit, order.released_minor),
            "owed": _money(hub, unit, order.owed_minor),
            "refunded": _money(hub, unit, order.refunded_minor),
            "to_collect": _money(hub, unit, max(final - order.held_minor, 0)),
        },
        "final_minor": final,
    }


def _order_rows(hub: Hub, orders: QuerySet[Order], limit: int = 500) -> list[dict[str, Any]]:
    """Orders as list rows, in the hub's money and time."""
    unit = credit_unit_of(hub=hub)
    with timezone.override(hub.timezone):
        return [
            {
                "order": order,
                "placed": moment_short(timezone.localtime(order.placed_at), reader_locale()),
                "total": _money(
                    hub, unit, order.final_minor if order.final_minor is not None else order.estimated_minor
                ),
                # From credit: held while the order is open, then what completing it took.
                "from_credit": _money(
                    hub, unit, order.held_minor if order.status == OrderStatus.PLACED else order.captured_minor
                )
                if order.status != OrderStatus.CANCELLED
                else "",
                "due": _money(hub, unit, order.due_minor) if order.due_minor and order.status == "placed" else "",
                "owed": _money(hub, unit, order.owed_minor) if order.owed_minor else "",
            }
            for order in orders[:limit]
        ]


@login_required
def my_orders(request: HttpRequest, hub_slug: str) -> HttpResponse:
    record = own_record_or_404(request, hub_slug)
    hub = record.hub
    rows = _order_rows(hub, order_list(hub=hub, account_id=record.account_id))
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
    return render(request, "shop/my_order.html", {"hub": hub, **_order_view(hub, order), "may_cancel": may_cancel})


# --- the crew's side ------------------------------------------------------------------------------


def _may(request: HttpRequest, permission: Permission) -> bool:
    return permission in getattr(request, "hub_permissions", frozenset())


def _order_action(do: str, order: Order) -> str:
    """The action of the permission matrix that a form sent on an order's page asks for."""
    if do == "extra":
        return OrderAction.EXTRA_OPEN if order.status == OrderStatus.PLACED else OrderAction.EXTRA_COMPLETED
    return do


@hub_view(Permission.MANAGE_SHOP)
@require_http_methods(["GET", "POST"])
def products(request: HttpRequest, hub: Hub) -> HttpResponse:
    """The catalogue: credit tiers, products with their variants, and a new product."""
    pricer = Pricer(hub)
    unit = pricer.unit
    money = currency_unit(hub.currency)
    tiers = list(tier_list(hub=hub))
    tier_form = TierForm(request.POST if request.POST.get("do") == "tier" else None, prefix="tier")
    product_form = ProductForm(request.POST if request.POST.get("do") == "product" else None)
    variant_form = VariantForm(
        request.POST if request.POST.get("do") == "product" else None, tiers=tiers, currency=money, credit_unit=unit
    )
    actor = request_user(request)
    if request.POST.get("do") == "tier" and tier_form.is_valid():
        credits = amount_minor_of(tier_form, "credits", unit)
        if credits is not None:
            try:
                tier_save(hub=hub, actor=actor, name=tier_form.cleaned_data["name"], credits_minor=credits)
            except DomainError as exc:
                tier_form.add_error(None, exc.message)
            else:
                messages.success(request, _("Tier saved."))
                return redirect("shop_products", slug=hub.slug)
    if request.POST.get("do") == "product" and product_form.is_valid() and variant_form.is_valid():
        fields = variant_form.for_service()
        if fields is not None:
            fields["active"] = True  # a new product's first variant: "For sale" is the product's
            try:
                product = _product_create(hub, actor, product_form.cleaned_data, fields)
            except DomainError as exc:
                variant_form.add_error(None, exc.message)
            else:
                messages.success(request, _("%(name)s is in the shop.") % {"name": product.name})
                return redirect("shop_products", slug=hub.slug)
    rows = [
        {"product": p, "variants": [{"variant": v, "price": _price_label(pricer, v)} for v in p.variants.all()]}
        for p in product_list(hub=hub)
    ]
    return render(
        request,
        "shop/products.html",
        {
            "hub": hub,
            "rows": rows,
            "tiers": [{"tier": t, "credits": _money(hub, unit, t.credits_minor)} for t in tiers],
            "tier_form": tier_form,
            "product_form": product_form,
            "variant_form": variant_form,
            "unit": unit,
        },
    )


def _product_create(hub: Hub, actor: Any, product_fields: dict[str, Any], variant_fields: dict[str, Any]) -> Any:
    with transaction.atomic():  # the product and its first variant, or neither
        product = product_save(hub=hub, actor=actor, **product_fields)
        variant_save(hub=hub, actor=actor, product=product, **variant_fields)
    return product


@hub_view(Permission.MANAGE_SHOP)
@require_http_methods(["GET", "POST"])
def product_detail(request: HttpRequest, hub: Hub, product_id: int) -> HttpResponse:
    """One product: its details, and its variants, each editable, and a new one."""
    product = product_get(hub=hub, product_id=product_id)
    if product is None:
        raise Http404("No such product.")
    pricer = Pricer(hub)
    unit = pricer.unit
    money = currency_unit(hub.currency)
    tiers = list(tier_list(hub=hub))
    actor = request_user(request)
    do = request.POST.get("do", "")
    editing = next((v for v in product.variants.all() if v.id == _int(request.GET.get("variant"))), None)
    if do == "variant":
        editing = next((v for v in product.variants.all() if v.id == _int(request.POST.get("variant_id"))), None)
    product_form = ProductForm(
        request.POST if do == "product" else None,
        initial={
            "name": product.name,
            "producer": product.producer,
            "description": product.description,
            "active": product.active,
        },
    )
    initial = _variant_initial(editing, money) if editing else {"variant_active": True}
    variant_form = VariantForm(
        request.POST if do == "variant" else None, initial=initial, tiers=tiers, currency=money, credit_unit=unit
    )
    if do == "product" and product_form.is_valid():
        product_save(hub=hub, actor=actor, product=product, **product_form.cleaned_data)
        messages.success(request, _("Product saved."))
        return redirect("shop_product", slug=hub.slug, product_id=product.id)
    if do == "variant" and variant_form.is_valid() and (fields := variant_form.for_service()) is not None:
        try:
            variant_save(hub=hub, actor=actor, product=product, variant=editing, **fields)
        except DomainError as exc:
            variant_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Variant saved."))
            return redirect("shop_product", slug=hub.slug, product_id=product.id)
    return render(
        request,
        "shop/product.html",
        {
            "hub": hub,
            "product": product,
            "product_form": product_form,
            "variant_form": variant_form,
            "editing": editing,
            "variants": [{"variant": v, "price": _price_label(pricer, v)} for v in product.variants.all()],
        },
    )


def _variant_initial(variant: Variant, money: Unit) -> dict[str, Any]:
    return {
        "variant_name": variant.name,
        "price": minor_to_decimal(variant.price_minor, money) if variant.price_minor is not None else None,
        "tier": variant.tier_id,
        "by_weight": variant.by_weight,
        "estimated_grams": variant.estimated_grams,
        "stock": variant.stock,
        "stock_seen": variant.stock,
        "variant_active": variant.active,
    }


@hub_view(Permission.HANDLE_ORDERS)
@require_http_methods(["GET", "POST"])
def cycles(request: HttpRequest, hub: Hub) -> HttpResponse:
    """Order cycles, newest first, with their orders; the owner opens a new one here."""
    may_manage = _may(request, Permission.MANAGE_SHOP)
    form = CycleForm(request.POST or None, hub_timezone=hub.timezone)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("Only the hub's owner opens order cycles.")
        if form.is_valid():
            try:
                cycle = cycle_save(
                    hub=hub,
                    actor=request_user(request),
                    name=form.cleaned_data["name"],
                    opens_at=form.in_hub_time("opens_at"),
                    closes_at=form.in_hub_time("closes_at"),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Order cycle saved; add its pickup or delivery options."))
                return redirect("shop_cycle", slug=hub.slug, cycle_id=cycle.id)
    now = timezone.now()
    with timezone.override(hub.timezone):
        rows = [
            {
                "cycle": cycle,
                "opens": moment_short(timezone.localtime(cycle.opens_at), reader_locale()),
                "closes": moment_short(timezone.localtime(cycle.closes_at), reader_locale()),
                "state": _("Open") if cycle.is_open(now) else (_("Upcoming") if cycle.opens_at > now else _("Closed")),
            }
            for cycle in cycle_list(hub=hub)[:50]
        ]
    return render(request, "shop/cycles.html", {"hub": hub, "rows": rows, "form": form, "may_manage": may_manage})


@hub_view(Permission.HANDLE_ORDERS)
@require_http_methods(["GET", "POST"])
def cycle_detail(request: HttpRequest, hub: Hub, cycle_id: int) -> HttpResponse:
    """A cycle's orders for packing and completing, one by one or many at once."""
    cycle = cycle_get(hub=hub, cycle_id=cycle_id)
    if cycle is None:
        raise Http404("No such cycle.")
    pricer = Pricer(hub)
    unit = pricer.unit
    may_manage = _may(request, Permission.MANAGE_SHOP)
    option_form = FulfilmentForm(request.POST if request.POST.get("do") == "option" else None, prefix="option")
    if request.POST.get("do") == "option":
        if not may_manage:
            raise PermissionDenied("Only the hub's owner changes order cycles.")
        fee = amount_minor_of(option_form, "fee", currency_unit(hub.currency)) if option_form.is_valid() else None
        if option_form.is_valid():
            try:
                fulfilment_add(
                    hub=hub,
                    actor=request_user(request),
                    cycle=cycle,
                    kind=option_form.cleaned_data["kind"],
                    name=option_form.cleaned_data["name"],
                    fee_minor=fee or 0,
                )
            except DomainError as exc:
                option_form.add_error(None, exc.message)
            else:
                messages.success(request, _("Option added."))
                return redirect("shop_cycle", slug=hub.slug, cycle_id=cycle.id)
    if request.POST.get("do") == "bulk":
        return _bulk(request, hub, cycle.id)
    status = request.GET.get("status", "")
    status = status if status in OrderStatus.values else ""
    rows = _order_rows(hub, order_list(hub=hub, cycle_id=cycle.id, status=status))
    with timezone.override(hub.timezone):
        window = {
            "opens": moment_short(timezone.localtime(cycle.opens_at), reader_locale()),
            "closes": moment_short(timezone.localtime(cycle.closes_at), reader_locale()),
        }
    totals = {name: _money(hub, unit, value) for name, value in cycle_totals(hub=hub, cycle_id=cycle.id).items()}
    return render(
        request,
        "shop/cycle.html",
        {
            "hub": hub,
            "cycle": cycle,
            "rows": rows,
            "totals": totals,
            "window": window,
            "status": status,
            "statuses": OrderStatus.choices,
            "options": [(o, _option_label(pricer, o)) for o in cycle.options.all()],
            "option_form": option_form,
            "may_manage": may_manage,
            "may_refund": _may(request, Permission.MOVE_MONEY),
            "bulk_key": fresh_key(),
        },
    )


def _bulk(request: HttpRequest, hub: Hub, cycle_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    if action == BulkAction.REFUND_CREDIT and not _may(request, Permission.MOVE_MONEY):
        raise PermissionDenied("Refunds are for the hub's finance crew.")
    ids = [i for i in (_int(v) for v in request.POST.getlist("orders")) if i is not None]
    back = redirect("shop_cycle", slug=hub.slug, cycle_id=cycle_id)
    if not ids:
        messages.error(request, _("Tick the orders first."))
        return back
    own = list(order_list(hub=hub, cycle_id=cycle_id).filter(id__in=ids).values_list("id", flat=True))
    try:
        result = orders_bulk(
            hub=hub,
            actor=request_user(request),
            order_ids=own,
            action=action,
            key=f"bulk:{request.POST.get('key', '')}",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return back
    if result.done:
        messages.success(
            request,
            ngettext("%(count)s order done.", "%(count)s orders done.", len(result.done)) % {"count": len(result.done)},
        )
    for order_id, why in result.failed:
        messages.error(request, _("Order #%(id)s: %(why)s") % {"id": order_id, "why": why})
    return back


@hub_view(Permission.HANDLE_ORDERS)
@require_http_methods(["GET", "POST"])
def order_detail(request: HttpRequest, hub: Hub, order_id: int) -> HttpResponse:
    """One order for crew: pack it (weights, short items), add extras, complete, cancel, refund."""
    order = order_get(hub=hub, order_id=order_id)
    if order is None:
        raise Http404("No such order.")
    unit = credit_unit_of(hub=hub)
    actor = request_user(request)
    do = request.POST.get("do", "")
    lines = list(order_lines(order=order))
    pack_form = PackForm(request.POST if do in ("pack", "complete") else None, lines=lines)
    complete_form = CompleteForm(request.POST if do == "complete" else None)
    extra_form = ExtraForm(request.POST if do == "extra" else None, initial={"key": fresh_key()}, prefix="extra")
    refund_form = RefundForm(request.POST if do == "refund" else None, initial={"key": fresh_key()}, prefix="refund")
    here = redirect("shop_order", slug=hub.slug, order_id=order.id)
    if do and not _may(request, ORDER_ACTIONS.get(_order_action(do, order), Permission.HANDLE_ORDERS)):
        raise PermissionDenied("This action on an order needs a money role.")
    try:
        if do in ("pack", "complete") and pack_form.is_valid():
            order_pack(hub=hub, actor=actor, order_id=order.id, packed=pack_form.packed())
            if do == "pack":
                messages.success(request, _("Packing saved."))
                return here
            if complete_form.is_valid():
                collected = amount_minor_of(complete_form, "collected", currency_unit(hub.currency))
                if not complete_form.errors:
                    order_complete(hub=hub, actor=actor, order_id=order.id, collected_minor=collected,
                                   charge_estimate=complete_form.cleaned_data["charge_estimate"])  # fmt: skip
                    messages.success(request, _("Order completed."))
                    return here
        elif do == "extra" and extra_form.is_valid():
            price = amount_minor_of(extra_form, "unit_price", unit)
            if price is not None:
                order_extra_add(
                    hub=hub,
                    actor=actor,
                    order_id=order.id,
                    name=extra_form.cleaned_data["name"],
                    quantity=extra_form.cleaned_data["quantity"],
                    unit_price_minor=price,
                    key=extra_form.cleaned_data["key"],
                )
                messages.success(request, _("Extra added."))
                return here
        elif do == "cancel":
            try:
                order_cancel(hub=hub, actor=actor, order_id=order.id, reason=request.POST.get("reason", "")[:300])
            except DomainError as exc:  # completed meanwhile, by someone else
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Order cancelled; its hold is released."))
            return here
        elif do == "refund":
            if refund_form.is_valid():
                amount = amount_minor_of(refund_form, "amount", unit)
                if amount is not None:
                    order_refund(
                        hub=hub,
                        actor=actor,
                        order_id=order.id,
                        amount_minor=amount,
                        reason=refund_form.cleaned_data["reason"],
                        key=refund_form.cleaned_data["key"],
                        to=refund_form.cleaned_data["to"],
                    )
                    messages.success(request, _("Refund recorded."))
                    return here
    except DomainError as exc:
        form = {"extra": extra_form, "refund": refund_form, "complete": complete_form}.get(do, pack_form)
        form.add_error(None, exc.message)
        order = order_get(hub=hub, order_id=order_id) or order
    view = _order_view(hub, order, for_crew=True)
    rows = [
        {
            **row,
            "quantity_field": pack_form[f"quantity_{row['line'].id}"],
            "grams_field": pack_form[f"grams_{row['line'].id}"] if row["line"].by_weight else None,
        }
        for row in view["lines"]
    ]
    manual = order_paid_by_hand(order)
    if manual and not complete_form.is_bound:
        complete_form = CompleteForm(
            initial={
                "collected": minor_to_decimal(
                    money_to_collect(hub=hub, order=order, final_minor=view["final_minor"]), currency_unit(hub.currency)
                )
            }
        )
    return render(
        request,
        "shop/order.html",
        {
            "hub": hub,
            **view,
            "rows": rows,
            "pack_form": pack_form,
            "complete_form": complete_form,
            "extra_form": extra_form,
            "refund_form": refund_form,
            "manual": manual,
            "unweighed": any(line.by_weight for line in lines),
            "is_open": order.status == "placed",
            "may_refund": _may(request, Permission.MOVE_MONEY) and refundable_minor(order) > 0,
            "may_add_extra": _may(request, ORDER_ACTIONS[_order_action("extra", order)]),
            "paid_by_card": order.payment_id is not None,
        },
    )


@hub_view(Permission.HANDLE_ORDERS)
def customer_orders(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """One customer's orders for crew, newest first, with what each still owes."""
    customer = customer_get(hub=hub, customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    rows = _order_rows(hub, order_list(hub=hub, account_id=customer.account_id))
    return render(request, "shop/customer_orders.html", {"hub": hub, "customer": customer, "rows": rows})
