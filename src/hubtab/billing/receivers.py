"""What billing does when something happens below it."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from hubtab.billing.changes import debt_after_order, debt_recheck
from hubtab.billing.run import attempt_settled
from hubtab.core.models import Hub
from hubtab.payments.models import Payment
from hubtab.payments.signals import payment_succeeded
from hubtab.shop.signals import order_completed

log = logging.getLogger(__name__)


@receiver(payment_succeeded)
def scheduled_payment_paid(sender: Any, hub: Hub, payment_id: int, **kwargs: Any) -> None:
    """A charge of a scheduled payment went through after the run (the customer confirmed with
    their bank, the reconcile job heard back), or the customer paid some other way: the payment
    is paid, lowered or not needed."""
    if attempt_settled(hub=hub, payment_id=payment_id) is None:
        account_id = Payment.objects.filter(hub=hub, id=payment_id).values_list("account_id", flat=True).first()
        if account_id is not None:
            debt_recheck(hub=hub, account_id=account_id)


@receiver(order_completed)
def bill_after_order(sender: Any, hub: Hub, order: Any, actor: Any = None, **kwargs: Any) -> None:
    """Inside the order's transaction: a completed order that leaves a debt schedules its payment."""
    debt_after_order(hub=hub, customer=order.customer, actor=actor)
