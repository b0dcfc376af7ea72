"""The crew's pages for orders: each order, with one URL and one permission per action on it (pack,
complete, extra, cancel, refund), and one customer's orders. The catalogue is in catalogue_views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hubtab.accounts.selectors import credit_unit_of
from hubtab.core.access import hub_view, may, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import currency_unit, minor_to_decimal
from hubtab.core.permissions import ORDER_ACTIONS, OrderAction, Permission
from hubtab.crm.selectors import customer_get
from hubtab.shop.forms import (
    CompleteForm,
    ExtraForm,
    PackForm,
    RefundForm,
    amount_minor_of,
    fresh_key,
)
from hubtab.shop.models import Order, OrderStatus
from hubtab.shop.presenters import order_rows, order_view
from hubtab.shop.selectors import (
    order_get,
    order_lines,
    order_list,
)
from hubtab.shop.services import (
    money_to_collect,
    order_cancel,
    order_complete,
    order_extra_add,
    order_pack,
    order_paid_by_hand,
    order_refund,
    refundable_minor,
)


def _extra_action(order: Order) -> OrderAction:
    """An extra on an open order is fulfilment; on a completed one it takes money at once."""
    return OrderAction.EXTRA_OPEN if order.status == OrderStatus.PLACED else OrderAction.EXTRA_COMPLETED


# --- one order: its page, and one URL and permission per action on it ------------------------------


def _order_or_404(hub: Hub, order_id: int) -> Order:
    order = order_get(hub=hub, order_id=order_id)
    if order is None:
        raise Http404("No such order.")
    return order


def _order_page(
    request: HttpRequest, hub: Hub, order: Order, *, pack_form: PackForm | None = None,
    complete_form: CompleteForm | None = None, extra_form: ExtraForm | None = None,
    refund_form: RefundForm | None = None,
) -> HttpResponse:  # fmt: skip
    """The order's page for crew, with the forms an action sent back when it was refused."""
    lines = list(order_lines(order=order))
    pack_form = pack_form or PackForm(None, lines=lines)
    extra_form = extra_form or ExtraForm(initial={"key": fresh_key()}, prefix="extra")
    refund_form = refund_form or RefundForm(initial={"key": fresh_key()}, prefix="refund")
    view = order_view(hub, order, for_crew=True)
    rows = [
        {
            **row,
            "quantity_field": pack_form[f"quantity_{row['line'].id}"],
            "grams_field": pack_form[f"grams_{row['line'].id}"] if row["line"].by_weight else None,
        }
        for row in view["lines"]
    ]
    manual = order_paid_by_hand(order)
    if complete_form is None:
        to_collect = money_to_collect(hub=hub, order=order, final_minor=view["final_minor"]) if manual else 0
        complete_form = CompleteForm(initial={"collected": minor_to_decimal(to_collect, currency_unit(hub.currency))}
                                     if manual else None)  # fmt: skip
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
            "is_open": order.status == OrderStatus.PLACED,
            "may_refund": may(request, ORDER_ACTIONS[OrderAction.REFUND]) and refundable_minor(order) > 0,
            "may_add_extra": may(request, ORDER_ACTIONS[_extra_action(order)]),
            "paid_by_card": order.payment_id is not None,
        },
    )


@hub_view(Permission.HANDLE_ORDERS)
@require_http_methods(["GET"])
def order_detail(request: HttpRequest, hub: Hub, order_id: int) -> HttpResponse:
    """One order for crew: pack it (weights, short items), add extras, complete, cancel, refund."""
    return _order_page(request, hub, _order_or_404(hub, order_id))


def _back_to(hub: Hub, order: Order) -> HttpResponse:
    return redirect("shop_order", slug=hub.slug, order_id=order.id)


@hub_view(ORDER_ACTIONS[OrderAction.PACK])
@require_http_methods(["POST"])
def order_pack_view(request: HttpRequest, hub: Hub, order_id: int) -> HttpResponse:
    """Save what was packed and weighed."""
    order = _order_or_404(hub, order_id)
    pack_form = PackForm(request.POST, lines=list(order_lines(order=order)))
    if pack_form.is_valid():
        try:
            order_pack(hub=hub, actor=request_user(request), order_id=order.id, packed=pack_form.packed())
        except DomainError as exc:
            pack_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Packing saved."))
            return _back_to(hub, order)
    return _order_page(request, hub, order, pack_form=pack_form)


