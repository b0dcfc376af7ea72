"""Charges to a customer's saved card made without them (automatic top-ups, scheduled payments):
each is a payment with its own key, committed before the gateway is called, then charged once."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from hubtab.accounts.selectors import Quote
from hubtab.core.models import Hub, User
from hubtab.crm.models import Customer
from hubtab.payments.cards import card_expired
from hubtab.payments.gateway import GatewayUnavailable
from hubtab.payments.keys import gateway_for
from hubtab.payments.models import GatewayCustomer, Payment, PaymentStatus, SavedCard
from hubtab.payments.topups import _charge, payment_refresh, payment_settle

log = logging.getLogger(__name__)


def card_for_charges(*, hub: Hub, account_id: int, now: datetime | None = None) -> SavedCard | None:
    """The card an off-session charge uses: the newest saved card that has not expired."""
    now = now or timezone.now()
    cards = SavedCard.objects.filter(hub=hub, account_id=account_id, removed_at__isnull=True).order_by("-created_at")
    return next((card for card in cards if not card_expired(card, now)), None)


def payment_off_session_create(
    *, hub: Hub, customer: Customer, card: SavedCard, quote: Quote, key: str, memo: str = "",
    actor: User | None = None,
) -> Payment:  # fmt: skip
    """The payment an off-session charge will make, not charged yet. Its key is unique at the hub:
    a second create with the same key raises IntegrityError, so a run that repeats makes none."""
    GatewayCustomer.objects.get_or_create(
        hub=hub, account_id=customer.account_id, defaults={"ref": card.gateway_customer_ref}
    )
    return Payment.objects.create(
        hub=hub, account_id=customer.account_id, customer=customer, currency=quote.currency,
        price_minor=quote.price_minor, unit=quote.unit.code, paid_minor=quote.paid_minor,
        bonus_minor=quote.bonus_minor, bundle_name=quote.bundle_name, key=key, off_session=True,
        payment_method_ref=card.payment_method_ref, memo=memo, created_by=actor,
    )  # fmt: skip


def payment_charge(*, hub: Hub, payment_id: int) -> Payment:
    """Charge an off-session payment, or find out what became of an earlier charge of it; safe to
    call again after a crash or at the same moment from another process."""
    payment = Payment.objects.get(hub=hub, id=payment_id)
    return _charge(hub, gateway_for(hub), payment)[0]


def payment_open_cancel(*, hub: Hub, payment_id: int) -> Payment:
    """Stop a payment that still waits for the customer's bank, before another charge is tried:
    the customer can no longer confirm the old one and pay twice. It may have succeeded meanwhile;
    then it is credited as such."""
    payment = payment_refresh(hub=hub, payment=Payment.objects.get(hub=hub, id=payment_id))
    if payment.status != PaymentStatus.REQUIRES_ACTION or not payment.gateway_ref:
        return payment
    try:
        state = gateway_for(hub).intent_cancel(payment.gateway_ref)
    except GatewayUnavailable:
        log.warning("payment %s: the gateway did not answer the cancel; asked again later", payment.id)
        return payment
    return payment_settle(hub=hub, payment_id=payment.id, state=state)
