"""Refunds to the card: paid credit taken back first, then the gateway asked, once per key."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import Quote
from hubtab.accounts.services import posting_undo, topup_refund_post
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check, currency_unit, money_format, reader_locale, unit_get
from hubtab.core.services import audit_money, audit_record
from hubtab.ledger import selectors as ledger_selectors
from hubtab.ledger.types import SystemAccount
from hubtab.payments import events, locks
from hubtab.payments.gateway import GatewayUnavailable
from hubtab.payments.keys import gateway_for
from hubtab.payments.models import (
    Payment,
    PaymentRefund,
    PaymentStatus,
    RefundStatus,
)
from hubtab.payments.topups import RECONCILE_AFTER


def payment_refund(
    *, hub: Hub, actor: User, payment_id: int, amount_minor: int, reason: str, key: str
) -> PaymentRefund:
    """Give money back to the card a top-up came from (finance). The paid credit it bought is taken
    from the account first, in proportion (granted credit, bonuses included, is never refunded);
    then the gateway is asked. Sending the same form twice refunds once."""
    refund = payment_refund_prepare(
        hub=hub, actor=actor, payment_id=payment_id, amount_minor=amount_minor, reason=reason, key=key
    )
    return refund_send(hub=hub, refund=refund)


def refund_credit_minor(payment: Payment, amount_minor: int) -> int:
    """The paid credit a refund of `amount_minor` (money) takes back: in proportion, so that
    refunding the whole payment takes exactly what it bought."""
    return (payment.refunded_minor + amount_minor) * payment.paid_minor // payment.price_minor - (
        payment.refunded_minor * payment.paid_minor // payment.price_minor
    )


def payment_refund_prepare(
    *, hub: Hub, actor: User, payment_id: int, amount_minor: int, reason: str, key: str
) -> PaymentRefund:
    """The database half of a refund to the card, in one transaction (a caller's, when it has one):
    the paid credit is taken from the account and the refund recorded, to be sent by `refund_send`
    (or by the reconcile job, if nothing sends it)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("comment_required", _("Say why: the reason is kept with the refund."))
    amount_check(amount_minor)
    existing = PaymentRefund.objects.filter(hub=hub, key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        payment = locks.payment_locked(hub=hub, payment_id=payment_id)
        if payment is None:
            raise DomainError("not_found", _("That payment does not exist at this hub."))
        if payment.status != PaymentStatus.SUCCEEDED or not payment.gateway_ref:
            raise DomainError("not_refundable", _("Only a card payment that went through can be refunded."))
        left = payment.card_refundable_minor
        if amount_minor > left:
            currency = currency_unit(payment.currency)
            raise DomainError(
                "not_refundable",
                _("At most %(left)s of this payment can still be refunded.")
                % {"left": money_format(left, currency, reader_locale())},
            )
        credit_minor = refund_credit_minor(payment, amount_minor)
        if credit_minor <= 0:
            raise DomainError("invalid_amount", _("That amount is too small to give back any credit."))
        account = ledger_selectors.account_get(hub_id=hub.id, account_id=payment.account_id)
        unit = unit_get(hub_id=hub.id, code=payment.unit)
        quote = Quote(currency=payment.currency, price_minor=amount_minor, unit=unit, paid_minor=credit_minor,
                      bonus_minor=0)  # fmt: skip
        refund = PaymentRefund.objects.create(
            hub=hub, payment=payment, amount_minor=amount_minor, credit_minor=credit_minor, key=key,
            reason=reason[:500], actor=actor,
        )  # fmt: skip
        posted = topup_refund_post(
            hub=hub, account_id=account.id, quote=quote, key=f"refund:{refund.id}",
            source_code=SystemAccount.PAYMENTS_CLEARING, memo=gettext_noop("Refund to card"), actor_id=actor.id,
            reason=reason,
        )  # fmt: skip
        refund.transaction_id = posted.transaction_id
        refund.save(update_fields=["transaction_id"])
        payment.refunded_minor += amount_minor
        payment.save(update_fields=["refunded_minor"])
        events.payment_refunded(payment=payment, refund=refund, actor=actor)
        audit_record(
            hub=hub, actor=actor, action="payment.refund", subject=account,
            summary=gettext_noop("Refunded %(amount)s to the card: %(reason)s"),
            params={"amount": audit_money(amount_minor, payment.currency), "reason": reason},
            data={"payment_id": payment.id, "refund_id": refund.id, "credit_minor": credit_minor},
        )  # fmt: skip
    return refund


def refund_send(*, hub: Hub, refund: PaymentRefund) -> PaymentRefund:
    """Ask the gateway to send the refund (again, with the same key, after a timeout)."""
    if refund.status not in (RefundStatus.PENDING, RefundStatus.UNKNOWN):
        return refund
    try:
        gateway_ref = gateway_for(hub).refund(key=refund.key, intent_ref=refund.payment.gateway_ref,
                                              amount_minor=refund.amount_minor)  # fmt: skip
    except GatewayUnavailable:
        PaymentRefund.objects.filter(hub=hub, id=refund.id).update(
            status=RefundStatus.UNKNOWN, updated_at=timezone.now()
        )
        refund.status = RefundStatus.UNKNOWN
        return refund
    except DomainError as exc:
        return _refund_refused(hub, refund, exc.message)
    PaymentRefund.objects.filter(hub=hub, id=refund.id).update(
        status=RefundStatus.SUCCEEDED, gateway_ref=gateway_ref, updated_at=timezone.now()
    )
    refund.status, refund.gateway_ref = RefundStatus.SUCCEEDED, gateway_ref
    return refund


def _refund_refused(hub: Hub, refund: PaymentRefund, message: str) -> PaymentRefund:
    """The gateway said no: the credit taken for it goes back to the account, once."""
    with transaction.atomic():
        locked = locks.refund_locked(hub=hub, refund_id=refund.id)
        if locked.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED) or locked.transaction_id is None:
            return locked
        reversal = posting_undo(
            hub=hub, transaction_id=locked.transaction_id, key=f"refund-refused:{locked.id}",
            reason=f"The card refund was refused: {message}",
        )  # fmt: skip
        Payment.objects.filter(hub=hub, id=locked.payment_id).update(
            refunded_minor=F("refunded_minor") - locked.amount_minor
        )
        locked.status = RefundStatus.FAILED
        locked.failure_message = message[:300]
        locked.reversal_transaction_id = reversal.transaction_id
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "failure_message", "reversal_transaction_id", "updated_at"])
    return locked


def refunds_reconcile() -> int:
    """Send again every refund whose answer was lost (same key: the gateway refunds once)."""
    sent = 0
    for refund in (
        PaymentRefund.objects.across_hubs()
        .filter(  # the reconcile job walks every hub
            status__in=[RefundStatus.PENDING, RefundStatus.UNKNOWN], updated_at__lt=timezone.now() - RECONCILE_AFTER
        )
        .select_related("hub", "payment")[:200]
    ):
        sent += refund_send(hub=refund.hub, refund=refund).status == RefundStatus.SUCCEEDED
    return sent
