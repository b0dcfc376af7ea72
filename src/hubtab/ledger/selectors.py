"""Reads of the ledger: account state, balance at a past time, statements, lots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet, Sum

from hubtab.core.errors import DomainError
from hubtab.ledger.models import Account, Balance, Entry
from hubtab.ledger.types import AccountState


def _account(hub_id: int, account_id: int) -> Account:
    account = Account.objects.with_scopes_disabled().filter(id=account_id, hub_id=hub_id).first()
    if account is None:
        raise DomainError("account_not_found", "That account does not exist at this hub.")
    return account


def account_state(*, hub_id: int, account_id: int) -> AccountState:
    account = _account(hub_id, account_id)
    totals = (
        Balance.objects.with_scopes_disabled()
        .filter(account_id=account_id)
        .aggregate(balance=Sum("balance_minor"), held=Sum("held_minor"))
    )
    return AccountState(
        account_id=account.id,
        unit=account.unit,
        balance_minor=totals["balance"] or 0,
        held_minor=totals["held"] or 0,
        floor_minor=account.floor_minor,
    )


def account_list(*, hub_id: int, kind: str | None = None) -> QuerySet[Account]:
    """Accounts of a hub with `balance_minor` and `held_minor` summed over their shards."""
    accounts = Account.objects.with_scopes_disabled().filter(hub_id=hub_id)
    if kind is not None:
        accounts = accounts.filter(kind=kind)
    return accounts.annotate(balance_minor=Sum("balances__balance_minor"), held_minor=Sum("balances__held_minor"))


def account_balance_at(*, hub_id: int, account_id: int, at: datetime) -> int:
    """The balance as it stood at `at`: the last entry at or before it on each shard, no scan."""
    account = _account(hub_id, account_id)
    total = 0
    for shard in range(account.shard_count):
        last = (
            Entry.objects.with_scopes_disabled()
            .filter(account_id=account_id, shard=shard, posted_at__lte=at)
            .order_by("-posted_at", "-version")
            .values_list("balance_after_minor", flat=True)
            .first()
        )
        total += last or 0
    return total


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    transaction_id: int
    posted_at: datetime
    kind: str
    memo: str
    amount_minor: int
    balance_after_minor: int
    lot_kind: str | None


@dataclass(frozen=True)
class Statement:
    account_id: int
    unit: str
    start: datetime
    end: datetime
    opening_minor: int
    closing_minor: int
    lines: list[StatementLine]


def account_statement(*, hub_id: int, account_id: int, start: datetime, end: datetime) -> Statement:
    """Entries in [start, end) with the account's running balance, opening and closing balances."""
    if end < start:
        raise DomainError("invalid_period", "The statement must end after it starts.")
    account = _account(hub_id, account_id)
    opening = account_balance_at(hub_id=hub_id, account_id=account_id, at=start)
    # The opening balance is as of the instant before `start`; entries exactly at start belong to the period.
    before = (
        Entry.objects.with_scopes_disabled()
        .filter(account_id=account_id, posted_at=start)
        .aggregate(total=Sum("amount_minor"))["total"]
        or 0
    )
    opening -= before
    running = opening
    lines = []
    entries = (
        Entry.objects.with_scopes_disabled()
        .filter(account_id=account_id, posted_at__gte=start, posted_at__lt=end)
        .select_related("transaction", "lot")
        .order_by("posted_at", "id")
    )
    for entry in entries:
        running += entry.amount_minor
        lines.append(
            StatementLine(
                entry_id=entry.id,
                transaction_id=entry.transaction_id,
                posted_at=entry.posted_at,
                kind=entry.transaction.kind,
                memo=entry.transaction.memo,
                amount_minor=entry.amount_minor,
                balance_after_minor=running if account.shard_count > 1 else entry.balance_after_minor,
                lot_kind=entry.lot.kind if entry.lot else None,
            )
        )
    return Statement(
        account_id=account_id,
        unit=account.unit,
        start=start,
        end=end,
        opening_minor=opening,
        closing_minor=running,
        lines=lines,
    )


def account_has_history(*, hub_id: int, account_id: int) -> bool:
    _account(hub_id, account_id)
    return Entry.objects.with_scopes_disabled().filter(account_id=account_id).exists()
