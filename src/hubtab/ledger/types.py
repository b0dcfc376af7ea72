"""Small frozen values and the kinds the ledger takes and returns; other packages use these, not the models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import models


class AccountKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    ORGANISATION = "organisation", "Organisation"
    SYSTEM = "system", "Hub system account"


# Customer and organisation accounts hold credit in lots; system accounts are the hub's own books.
LOT_BEARING_KINDS = (AccountKind.CUSTOMER, AccountKind.ORGANISATION)


class SystemAccount:
    """Codes of the hub's own accounts; each exists once per hub and unit, opened on first use."""

    PAYMENTS_CLEARING = "payments_clearing"  # money received from a gateway, before it is credit
    EXTERNAL_PAYMENTS = "external_payments"  # cash, bank transfer, point of sale
    SALES = "sales"
    GRANTED_CREDIT_EXPENSE = "granted_credit_expense"  # goodwill, vouchers, bonuses (and their expiry)
    REFUNDS = "refunds"
    ADJUSTMENTS = "adjustments"
    # A hub counting in named credits sells them: the money lands in CREDIT_SALES (in the currency)
    # and the credits come out of CREDIT_ISSUED (in the unit), so each unit sums to zero.
    CREDIT_SALES = "credit_sales"
    CREDIT_ISSUED = "credit_issued"


class LotKind(models.TextChoices):
    PAID = "paid", "Paid credit"
    GRANTED = "granted", "Granted credit"


@dataclass(frozen=True)
class Leg:
    """One side of a posting: `amount_minor` > 0 credits the account, < 0 debits it.

    On a customer or organisation account a credit becomes a lot of `lot_kind` ("paid" unless
    said), expiring at `lot_expires_at`; a debit draws `draw_lot_id` first, then the stated order.
    """

    account_id: int
    amount_minor: int
    unit: str
    lot_kind: str | None = None
    lot_expires_at: datetime | None = None
    draw_lot_id: int | None = None


@dataclass(frozen=True)
class PostRequest:
    hub_id: int
    key: str
    request_hash: str
    kind: str
    memo: str
    actor_id: int | None
    reason: str
    reverses_id: int | None
    legs: tuple[Leg, ...]
    release_account_id: int | None = None
    release_minor: int | None = None


@dataclass(frozen=True)
class Posted:
    transaction_id: int
    replayed: bool


@dataclass(frozen=True)
class HoldResult:
    hold_id: int
    replayed: bool
    status: str
    transaction_id: int | None = None


@dataclass(frozen=True)
class AccountState:
    account_id: int
    unit: str
    balance_minor: int
    held_minor: int
    floor_minor: int | None

    @property
    def spendable_minor(self) -> int | None:
        """balance - held - floor; None when the account has no floor (unbounded)."""
        if self.floor_minor is None:
            return None
        return self.balance_minor - self.held_minor - self.floor_minor
