"""The crew's hand on a customer's or organisation's credit: adding, removing, recording money
paid by hand, refunding to credit and reversing a mistake, each posted with who and why, and audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import topup_quote
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check, unit_get
from hubtab.core.services import audit_money, audit_record
from hubtab.ledger import selectors as ledger_selectors
from hubtab.ledger import services as ledger
from hubtab.ledger.owners import Owner, OwnerKind, posting_owner
from hubtab.ledger.types import Leg, Posted, SystemAccount

if TYPE_CHECKING:
    pass
from hubtab.accounts.recipes import holder_account, purchase_legs


class CreditAction:
    """What crew can do to an account by hand, and the hub account on the other side of each."""

    ADD_PAID = "add_paid"  # a correction in the customer's favour, as paid (refundable) credit
    ADD_GRANTED = "add_granted"  # goodwill, a voucher: granted credit, may expire
    REMOVE = "remove"  # a correction against the customer
    EXTERNAL_PAYMENT = "external_payment"  # cash, bank transfer, point of sale: paid credit
    REFUND = "refund"  # money owed to the customer, given back as credit

    ALL = (ADD_PAID, ADD_GRANTED, REMOVE, EXTERNAL_PAYMENT, REFUND)
    KIND = {
        ADD_PAID: "adjustment",
        ADD_GRANTED: "grant",
        REMOVE: "adjustment",
        EXTERNAL_PAYMENT: "top_up",
        REFUND: "refund",
    }
    OTHER_SIDE = {
        ADD_PAID: SystemAccount.ADJUSTMENTS,
        ADD_GRANTED: SystemAccount.GRANTED_CREDIT_EXPENSE,
        REMOVE: SystemAccount.ADJUSTMENTS,
        EXTERNAL_PAYMENT: SystemAccount.EXTERNAL_PAYMENTS,
        REFUND: SystemAccount.REFUNDS,
    }


ACTION_LABELS = {
    CreditAction.ADD_PAID: gettext_noop("Added"),
    CreditAction.ADD_GRANTED: gettext_noop("Granted"),
    CreditAction.REMOVE: gettext_noop("Removed"),
    CreditAction.EXTERNAL_PAYMENT: gettext_noop("Recorded a payment of"),
    CreditAction.REFUND: gettext_noop("Refunded to credit"),
}
# Translated into the hub's language for the ledger's memo, and into the reader's in the form.
EXTERNAL_METHODS = {
    "cash": gettext_noop("Cash"),
    "bank_transfer": gettext_noop("Bank transfer"),
    "point_of_sale": gettext_noop("Point of sale"),
}


def credit_apply(
    *,
    hub: Hub,
    actor: User | None,
    account_id: int,
    action: str,
    amount_minor: int,
    comment: str,
    key: str,
    expires_at: datetime | None = None,
    method: str = "",
    for_order: bool = False,
) -> Posted:
    """Add, remove, refund or record credit on a customer or organisation account, by hand.

    `comment` is required: it is the reason kept on the transaction and shown in the history.
    A replayed `key` (a form sent twice) posts nothing more. A payment `for_order` (cash at
    pickup) pays for an order: it becomes credit at the hub's price, without bundle or bonus.
    """
    if action not in CreditAction.ALL:
        raise DomainError("validation_error", _("Choose what to do."))
    amount_check(amount_minor)
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("comment_required", _("Say why: the comment is kept with the entry."))
    if len(comment) > 500:
        raise DomainError("validation_error", _("Keep the comment under 500 characters."))
    if action == CreditAction.EXTERNAL_PAYMENT and method not in EXTERNAL_METHODS:
        raise DomainError("validation_error", _("Say how the customer paid: cash, bank transfer or point of sale."))
    if action != CreditAction.ADD_GRANTED:
        expires_at = None
    elif expires_at is not None and expires_at <= timezone.now():
        raise DomainError("invalid_expiry", _("Credit must expire in the future."))
    account = holder_account(hub, account_id)
    unit = unit_get(hub_id=hub.id, code=account.unit)
    bought: dict[str, Any] | str = ""
    if action == CreditAction.EXTERNAL_PAYMENT:
        # Money received becomes credit at the hub's price, with its bundle or bonus, like a top-up.
        quote = topup_quote(hub=hub, currency=hub.currency, price_minor=amount_minor)
        if for_order:
            quote = replace(quote, bonus_minor=0, bundle_id=None, bundle_name="")
        legs = purchase_legs(hub=hub, account=account, quote=quote, source_code=SystemAccount.EXTERNAL_PAYMENTS)
        paid_for = audit_money(amount_minor, hub.currency)
        if quote.unit.code != hub.currency or quote.bonus_minor:
            bought = audit_money(quote.total_minor, unit.code)
    else:
        other = ledger.account_system_get(hub_id=hub.id, code=CreditAction.OTHER_SIDE[action], unit=account.unit)
        if action == CreditAction.REMOVE:
            legs = [Leg(account.id, -amount_minor, account.unit), Leg(other.id, amount_minor, account.unit)]
        else:
            lot_kind = "granted" if action == CreditAction.ADD_GRANTED else "paid"
            legs = [
                Leg(other.id, -amount_minor, account.unit),
                Leg(account.id, amount_minor, account.unit, lot_kind=lot_kind, lot_expires_at=expires_at),
            ]
        paid_for = audit_money(amount_minor, unit.code)
    # Stored in Hubtab's words ("Cash: …"), shown in the reader's language (ledger.labels).
    memo = f"{EXTERNAL_METHODS[method]}: {comment}" if method else comment
    with transaction.atomic():
        posted = ledger.transaction_post(
            hub_id=hub.id,
            key=key,
            legs=legs,
            kind=CreditAction.KIND[action],
            memo=memo,
            actor_id=actor.id if actor else None,
            reason=comment,
        )
        if not posted.replayed:
            audit_record(
                hub=hub,
                actor=actor,
                action=f"credit.{action}",
                summary=gettext_noop("%(action_word)s %(amount)s (%(bought)s): %(comment)s")
                if bought
                else gettext_noop("%(action_word)s %(amount)s: %(comment)s"),
                params={"action_word": ACTION_LABELS[action], "amount": paid_for, "bought": bought, "comment": comment},
                subject=account,
                data={
                    "transaction_id": posted.transaction_id,
                    "amount_minor": amount_minor,
                    "method": method,
                    "expires_at": expires_at.isoformat() if expires_at else None,
                },
            )
    return posted


def credit_apply_many(
    *,
    hub: Hub,
    actor: User,
    account_ids: list[int],
    action: str,
    amount_minor: int,
    comment: str,
    key: str,
    expires_at: datetime | None = None,
) -> list[Posted]:
    """The same credit for many customers at once, all or none (one transaction per customer)."""
    if not account_ids:
        raise DomainError("validation_error", _("Choose at least one customer."))
    if action not in (CreditAction.ADD_PAID, CreditAction.ADD_GRANTED):
        raise DomainError("validation_error", _("Many customers at once can only be given credit."))
    with transaction.atomic():
        return [
            credit_apply(
                hub=hub,
                actor=actor,
                account_id=account_id,
                action=action,
                amount_minor=amount_minor,
                comment=comment,
                key=f"{key}:{account_id}",
                expires_at=expires_at,
            )
            for account_id in sorted(set(account_ids))
        ]


# Postings that are themselves corrections or the ledger's own (an expiry) are not reversed again.
NOT_REVERSIBLE_KINDS = ("reversal", "lot_expiry")


def reversible_by_hand(*, owner: Owner | None, kind: str, reversed_already: bool) -> bool:
    """Whether crew may reverse this posting from a customer's history: one made by hand or over
    the API, not yet reversed; what an order, a payment or a refund posted is undone there."""
    return owner is None and kind not in NOT_REVERSIBLE_KINDS and not reversed_already


def transaction_correct(*, hub: Hub, actor: User, transaction_id: int, reason: str, key: str) -> Posted:
    """Reverse a mistaken transaction (the ledger posts its exact opposite), with who and why.

    Only what was posted by hand or over the API: a posting an order, a payment or a card refund
    made is undone through its owner, which keeps its own record of what it took and gave back."""
    reason = (reason or "").strip()
    posted_before = ledger_selectors.transaction_key_memo(hub_id=hub.id, transaction_id=transaction_id)
    owner = posting_owner(posted_before[0]) if posted_before else None
    if owner is not None:
        raise _owned_refusal(owner, posted_before[1] if posted_before else "")
    holders = ledger_selectors.holders_of_transaction(hub_id=hub.id, transaction_id=transaction_id)
    with transaction.atomic():
        posted = ledger.transaction_reverse(
            hub_id=hub.id, transaction_id=transaction_id, key=key, reason=reason, actor_id=actor.id
        )
        for holder in holders if not posted.replayed else []:
            audit_record(
                hub=hub,
                actor=actor,
                action="credit.reverse",
                summary=gettext_noop("Reversed a transaction: %(reason)s"),
                params={"reason": reason},
                subject=holder,
                data={"transaction_id": transaction_id, "reversal_id": posted.transaction_id},
            )
    return posted


def _owned_refusal(owner: Owner, memo: str) -> DomainError:
    """Why a posting with an owner is not reversed by hand, and what to do instead."""
    if owner.kind == OwnerKind.ORDER:
        return DomainError(
            "reverse_refused_order",
            _("“%(memo)s” was posted by an order. To give money back, refund the order from its page: "
              "a reversal here would leave the order refundable.") % {"memo": memo},
        )  # fmt: skip
    if owner.kind == OwnerKind.PAYMENT:
        return DomainError(
            "reverse_refused_payment",
            _("“%(memo)s” is the credit of payment %(id)s. To send a card payment back, refund it from the "
              "customer's Card payments page; to take back other credit, use Remove credit with a note.")
            % {"memo": memo, "id": owner.id},
        )  # fmt: skip
    return DomainError(
        "reverse_refused_refund",
        _("“%(memo)s” is a refund to the card; it follows the card refund's own outcome and is not reversed "
          "by hand.") % {"memo": memo},
    )  # fmt: skip
