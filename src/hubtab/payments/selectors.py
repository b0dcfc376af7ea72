"""Reads of payments: a customer's payments with their refunds, and their saved cards."""

from __future__ import annotations

from django.db.models import QuerySet

from hubtab.core.models import Hub
from hubtab.payments.models import AutoTopUp, GatewayAccount, Payment, PaymentMethod, PaymentStatus, SavedCard


def hub_takes_cards(*, hub: Hub) -> bool:
    """Whether the hub has entered its gateway keys, and so takes cards."""
    return GatewayAccount.objects.filter(hub=hub).exists()


def payment_list(*, hub: Hub, account_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(hub=hub, account_id=account_id).prefetch_related("refunds").order_by("-created_at")


def saved_card_list(*, hub: Hub, account_id: int) -> QuerySet[SavedCard]:
    return SavedCard.objects.filter(hub=hub, account_id=account_id, removed_at__isnull=True)


def auto_top_up_of(*, hub: Hub, account_id: int) -> AutoTopUp | None:
    return AutoTopUp.objects.filter(hub=hub, account_id=account_id).first()


def transfer_list(*, hub: Hub) -> QuerySet[Payment]:
    """Bank transfers announced and not yet seen arriving, oldest first."""
    return (
        Payment.objects.filter(hub=hub, method=PaymentMethod.BANK_TRANSFER, status=PaymentStatus.PENDING)
        .select_related("customer")
        .order_by("created_at")
    )
