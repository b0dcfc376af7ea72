"""The demo hubs' shops: the catalogue and weekly order cycles, played in time order through the
shop's services."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import cycle as repeat
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from hubtab.accounts.selectors import topup_quote
from hubtab.accounts.services import CreditAction
from hubtab.core.models import Hub, User
from hubtab.crm.models import Customer
from hubtab.crm.services import customer_credit_apply
from hubtab.ledger.selectors import account_state
from hubtab.shop.selectors import checkout_quote, order_lines
from hubtab.shop.services import (
    cycle_save,
    fulfilment_add,
    order_cancel,
    order_complete,
    order_pack,
    order_place,
    order_refund,
    product_save,
    tier_save,
    variant_save,
)
from hubtab.web.demo.data import WEIGHED

if TYPE_CHECKING:
    from hubtab.shop.models import FulfilmentOption, Order, OrderCycle, Variant


def shop_seed(
    hub: Hub, shop: dict[str, Any], cycles: list[tuple[datetime, datetime]], customers: list[Customer],
    owner: User, crew: User,
) -> None:  # fmt: skip
    """The hub's catalogue and its weekly order cycles, played in time order through the shop's
    services: customers order while a cycle is open, crew weigh and pack the day after it
    closes and complete the orders at pickup; a cancel, a refund and a small debt carried
    into the next order happen along the way. The last cycle is open now, its orders placed."""
    tz = ZoneInfo(hub.timezone)
    first_opens = cycles[0][0]
    variants: dict[str, Variant] = {}
    restocked: list[tuple[Variant, int]] = []
    with time_machine.travel(first_opens - timedelta(days=3), tick=False):
        tiers = {
            name: tier_save(hub=hub, actor=owner, name=name, credits_minor=credits).id
            for name, credits in shop["tiers"].items()
        }
        for spec in shop["products"]:
            product = product_save(hub=hub, actor=owner, name=spec["name"], producer=spec["producer"],
                                    description=spec.get("description", ""))  # fmt: skip
            for key, fields in spec["variants"].items():
                fields = dict(fields)
                tier = fields.pop("tier", None)
                variants[key] = variant_save(
                    hub=hub, actor=owner, product=product, tier_id=tiers[tier] if tier else None, **fields
                )
                if spec.get("restock"):
                    restocked.append((variants[key], fields["stock"]))
    weighed = repeat(WEIGHED)
    for weeks_ago, (opens, closes) in zip(range(len(cycles) - 1, -1, -1), cycles, strict=True):
        with time_machine.travel(opens - timedelta(hours=1), tick=False):
            cycle = cycle_save(hub=hub, actor=owner, name=f"Week {opens.isocalendar().week}", opens_at=opens,
                               closes_at=closes)  # fmt: skip
            options = [
                fulfilment_add(hub=hub, actor=owner, cycle=cycle, kind=kind, name=name, fee_minor=fee)
                for kind, name, fee in shop["options"]
            ]
            for variant, stock in restocked:  # this week's delivery from the farm
                _restock(hub, owner, variant, stock)
        specs = [spec for spec in shop["orders"] if spec["weeks_ago"] == weeks_ago]
        placed: list[tuple[dict[str, Any], Order]] = []
        for n, spec in enumerate(specs):
            # Through the open days, at daytime hours; the open cycle's orders are all in its
            # first two days, so in the past whatever the time of day now.
            days = n % 2 if weeks_ago == 0 else n % 4
            at = opens + timedelta(days=days, hours=1 + (5 * n) % 12)
            placed.append((spec, _order(hub, cycle, options, customers[spec["customer"]], spec,
                                                 variants, at)))  # fmt: skip
        if weeks_ago == 0:
            continue
        for spec, order in placed:
            if "cancel" in spec:
                with time_machine.travel(order.placed_at + timedelta(days=1), tick=False):
                    order_cancel(hub=hub, actor=crew, order_id=order.id, reason=spec["cancel"])
        packing_day = datetime.combine(closes.astimezone(tz).date() + timedelta(days=1), time(9), tzinfo=tz)
        kept = [(spec, order) for spec, order in placed if "cancel" not in spec]
        with time_machine.travel(packing_day, tick=False):
            for spec, order in kept:
                packed = {}
                for line in order_lines(order=order):
                    key = next(k for k, v in variants.items() if v.id == line.variant_id)
                    grams = None
                    if line.by_weight:
                        estimated = line.estimated_grams or 0
                        grams = spec.get("grams", {}).get(key) or round(estimated * next(weighed))
                    packed[line.id] = (spec.get("packed", {}).get(key, line.quantity), grams)
                order_pack(hub=hub, actor=crew, order_id=order.id, packed=packed)
        with time_machine.travel(packing_day + timedelta(hours=8), tick=False):  # pickup, late afternoon
            for _spec, order in kept:
                order_complete(hub=hub, actor=crew, order_id=order.id)
        with time_machine.travel(packing_day + timedelta(hours=10), tick=False):
            for spec, order in kept:
                if "refund" in spec:
                    amount, reason = spec["refund"]
                    order_refund(hub=hub, actor=crew, order_id=order.id, amount_minor=amount, reason=reason,
                                 key=order.key)  # fmt: skip


def _order(
    hub: Hub, cycle: OrderCycle, options: list[FulfilmentOption], customer: Customer, spec: dict[str, Any],
    variants: dict[str, Variant], at: datetime,
) -> Order:  # fmt: skip
    """A customer's checkout: first money paid in by transfer when their credit can't cover the order with
    room for the weighed items coming out heavier (or, with `exact_topup`, just what is
    missing, as checkout offers), then the order, placed at `at`."""
    items = {variants[key].id: quantity for key, quantity in spec["items"].items()}
    option = options[-1] if spec.get("delivery") else options[0]
    total = checkout_quote(hub=hub, account_id=customer.account_id, items=items, option=option).total_minor
    need = total if spec.get("exact_topup") else total + total // 5
    short = need - (account_state(hub_id=hub.id, account_id=customer.account_id).spendable_minor or 0)
    key = f"demo-{cycle.id}-{customer.code}"
    if short > 0:
        quote = topup_quote(hub=hub, currency=hub.currency, credits_minor=short)
        if not spec.get("exact_topup"):  # people top up round amounts
            rounded = (topup_quote(hub=hub, currency=hub.currency, price_minor=p) for p in (2000, 5000, 10000))
            quote = next((q for q in rounded if q.total_minor >= short), quote)
        with time_machine.travel(at - timedelta(minutes=20), tick=False):
            customer_credit_apply(
                hub=hub, actor=None, customer=customer, action=CreditAction.EXTERNAL_PAYMENT,
                amount_minor=quote.price_minor, comment=f"Transfer for {cycle.name}", key=f"{key}-topup",
                method="bank_transfer",
            )  # fmt: skip
    with time_machine.travel(at, tick=False):
        return order_place(hub=hub, customer=customer, cycle_id=cycle.id, items=items, option_id=option.id,
                           key=key)  # fmt: skip


def _restock(hub: Hub, actor: User, variant: Variant, stock: int) -> None:
    variant_save(
        hub=hub, actor=actor, product=variant.product, name=variant.name, price_minor=variant.price_minor,
        tier_id=variant.tier_id, by_weight=variant.by_weight, estimated_grams=variant.estimated_grams,
        stock=stock, variant=variant,
    )  # fmt: skip


def shop_cycles(hub: Hub, weeks: int) -> list[tuple[datetime, datetime]]:
    """(opens, closes) of the shop's weekly cycles, oldest first: `weeks` closed ones, then the one
    open now, opened two days ago at 8:00 and closing in three days at 20:00, the hub's time."""
    tz = ZoneInfo(hub.timezone)
    today = timezone.now().astimezone(tz).date()
    opens = datetime.combine(today - timedelta(days=2), time(8), tzinfo=tz)
    closes = datetime.combine(today + timedelta(days=3), time(20), tzinfo=tz)
    # Aware arithmetic on the same zone keeps the wall-clock time across a change of summer time.
    return [(opens - timedelta(weeks=k), closes - timedelta(weeks=k)) for k in range(weeks, -1, -1)]
