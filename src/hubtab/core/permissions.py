"""Who may do what at a hub: the one permission matrix, read by views, the API and the tests.

A permission names an action on a kind of thing. Each role holds a set of permissions; a person
may hold several roles at a hub (crew there, customer too) and gets the union.
"""

from __future__ import annotations

from enum import StrEnum

from hubtab.core.models import Role


class Permission(StrEnum):
    VIEW_ACCOUNTS = "view_accounts"  # customers' balances, holds, limits, hub books
    MOVE_MONEY = "move_money"  # credit, debit, refunds, reversals, limits
    VIEW_CUSTOMERS = "view_customers"
    EDIT_CUSTOMERS = "edit_customers"  # create, edit, archive, notes, tags
    MESSAGE_CUSTOMERS = "message_customers"
    MANAGE_CREW = "manage_crew"  # invite, change roles
    MANAGE_SETTINGS = "manage_settings"
    VIEW_AUDIT = "view_audit"  # the hub's audit trail of crew actions
    USE_PORTAL = "use_portal"  # a customer's own balance and history
    MANAGE_SHOP = "manage_shop"  # products, price tiers, order cycles
    HANDLE_ORDERS = "handle_orders"  # see orders, pack, complete, cancel; what else: ORDER_ACTIONS


# Every crew member packs and completes orders: completing takes what the customer agreed to pay
# when they ordered, so it is fulfilment, not a money decision; refunds stay with finance.
CREW = {Permission.VIEW_ACCOUNTS, Permission.VIEW_CUSTOMERS, Permission.HANDLE_ORDERS}

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission) - {Permission.USE_PORTAL},
    Role.FINANCE: frozenset(CREW | {Permission.MOVE_MONEY}),
    # Support looks after people, never money.
    Role.SUPPORT: frozenset(CREW | {Permission.EDIT_CUSTOMERS, Permission.MESSAGE_CUSTOMERS}),
    Role.CUSTOMER: frozenset({Permission.USE_PORTAL}),
}


class OrderAction(StrEnum):
    """What crew do on one order's page; `ORDER_ACTIONS` says which permission each needs."""

    PACK = "pack"
    COMPLETE = "complete"
    CANCEL = "cancel"
    EXTRA_OPEN = "extra_open"
    EXTRA_COMPLETED = "extra_completed"
    REFUND = "refund"


# An extra on an open order only changes the total completing will take, like packing a short
# item or a heavier chicken: fulfilment, for all crew. On a completed order it takes money from
# the customer's balance at once: a money decision (docs/decisions/0006).
ORDER_ACTIONS: dict[str, Permission] = {
    OrderAction.PACK: Permission.HANDLE_ORDERS,
    OrderAction.COMPLETE: Permission.HANDLE_ORDERS,
    OrderAction.CANCEL: Permission.HANDLE_ORDERS,
    OrderAction.EXTRA_OPEN: Permission.HANDLE_ORDERS,
    OrderAction.EXTRA_COMPLETED: Permission.MOVE_MONEY,
    OrderAction.REFUND: Permission.MOVE_MONEY,
}


def permissions_for(roles: set[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= MATRIX.get(Role(role), frozenset())
    return frozenset(granted)
