"""Reads of an account's history: its balance at a past time, statements over a period with the
running balance, one transaction as the account saw it, and its entries page by page (the API)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Sum

from hubtab.core.errors import DomainError
from hubtab.ledger.models import Entry
from hubtab.ledger.owners import Owner, posting_owner
from hubtab.ledger.selectors import account_get


def account_balance_at(*, hub_id: int, account_id: int, at: datetime) -> int:
    """The balance as it stood at `at`: the last entry at or before it on each shard, no scan."""
    account = account_get(hub_id=hub_id, account_id=account_id)
    total = 0
    for shard in range(account.shard_count):
        last = (
            Entry.objects.filter(account_id=account_id, shard=shard, posted_at__lte=at)
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
    key: str = ""  # what it was posted under: names its owner (ledger.owners) and its label (ledger.labels)

    @property
    def owner(self) -> Owner | None:
        """The order, payment or card refund that posted it, if any."""
        return posting_owner(self.key)


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
    account = account_get(hub_id=hub_id, account_id=account_id)
    opening = account_balance_at(hub_id=hub_id, account_id=account_id, at=start)
    # The opening balance is as of the instant before `start`; entries exactly at start belong to the period.
    before = (
        Entry.objects.filter(account_id=account_id, posted_at=start).aggregate(total=Sum("amount_minor"))["total"] or 0
    )
    opening -= before
    running = opening
    lines = []
    entries = (
        Entry.objects.filter(account_id=account_id, posted_at__gte=start, posted_at__lt=end)
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
                key=entry.transaction.key,
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


def lines_by_transaction(lines: list[StatementLine]) -> list[StatementLine]:
    """One line per transaction, as people read an account: a top-up that first repays debt and
    then credits a lot, or an order paid partly from granted and partly from paid credit, are
    several entries in the ledger but one event. The balance is the one after the last part."""
    merged: list[StatementLine] = []
    for line in lines:
        if merged and merged[-1].transaction_id == line.transaction_id:
            last = merged[-1]
            merged[-1] = replace(
                last,
                amount_minor=last.amount_minor + line.amount_minor,
                balance_after_minor=line.balance_after_minor,
                lot_kind=last.lot_kind if last.lot_kind == line.lot_kind else None,
            )
        else:
            merged.append(line)
    return merged


def account_transaction(*, hub_id: int, account_id: int, transaction_id: int) -> StatementLine | None:
    """One transaction as the account saw it (its entries on the account summed), or None if the
    transaction never touched this account of this hub."""
    entries = list(
        Entry.objects.filter(hub_id=hub_id, account_id=account_id, transaction_id=transaction_id)
        .select_related("transaction", "lot")
        .order_by("id")
    )
    if not entries:
        return None
    last = entries[-1]
    return StatementLine(
        entry_id=last.id,
        transaction_id=transaction_id,
        posted_at=last.posted_at,
        kind=last.transaction.kind,
        memo=last.transaction.memo,
        amount_minor=sum(e.amount_minor for e in entries),
        balance_after_minor=last.balance_after_minor,
        lot_kind=last.lot.kind if last.lot else None,
        key=last.transaction.key,
    )


@dataclass(frozen=True)
class EntryView:
    id: int
    transaction_id: int
    kind: str
    memo: str
    amount: int
    balance_after: int
    lot_kind: str | None
    posted_at: datetime


def account_entries(*, hub_id: int, account_id: int, before_id: int | None, limit: int) -> list[EntryView]:
    """An account's entries newest first, `limit` of them, older than entry `before_id` when given."""
    account_get(hub_id=hub_id, account_id=account_id)
    entries = Entry.objects.filter(hub_id=hub_id, account_id=account_id)
    if before_id is not None:
        entries = entries.filter(id__lt=before_id)
    return [
        EntryView(
            id=e.id,
            transaction_id=e.transaction_id,
            kind=e.transaction.kind,
            memo=e.transaction.memo,
            amount=e.amount_minor,
            balance_after=e.balance_after_minor,
            lot_kind=e.lot.kind if e.lot else None,
            posted_at=e.posted_at,
        )
        for e in entries.select_related("transaction", "lot").order_by("-id")[:limit]
    ]
