"""The rows payments lock, one function each. A payment (or a refund) is locked alone, before the
account that its posting locks inside the ledger: who learns a payment's outcome first (the
customer's return, the webhook, the reconcile job) settles it, and the others wait and see it final."""

from __future__ import annotations

from hubtab.core.models import Hub
from hubtab.payments.models import AutoTopUp, GatewayAccount, Payment, PaymentRefund


def payment_locked(*, hub: Hub, payment_id: int) -> Payment | None:
    return Payment.objects.select_for_update().filter(hub=hub, id=payment_id).first()


def refund_locked(*, hub: Hub, refund_id: int) -> PaymentRefund:
    return PaymentRefund.objects.select_for_update().get(hub=hub, id=refund_id)


def auto_top_up_locked(*, hub: Hub, rule_id: int) -> AutoTopUp:
    return AutoTopUp.objects.select_for_update().get(hub=hub, id=rule_id)


def gateway_account_locked(*, hub: Hub) -> GatewayAccount | None:
    return GatewayAccount.objects.select_for_update().filter(hub=hub).first()
