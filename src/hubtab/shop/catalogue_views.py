"""The shop's pages for the owner and crew before orders: the catalogue (tiers, products, variants)
and order cycles, with their options and the bulk actions on a cycle's orders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from hubtab.core.access import hub_view, may, request_user
from hubtab.core.dates import moment_short
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import Unit, currency_unit, minor_to_decimal, reader_locale
from hubtab.core.permissions import Permission
from hubtab.shop.forms import (
    CycleForm,
    FulfilmentForm,
    ProductForm,
    TierForm,
    VariantForm,
    amount_minor_of,
    fresh_key,
)
from hubtab.shop.models import OrderStatus, Variant
from hubtab.shop.presenters import amount_text, option_label, order_rows, price_label
from hubtab.shop.selectors import (
    Pricer,
    cycle_get,
    cycle_list,
    cycle_totals,
    order_list,
    product_get,
    product_list,
    tier_list,
)
from hubtab.shop.services import (
    BulkAction,
    cycle_save,
    fulfilment_add,
    orders_bulk,
    product_save,
    tier_save,
    variant_save,
)
from hubtab.shop.views import int_or_none


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
        {"product": p, "variants": [{"variant": v, "price": price_label(pricer, v)} for v in p.variants.all()]}
        for p in product_list(hub=hub)
    ]
    return render(
        request,
        "shop/products.html",
        {
            "hub": hub,
            "rows": rows,
            "tiers": [{"tier": t, "credits": amount_text(hub, unit, t.credits_minor)} for t in tiers],
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
    editing = next((v for v in product.variants.all() if v.id == int_or_none(request.GET.get("variant"))), None)
    if do == "variant":
        editing = next((v for v in product.variants.all() if v.id == int_or_none(request.POST.get("variant_id"))), None)
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
            "variants": [{"variant": v, "price": price_label(pricer, v)} for v in product.variants.all()],
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
    may_manage = may(request, Permission.MANAGE_SHOP)
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
    may_manage = may(request, Permission.MANAGE_SHOP)
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
    rows = order_rows(hub, order_list(hub=hub, cycle_id=cycle.id, status=status))
    with timezone.override(hub.timezone):
        window = {
            "opens": moment_short(timezone.localtime(cycle.opens_at), reader_locale()),
            "closes": moment_short(timezone.localtime(cycle.closes_at), reader_locale()),
        }
    totals = {name: amount_text(hub, unit, value) for name, value in cycle_totals(hub=hub, cycle_id=cycle.id).items()}
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
            "options": [(o, option_label(pricer, o)) for o in cycle.options.all()],
            "option_form": option_form,
            "may_manage": may_manage,
            "may_refund": may(request, Permission.MOVE_MONEY),
            "bulk_key": fresh_key(),
        },
    )


def _bulk(request: HttpRequest, hub: Hub, cycle_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    if action == BulkAction.REFUND_CREDIT and not may(request, Permission.MOVE_MONEY):
        raise PermissionDenied("Refunds are for the hub's finance crew.")
    ids = [i for i in (int_or_none(v) for v in request.POST.getlist("orders")) if i is not None]
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
