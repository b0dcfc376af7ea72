"""Every write of the shop, by topic: the catalogue and cycles (owner), placing an order
(customer), fulfilling it (crew), refunds and bulk actions. This module is the domain's face:
callers import from here; each topic's rules live in its own module.

Money moves only through `accounts`: an order's credit is held when it is placed, the packed total
is captured when it is completed (above the hold from the balance, within the spending limit),
a cancel voids the hold, a refund posts credit back. What the spending limit does not allow is
owed on the order and carried into the customer's next one. Each step is one database
transaction with ledger keys named after the order, so a double click or a retry does it once.
"""

from __future__ import annotations

from hubtab.shop.bulk import BulkAction, BulkResult, orders_bulk
from hubtab.shop.catalogue import cycle_save, fulfilment_add, product_save, tier_save, variant_save
from hubtab.shop.checkout import (
    CheckoutDraft,
    cart_save,
    checkout_key,
    checkout_paid_place,
    checkout_paid_seen,
    checkout_topup_start,
    order_paid_by_hand,
    order_payment_link,
    order_place,
    rest_methods_for,
)
from hubtab.shop.fulfilment import (
    customer_may_cancel,
    money_to_collect,
    order_cancel,
    order_complete,
    order_extra_add,
    order_pack,
)
from hubtab.shop.refunds import RefundTo, order_refund, refundable_minor

__all__ = [
    "BulkAction", "BulkResult", "CheckoutDraft", "RefundTo", "cart_save", "checkout_key", "checkout_paid_place",
    "checkout_paid_seen", "checkout_topup_start", "customer_may_cancel", "cycle_save", "fulfilment_add",
    "money_to_collect", "order_cancel", "order_complete", "order_extra_add", "order_pack", "order_paid_by_hand",
    "order_payment_link", "order_place", "order_refund", "orders_bulk", "product_save", "refundable_minor",
    "rest_methods_for", "tier_save", "variant_save",
]  # fmt: skip
