"""Giving back what a completed order took: to credit, as the kinds of credit that paid it, or to
the card that paid its rest."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credit_unit_of
from hubtab.accounts.services import (
    charge_refund_post,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check, currency_unit, money_format, reader_locale
from hubtab.core.services import audit_money, audit_record
from hubtab.ledger.selectors import LotDraw, lots_drawn, transaction_key_used
from hubtab.ledger.types import LotKind
from hubtab.payments.models import Payment, PaymentMethod, PaymentRefund, RefundStatus
from hubtab.payments.services import (
    payment_refund_prepare,
    refund_credit_minor,
    refund_send,
)
from hubtab.shop import events, locks
from hubtab.shop.models import (
    Order,
    OrderEventKind,
    OrderStatus,
)
from hubtab.shop.order_log import order_event_record, order_reference


class RefundTo:
    CREDIT = "credit"
    CARD = "card"


def refundable_minor(order: Order) -> int:
    """What a completed order can still give back: what it took for itself (not the debt of
    earlier orders it collected), less what was refunded already."""
    return max(order.captured_minor - order.carried_minor - order.refunded_minor, 0)


def _refund_parts(hub: Hub, order: Order, amount_minor: int, to: str) -> list[LotDraw]:
    """How a refund of `amount_minor` comes back: as the kinds of credit that paid the order,
    granted credit first (with its expiry), then paid; a refund to the card only from what was
    paid. Debt of earlier orders that this order collected is not refundable: it was owed."""
    drawn = lots_drawn(
        hub_id=hub.id, account_id=order.account_id, keys=[f"order:{order.id}:capture", f"order:{order.id}:charge"],
        key_prefix=f"order:{order.id}:extra:",
    )  # fmt: skip
    own_minor = max(order.captured_minor - order.carried_minor, 0)
    granted_total = min(sum(d.amount_minor for d in drawn if d.kind == LotKind.GRANTED), own_minor)
    refunded_granted = order.refunded_minor - order.refunded_paid_minor
    granted_left = granted_total - refunded_granted
    paid_left = own_minor - granted_total - order.refunded_paid_minor
    granted_minor = 0 if to == RefundTo.CARD else min(amount_minor, granted_left)
    paid_minor = amount_minor - granted_minor
    if paid_minor > paid_left:
        most = paid_left if to == RefundTo.CARD else paid_left + granted_left
        message = (
            _("At most %(left)s of this order can still be refunded to the card.")
            if to == RefundTo.CARD
            else _("At most %(left)s of this order can still be refunded.")
        )
        raise DomainError(
            "refund_too_large", message % {"left": money_format(max(most, 0), credit_unit_of(hub=hub), reader_locale())}
        )
    parts: list[LotDraw] = []
    skip, want = refunded_granted, granted_minor
    for draw in reversed([d for d in drawn if d.kind == LotKind.GRANTED]):
        usable = max(draw.amount_minor - skip, 0)
        skip = max(skip - draw.amount_minor, 0)
        take = min(usable, want)
        if take:
            parts.append(LotDraw(LotKind.GRANTED, draw.expires_at, take))
            want -= take
    if paid_minor:
        parts.append(LotDraw(LotKind.PAID, None, paid_minor))
    return parts


def order_refund(
    *, hub: Hub, actor: User, order_id: int, amount_minor: int, reason: str, key: str, to: str = RefundTo.CREDIT
) -> Order:
    """Give back part or all of what a completed order took, once per key: to the customer's
    credit, as the kinds of credit that paid it; or, for an order whose rest was paid by card,
    back to that card. A refund to the card is checked whole before anything moves; then, in one
    transaction, the credit is given back and taken again as the card refund, which is sent after
    the commit (and by the reconcile job if that send is lost)."""
    amount_check(amount_minor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("comment_required", _("Say why: the reason is kept with the refund."))
    if to not in (RefundTo.CREDIT, RefundTo.CARD):
        raise DomainError("validation_error", _("Refund to credit or to the card."))
    # Keyed under the order (see ledger.owners): its postings are then known to be the order's.
    ledger_key, card_key = f"order:{order_id}:refund:{key}", f"order:{order_id}:refund:{key}:card"
    with transaction.atomic():
        order = locks.order_locked(hub=hub, order_id=order_id)
        replayed = transaction_key_used(hub_id=hub.id, key=ledger_key)
        if not replayed:
            if order.status != OrderStatus.COMPLETED:
                raise DomainError(
                    "order_not_completed", _("Only a completed order can be refunded; cancel an open one.")
                )
            money_minor = _card_refund_check(hub, order, amount_minor) if to == RefundTo.CARD else 0
            parts = _refund_parts(hub, order, amount_minor, to)
            charge_refund_post(hub=hub, account_id=order.account_id, parts=parts, reference=order_reference(hub, order),
                               reason=reason, key=ledger_key, actor=actor)  # fmt: skip
            paid_minor = sum(part.amount_minor for part in parts if part.kind == LotKind.PAID)
            order.refunded_minor += amount_minor
            order.refunded_paid_minor += paid_minor
            order.save(update_fields=["refunded_minor", "refunded_paid_minor"])
            order_event_record(order, OrderEventKind.REFUNDED_CREDIT, amount_minor, note=reason, actor=actor)
            events.order_refunded(order=order, amount_minor=amount_minor, key=ledger_key, to=to, reason=reason,
                                  actor=actor)  # fmt: skip
            audit_record(hub=hub, actor=actor, action="order.refund", subject=order,
                         summary=gettext_noop("Refunded %(amount)s of order #%(order)s to the card: %(reason)s")
                         if to == RefundTo.CARD
                         else gettext_noop("Refunded %(amount)s of order #%(order)s to credit: %(reason)s"),
                         params={"amount": audit_money(amount_minor, order.unit), "order": order.id, "reason": reason},
                         data={"amount_minor": amount_minor, "to": to})  # fmt: skip
            if money_minor:
                assert order.payment_id is not None  # checked by _card_refund_check
                payment_refund_prepare(hub=hub, actor=actor, payment_id=order.payment_id, amount_minor=money_minor,
                                       reason=reason, key=card_key)  # fmt: skip
    refund = PaymentRefund.objects.filter(hub=hub, key=card_key).first()
    if refund is not None and refund.status in (RefundStatus.PENDING, RefundStatus.UNKNOWN):
        refund = refund_send(hub=hub, refund=refund)
        if refund.status in (RefundStatus.SUCCEEDED, RefundStatus.PENDING, RefundStatus.UNKNOWN):
            order_event_record(
                order, OrderEventKind.REFUNDED_CARD, refund.credit_minor, note=reason, actor=actor, key=card_key
            )
    return order


def _card_refund_check(hub: Hub, order: Order, amount_minor: int) -> int:
    """The money a refund to the card sends, refused before anything moves when it can't be made:
    no card payment that went through, more than it can still give back, or credit that does not
    come to a whole amount of money. The credit it takes back is then exactly `amount_minor`."""
    payment = Payment.objects.filter(hub=hub, id=order.payment_id).first() if order.payment_id else None
    if payment is None or payment.method != PaymentMethod.CARD or not payment.card_refundable_minor:
        raise DomainError("not_refundable", _("This order was not paid by a card payment that went through: "
                                              "refund it to credit."))  # fmt: skip
    money_minor = -(-amount_minor * payment.price_minor // payment.paid_minor)  # rounded up
    if refund_credit_minor(payment, money_minor) != amount_minor:
        raise DomainError("not_refundable", _("That amount of credit is not a whole amount of money: refund it to "
                                              "credit, or choose another amount."))  # fmt: skip
    if money_minor > payment.card_refundable_minor:
        raise DomainError(
            "not_refundable",
            _("At most %(left)s can still go back to this card.")
            % {"left": money_format(payment.card_refundable_minor, currency_unit(payment.currency), reader_locale())},
        )
    return money_minor
