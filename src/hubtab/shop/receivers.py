"""What the shop does when something happens below it."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from hubtab.core.models import Hub
from hubtab.payments.signals import payment_succeeded
from hubtab.shop.services import checkout_paid_place


@receiver(payment_succeeded)
def place_the_paid_checkout(sender: Any, hub: Hub, payment_id: int, **kwargs: Any) -> None:
    """A checkout's card payment went through: its order is placed now, even if the customer
    never comes back from their bank's page."""
    checkout_paid_place(hub=hub, payment_id=payment_id)
