"""Small frozen values the ledger takes and returns; other packages use these, not the models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
