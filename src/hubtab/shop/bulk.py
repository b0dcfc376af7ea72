"""The same action on many orders at once, each on its own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.shop.fulfilment import order_cancel, order_complete
from hubtab.shop.models import (
    Order,
)
from hubtab.shop.refunds import order_refund, refundable_minor


class BulkAction:
    COMPLETE = "complete"
    CANCEL = "cancel"
    REFUND_CREDIT = "refund_credit"
    ALL = (COMPLETE, CANCEL, REFUND_CREDIT)


@dataclass(frozen=True)
class BulkResult:
    done: list[int]
    failed: list[tuple[int, str]]  # order id, why


def orders_bulk(*, hub: Hub, actor: User, order_ids: Iterable[int], action: str, key: str) -> BulkResult:
    """The same action on many orders, each on its own: one that can't be done (already cancelled,
    over the limit) is reported and does not stop the others."""
    if action not in BulkAction.ALL:
        raise DomainError("validation_error", _("Choose what to do with the orders."))
    done: list[int] = []
    failed: list[tuple[int, str]] = []
    for order_id in sorted(set(order_ids)):
        try:
            if action == BulkAction.COMPLETE:
                order_complete(hub=hub, actor=actor, order_id=order_id)
            elif action == BulkAction.CANCEL:
                order_cancel(hub=hub, actor=actor, order_id=order_id, reason=_("Cancelled from the orders list"))
            else:
                order = Order.objects.filter(hub=hub, id=order_id).first()
                left = refundable_minor(order) if order else 0
                if order is None or left <= 0:
                    raise DomainError("nothing_to_refund", _("Nothing left to refund."))
                order_refund(hub=hub, actor=actor, order_id=order_id, amount_minor=left,
                             reason=_("Refunded from the orders list"), key=f"{key}:{order_id}")  # fmt: skip
        except DomainError as exc:
            failed.append((order_id, exc.message))
        else:
            done.append(order_id)
    return BulkResult(done=done, failed=failed)