@hub_view(ORDER_ACTIONS[OrderAction.COMPLETE])
@require_http_methods(["POST"])
def order_complete_view(request: HttpRequest, hub: Hub, order_id: int) -> HttpResponse:
    """Save the packing, then complete: what was paid by hand is recorded and the total taken."""
    order = _order_or_404(hub, order_id)
    actor = request_user(request)
    pack_form = PackForm(request.POST, lines=list(order_lines(order=order)))
    complete_form = CompleteForm(request.POST)
    if pack_form.is_valid() and complete_form.is_valid():
        collected = amount_minor_of(complete_form, "collected", currency_unit(hub.currency))
        if not complete_form.errors:
            try:
                order_pack(hub=hub, actor=actor, order_id=order.id, packed=pack_form.packed())
                order_complete(hub=hub, actor=actor, order_id=order.id, collected_minor=collected,
                               charge_estimate=complete_form.cleaned_data["charge_estimate"])  # fmt: skip
            except DomainError as exc:
                complete_form.add_error(None, exc.message)
            else:
                messages.success(request, _("Order completed."))
                return _back_to(hub, order)
    return _order_page(request, hub, _order_or_404(hub, order_id), pack_form=pack_form, complete_form=complete_form)


@hub_view(ORDER_ACTIONS[OrderAction.EXTRA_OPEN])
@require_http_methods(["POST"])
def order_extra_view(request: HttpRequest, hub: Hub, order_id: int) -> HttpResponse:
    """Add an extra; on a completed order it takes money at once, which needs a money role."""
    order = _order_or_404(hub, order_id)
    if not may(request, ORDER_ACTIONS[_extra_action(order)]):
        raise PermissionDenied("An extra on a completed order takes money: it needs a money role.")
    extra_form = ExtraForm(request.POST, prefix="extra")
    if (
        extra_form.is_valid()
        and (price := amount_minor_of(extra_form, "unit_price", credit_unit_of(hub=hub))) is not None
    ):
        try:
            order_extra_add(
                hub=hub, actor=request_user(request), order_id=order.id, name=extra_form.cleaned_data["name"],
                quantity=extra_form.cleaned_data["quantity"], unit_price_minor=price,
                key=extra_form.cleaned_data["key"],
            )  # fmt: skip
        except DomainError as exc:
            extra_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Extra added."))
            return _back_to(hub, order)
    return _order_page(request, hub, _order_or_404(hub, order_id), extra_form=extra_form)


@hub_view(ORDER_ACTIONS[OrderAction.CANCEL])
@require_http_methods(["POST"])
def order_cancel_view(request: HttpRequest, hub: Hub, order_id: int) -> HttpResponse:
    """Cancel an open order: its hold is released and its stock comes back."""
    order = _order_or_404(hub, order_id)
    try:
        order_cancel(hub=hub, actor=request_user(request), order_id=order.id,
                     reason=request.POST.get("reason", "")[:300])  # fmt: skip
    except DomainError as exc:  # completed meanwhile, by someone else
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Order cancelled; its hold is released."))
    return _back_to(hub, order)


@hub_view(ORDER_ACTIONS[OrderAction.REFUND])
@require_http_methods(["POST"])
def order_refund_view(request: HttpRequest, hub: Hub, order_id: int) -> HttpResponse:
    """Give back part or all of a completed order, to credit or to the card that paid it."""
    order = _order_or_404(hub, order_id)
    refund_form = RefundForm(request.POST, prefix="refund")
    if (
        refund_form.is_valid()
        and (amount := amount_minor_of(refund_form, "amount", credit_unit_of(hub=hub))) is not None
    ):
        try:
            order_refund(
                hub=hub, actor=request_user(request), order_id=order.id, amount_minor=amount,
                reason=refund_form.cleaned_data["reason"], key=refund_form.cleaned_data["key"],
                to=refund_form.cleaned_data["to"],
            )  # fmt: skip
        except DomainError as exc:
            refund_form.add_error(None, exc.message)
        else:
            messages.success(request, _("Refund recorded."))
            return _back_to(hub, order)
    return _order_page(request, hub, _order_or_404(hub, order_id), refund_form=refund_form)


@hub_view(Permission.HANDLE_ORDERS)
def customer_orders(request: HttpRequest, hub: Hub, customer_id: int) -> HttpResponse:
    """One customer's orders for crew, newest first, with what each still owes."""
    customer = customer_get(hub=hub, customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    rows = order_rows(hub, order_list(hub=hub, account_id=customer.account_id))
    return render(request, "shop/customer_orders.html", {"hub": hub, "customer": customer, "rows": rows})
