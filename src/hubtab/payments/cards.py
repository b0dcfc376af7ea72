"""Saved cards: setting one up, and what an expired card does to a card-backed spending limit."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credit_settings_of
from hubtab.accounts.services import account_floor_change
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_get, account_state
from hubtab.payments.gateway import CardFacts, GatewayUnavailable
from hubtab.payments.keys import _gateway_customer, gateway_for
from hubtab.payments.models import (
    CardLimitSuspension,
    GatewayCustomer,
    Payment,
    SavedCard,
)


def _card_known(hub: Hub, payment_method_ref: str) -> CardFacts | None:
    saved = SavedCard.objects.filter(hub=hub, payment_method_ref=payment_method_ref).first()
    if saved is None:
        return None
    return CardFacts(payment_method_ref, saved.brand, saved.last4, saved.exp_month, saved.exp_year)


def _card_save(hub: Hub, payment: Payment, card: CardFacts) -> None:
    """Keep the card's facts (inside the payment's lock), and give back a limit its expiry took."""
    customer_ref = GatewayCustomer.objects.get(hub=hub, account_id=payment.account_id).ref
    SavedCard.objects.update_or_create(
        hub=hub, payment_method_ref=card.payment_method_ref,
        defaults={
            "account_id": payment.account_id, "gateway_customer_ref": customer_ref, "brand": card.brand,
            "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year, "removed_at": None,
        },
    )  # fmt: skip
    card_limit_restore(hub=hub, account_id=payment.account_id)


def card_expired(card: SavedCard, now: datetime) -> bool:
    """A card is good to the end of its expiry month."""
    return (now.year, now.month) > (card.exp_year, card.exp_month)


def cards_expiry_run(*, now: datetime | None = None) -> dict[str, int]:
    """Find saved cards past their expiry, once each. Where the hub backs debt with cards and the
    customer has no other valid card, their spending limit drops to 0. Limits dropped earlier come
    back to the hub's default once a valid card is saved and the balance is at or above 0."""
    now = now or timezone.now()
    counts = {"expired": 0, "limits_dropped": 0, "limits_restored": 0}
    # The morning job walks every hub's cards.
    fresh = SavedCard.objects.across_hubs().filter(removed_at__isnull=True, expired_at__isnull=True)
    for card in fresh.select_related("hub").order_by("id"):
        if not card_expired(card, now):
            continue
        claimed = SavedCard.objects.filter(hub_id=card.hub_id, id=card.id, expired_at__isnull=True).update(
            expired_at=now
        )
        if not claimed:
            continue  # another run saw it first
        counts["expired"] += 1
        hub = card.hub
        if credit_settings_of(hub=hub).card_backed_floor and not _valid_card_exists(hub, card.account_id, now):
            counts["limits_dropped"] += _limit_suspend(hub, card.account_id)
    for suspension in CardLimitSuspension.objects.across_hubs().select_related("hub").order_by("id"):
        counts["limits_restored"] += card_limit_restore(hub=suspension.hub, account_id=suspension.account_id, now=now)
    return counts


def _valid_card_exists(hub: Hub, account_id: int, now: datetime) -> bool:
    cards = SavedCard.objects.filter(hub=hub, account_id=account_id, removed_at__isnull=True)
    return any(not card_expired(card, now) for card in cards)


def _limit_suspend(hub: Hub, account_id: int) -> int:
    account = account_get(hub_id=hub.id, account_id=account_id)
    if (account.floor_minor or 0) >= 0:
        return 0  # no debt allowed anyway
    with transaction.atomic():
        _row, created = CardLimitSuspension.objects.get_or_create(
            hub=hub, account_id=account_id, defaults={"floor_before_minor": account.floor_minor or 0}
        )
        if created:
            account_floor_change(hub=hub, account_id=account_id, floor_minor=0, why="the saved card expired")
    return int(created)


def card_limit_restore(*, hub: Hub, account_id: int, now: datetime | None = None) -> int:
    """Give back the hub's default limit to an account whose card had expired, if it now has a
    valid card and a balance at or above 0. Returns 1 if it did."""
    now = now or timezone.now()
    if not _valid_card_exists(hub, account_id, now):
        return 0
    if account_state(hub_id=hub.id, account_id=account_id).balance_minor < 0:
        return 0
    with transaction.atomic():
        deleted, _rows = CardLimitSuspension.objects.filter(hub=hub, account_id=account_id).delete()
        if deleted:
            account_floor_change(hub=hub, account_id=account_id, floor_minor=credit_settings_of(hub=hub)
                                 .default_floor_minor, why="a valid card was saved")  # fmt: skip
    return int(bool(deleted))


def card_setup_start(*, hub: Hub, customer: Customer) -> tuple[str, str]:
    """The gateway's card form for saving a card: (setup reference, client secret)."""
    gateway = gateway_for(hub)
    try:
        customer_ref = _gateway_customer(hub, gateway, customer)
        return gateway.setup_create(key=f"card-setup-{uuid.uuid4()}", customer_ref=customer_ref)
    except GatewayUnavailable:
        raise DomainError(
            "gateway_unavailable", _("The payment provider is not answering; try again shortly.")
        ) from None


def card_setup_finish(*, hub: Hub, customer: Customer, setup_ref: str, actor: User | None) -> SavedCard:
    """Keep the card the gateway's form saved (its facts only), and give back a limit an expired
    card took, where the balance allows."""
    gateway = gateway_for(hub)
    customer_ref = GatewayCustomer.objects.filter(hub=hub, account_id=customer.account_id).first()
    try:
        status, method_ref = gateway.setup_get(setup_ref)
        card = gateway.card_get(method_ref) if status == "succeeded" and method_ref else None
    except GatewayUnavailable:
        raise DomainError(
            "gateway_unavailable", _("The payment provider is not answering; try again shortly.")
        ) from None
    if card is None or customer_ref is None:
        raise DomainError("card_not_ready", _("The card was not accepted; check it and try again."))
    with transaction.atomic():
        saved, _created = SavedCard.objects.update_or_create(
            hub=hub, payment_method_ref=card.payment_method_ref,
            defaults={
                "account_id": customer.account_id, "gateway_customer_ref": customer_ref.ref, "brand": card.brand,
                "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year, "removed_at": None,
            },
        )  # fmt: skip
        if actor is not None and actor.pk != getattr(customer, "user_id", None):
            audit_record(hub=hub, actor=actor, action="payment.card_saved", subject=customer,
                         summary=gettext_noop("Saved a card for the customer: %(brand)s ending %(last4)s"),
                         params={"brand": card.brand, "last4": card.last4})  # fmt: skip
        card_limit_restore(hub=hub, account_id=customer.account_id)
    return saved
