"""What the shop and the API call to pay orders from credit: a charge, its refund, and holds
placed, captured and voided."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check
from hubtab.ledger import selectors as ledger_selectors
from hubtab.ledger import services as ledger
from hubtab.ledger.selectors import LotDraw
from hubtab.ledger.types import HoldResult, Leg, Posted, SystemAccount

if TYPE_CHECKING:
    pass
from hubtab.accounts.recipes import holder_account


def charge_post(
    *, hub: Hub, account_id: int, amount_minor: int, reference: str, description: str, key: str,
    actor: User | None = None,
) -> Posted:  # fmt: skip
    """Take an order's amount from the account into the hub's sales, within the spending limit."""
    amount_check(amount_minor)
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("validation_error", _("Give the order's reference."))
    # The customer's account and the hub's sales account in one query (this runs on every order).
    account, sales = ledger_selectors.holder_and_system_get(hub_id=hub.id, account_id=account_id,
                                                            code=SystemAccount.SALES)  # fmt: skip
    if account is None:
        raise DomainError("account_not_found", _("That customer account does not exist at this hub."))
    sales = sales or ledger.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=account.unit)
    return ledger.transaction_post(
        hub_id=hub.id,
        key=key,
        legs=[Leg(account.id, -amount_minor, account.unit), Leg(sales.id, amount_minor, account.unit)],
        kind="charge",
        memo=(description or reference)[:500],
        actor_id=actor.id if actor else None,
        reason=reference,
    )


def charge_refund_post(
    *, hub: Hub, account_id: int, parts: Sequence[LotDraw], reference: str, reason: str, key: str,
    actor: User | None = None,
) -> Posted:  # fmt: skip
    """Give part of a paid order back: out of the hub's sales, into the account as the kinds of
    credit that paid it (`parts`: granted credit comes back granted, with its expiry)."""
    if not parts:
        raise DomainError("invalid_amount", _("Nothing to refund."))
    account = holder_account(hub, account_id)
    amount_minor = amount_check(sum(part.amount_minor for part in parts))
    sales = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=account.unit)
    credits = [
        Leg(account.id, amount_check(part.amount_minor), account.unit, lot_kind=part.kind,
            lot_expires_at=part.expires_at if part.kind == "granted" else None)
        for part in parts
    ]  # fmt: skip
    return ledger.transaction_post(
        hub_id=hub.id,
        key=key,
        legs=[Leg(sales.id, -amount_minor, account.unit), *credits],
        kind="order_refund",
        memo=f"Refund of {reference}",  # read as "Refund of order #12" in the reader's language (ledger.labels)
        actor_id=actor.id if actor else None,
        reason=(reason or reference)[:500],
    )


def order_hold_place(
    *, hub: Hub, account_id: int, amount_minor: int, reference: str, key: str, expires_at: datetime | None = None,
) -> HoldResult:  # fmt: skip
    """Reserve an order's amount on the account until it is captured, voided or expires."""
    holder_account(hub, account_id)
    return ledger.hold_place(
        hub_id=hub.id, key=key, account_id=account_id, amount_minor=amount_minor, expires_at=expires_at,
        reference=(reference or "").strip()[:200],
    )  # fmt: skip


def order_hold_capture(
    *, hub: Hub, hold_id: int, key: str, amount_minor: int | None = None, actor: User | None = None
) -> HoldResult:
    """Take the final amount of a held order into the hub's sales and release the rest."""
    hold = ledger_selectors.hold_get(hub_id=hub.id, hold_id=hold_id)
    sales = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=hold.unit)
    return ledger.hold_capture(
        hub_id=hub.id, hold_id=hold_id, to_account_id=sales.id, amount_minor=amount_minor, key=key,
        actor_id=actor.id if actor else None,
    )  # fmt: skip


def order_hold_void(*, hub: Hub, hold_id: int) -> HoldResult:
    return ledger.hold_void(hub_id=hub.id, hold_id=hold_id)
