"""Top-ups by bank transfer: the reference the customer quotes, confirmed or cancelled by finance."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record
from hubtab.ledger.types import SystemAccount
from hubtab.payments import locks
from hubtab.payments.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from hubtab.payments.topups import _credit_post

BANK_TRANSFER_MEMO = gettext_noop("Bank transfer")


def transfer_reference(payment: Payment) -> str:
    """What the customer writes on their bank transfer, so that finance can match it."""
    return f"HT-{payment.hub_id}-{payment.id}"


def transfer_confirm(*, hub: Hub, actor: User, payment_id: int) -> Payment:
    """Finance saw the transfer arrive: the credit is posted, once (a second click does nothing)."""
    with transaction.atomic():
        payment = locks.payment_locked(hub=hub, payment_id=payment_id)
        if payment is None or payment.method != PaymentMethod.BANK_TRANSFER:
            raise DomainError("not_found", _("No such bank transfer at this hub."))
        if payment.status == PaymentStatus.SUCCEEDED:
            return payment
        if payment.status != PaymentStatus.PENDING:
            raise DomainError("payment_not_open", _("This transfer was cancelled."))
        _credit_post(hub, payment, source_code=SystemAccount.EXTERNAL_PAYMENTS,
                     memo=f"{BANK_TRANSFER_MEMO}: {transfer_reference(payment)}", actor=actor)  # fmt: skip
        audit_record(hub=hub, actor=actor, action="payment.transfer_confirm", subject=payment,
                     summary=gettext_noop("Confirmed the bank transfer %(ref)s"),
                     params={"ref": transfer_reference(payment)})  # fmt: skip
    return payment


def transfer_cancel(*, hub: Hub, actor: User, payment_id: int) -> Payment:
    """The transfer never came (or was made twice by mistake): it will not be credited."""
    with transaction.atomic():
        payment = locks.payment_locked(hub=hub, payment_id=payment_id)
        if payment is None or payment.method != PaymentMethod.BANK_TRANSFER:
            raise DomainError("not_found", _("No such bank transfer at this hub."))
        if payment.status != PaymentStatus.PENDING:
            raise DomainError("payment_not_open", _("Only a transfer still waiting can be cancelled."))
        payment.status = PaymentStatus.CANCELED
        payment.updated_at = timezone.now()
        payment.save(update_fields=["status", "updated_at"])
        audit_record(hub=hub, actor=actor, action="payment.transfer_cancel", subject=payment,
                     summary=gettext_noop("Cancelled the bank transfer %(ref)s"),
                     params={"ref": transfer_reference(payment)})  # fmt: skip
    return payment
