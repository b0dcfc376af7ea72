"""The postings of credit bought and given back (top-ups, refunds to the card), as the payments
domain asks for them: it never writes ledger legs itself."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from hubtab.accounts.selectors import Quote
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.ledger import selectors as ledger_selectors
from hubtab.ledger import services as ledger
from hubtab.ledger.types import Leg, Posted, SystemAccount

if TYPE_CHECKING:
    from hubtab.ledger.models import Account


def holder_account(hub: Hub, account_id: int) -> Account:
    account = ledger_selectors.holder_get(hub_id=hub.id, account_id=account_id)
    if account is None:
        raise DomainError("account_not_found", _("That customer account does not exist at this hub."))
    return account


def purchase_legs(*, hub: Hub, account: Account, quote: Quote, source_code: str) -> list[Leg]:
    """The legs of credit bought with money: the money comes from `source_code` (a gateway's
    clearing account, or payments received by hand) and becomes paid credit, plus any bonus as
    granted credit. In named credits the money goes to the hub's credit sales and the credits
    come from credit issued, so each unit sums to zero and the legs record the rate paid."""
    if quote.unit.code != account.unit:
        raise DomainError("unit_mismatch", _("This account counts in %(unit)s.") % {"unit": account.unit})
    source = ledger.account_system_get(hub_id=hub.id, code=source_code, unit=quote.currency)
    credit = Leg(account.id, quote.paid_minor, account.unit, lot_kind="paid")
    if quote.unit.is_currency:
        legs = [Leg(source.id, -quote.price_minor, quote.currency), credit]
    else:
        sales = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.CREDIT_SALES, unit=quote.currency)
        issued = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.CREDIT_ISSUED, unit=account.unit)
        legs = [
            Leg(source.id, -quote.price_minor, quote.currency),
            Leg(sales.id, quote.price_minor, quote.currency),
            Leg(issued.id, -quote.paid_minor, account.unit),
            credit,
        ]
    if quote.bonus_minor:
        bonus = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.GRANTED_CREDIT_EXPENSE, unit=account.unit)
        legs += [
            Leg(bonus.id, -quote.bonus_minor, account.unit),
            Leg(account.id, quote.bonus_minor, account.unit, lot_kind="granted"),
        ]
    return legs


def topup_credit_post(
    *, hub: Hub, account_id: int, quote: Quote, key: str, source_code: str, memo: str, actor_id: int | None,
    reason: str,
) -> Posted:  # fmt: skip
    """Post the credit a payment bought (its price from `source_code`, the payment's clearing or
    money received by hand), once per `key`: what the payments domain calls when money arrives."""
    account = ledger_selectors.account_get(hub_id=hub.id, account_id=account_id)
    return ledger.transaction_post(
        hub_id=hub.id, key=key, legs=purchase_legs(hub=hub, account=account, quote=quote, source_code=source_code),
        kind="top_up", memo=memo, actor_id=actor_id, reason=reason,
    )  # fmt: skip


def topup_refund_post(
    *, hub: Hub, account_id: int, quote: Quote, key: str, source_code: str, memo: str, actor_id: int | None,
    reason: str,
) -> Posted:  # fmt: skip
    """Take back the paid credit a refund to the card returns (`quote.paid_minor` of it), refused
    when the account no longer holds that much paid credit."""
    account = ledger_selectors.account_get(hub_id=hub.id, account_id=account_id)
    return ledger.paid_credit_take(
        hub_id=hub.id, account_id=account.id, amount_minor=quote.paid_minor, key=key,
        legs=purchase_refund_legs(hub=hub, account=account, quote=quote, source_code=source_code),
        kind="refund_to_card", memo=memo, actor_id=actor_id, reason=reason,
    )  # fmt: skip


def posting_undo(*, hub: Hub, transaction_id: int, key: str, reason: str) -> Posted:
    """Post the exact opposite of a posting its owner made and now withdraws (a card refund the
    gateway refused); the crew's reversals go through `transaction_correct` instead."""
    return ledger.transaction_reverse(hub_id=hub.id, transaction_id=transaction_id, key=key, reason=reason[:500])


def purchase_refund_legs(*, hub: Hub, account: Account, quote: Quote, source_code: str) -> list[Leg]:
    """The opposite of `purchase_legs` for the money and the paid credit (never the bonus): paid
    credit leaves the account and the money goes back out through `source_code`."""
    bought = purchase_legs(hub=hub, account=account, quote=replace(quote, bonus_minor=0), source_code=source_code)
    return [Leg(leg.account_id, -leg.amount_minor, leg.unit) for leg in bought]
