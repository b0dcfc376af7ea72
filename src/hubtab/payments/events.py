"""What happens to a customer's payments, as their activity: one function per happening, called
inside the transaction of the payments service that caused it."""

from __future__ import annotations

from django.utils import timezone

from hubtab.core.models import User
from hubtab.crm.activity import ActivityKind, Ref, activity_record
from hubtab.payments.models import Payment, PaymentRefund


def customer_topped_up(*, payment: Payment, actor: User | None = None) -> None:
    """The payment's credit is posted (a card top-up, a card paying a checkout, a bank transfer)."""
    activity_record(
        customer=payment.customer, kind=ActivityKind.TOPPED_UP, key=f"payment:{payment.id}:succeeded",
        occurred_at=payment.settled_at or timezone.now(), amount_minor=payment.price_minor, unit=payment.currency,
        ref=Ref("payment", payment.id), actor=actor,
        data={"method": payment.method, "credits_minor": payment.paid_minor + payment.bonus_minor,
              "credit_unit": payment.unit, "automatic": payment.off_session},
    )  # fmt: skip


def payment_failed(*, payment: Payment) -> None:
    activity_record(
        customer=payment.customer, kind=ActivityKind.PAYMENT_FAILED, key=f"payment:{payment.id}:failed",
        occurred_at=timezone.now(), amount_minor=payment.price_minor, unit=payment.currency,
        ref=Ref("payment", payment.id), data={"message": payment.failure_message, "automatic": payment.off_session},
    )  # fmt: skip


def payment_refunded(*, payment: Payment, refund: PaymentRefund, actor: User | None) -> None:
    activity_record(
        customer=payment.customer, kind=ActivityKind.PAYMENT_REFUNDED, key=f"refund:{refund.id}",
        occurred_at=refund.created_at, amount_minor=refund.amount_minor, unit=payment.currency,
        ref=Ref("payment", payment.id), actor=actor, data={"reason": refund.reason},
    )  # fmt: skip
