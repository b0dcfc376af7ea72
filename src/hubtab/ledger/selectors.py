"""Reads of the ledger: account state, balances of many accounts, lots, holds, activity. An
account's history (statements, entries, balance at a past time) is `statements`'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncWeek

from hubtab.core.errors import DomainError
from hubtab.ledger.models import (
    LOT_BEARING_KINDS,
    Account,
    AccountKind,
    AccountStatus,
    Balance,
    Entry,
    Hold,
    Lot,
    Transaction,
)
from hubtab.ledger.types import AccountState


def account_get(*, hub_id: int, account_id: int) -> Account:
    """The account, refused with a clear error when it is not the hub's."""
    account = Account.objects.filter(id=account_id, hub_id=hub_id).first()
    if account is None:
        raise DomainError("account_not_found", "That account does not exist at this hub.")
    return account


def holder_get(*, hub_id: int, account_id: int) -> Account | None:
    """A customer's or organisation's account at the hub (None for anything else)."""
    return Account.objects.filter(hub_id=hub_id, id=account_id, kind__in=LOT_BEARING_KINDS).first()


def holder_and_system_get(*, hub_id: int, account_id: int, code: str) -> tuple[Account | None, Account | None]:
    """A holder's account and the hub's system account `code` in its unit, in one query (for the
    postings that run on every order); either is None when it does not exist yet."""
    found = list(
        Account.objects.filter(
            Q(id=account_id, kind__in=LOT_BEARING_KINDS) | Q(code=code, kind=AccountKind.SYSTEM), hub_id=hub_id
        )
    )
    holder = next((a for a in found if a.id == account_id and a.kind in LOT_BEARING_KINDS), None)
    system = next((a for a in found if holder and a.code == code and a.unit == holder.unit), None)
    return holder, system


def transaction_key_memo(*, hub_id: int, transaction_id: int) -> tuple[str, str] | None:
    """A transaction's idempotency key (which names its owner) and memo."""
    return Transaction.objects.filter(hub_id=hub_id, id=transaction_id).values_list("key", "memo").first()


def holders_of_transaction(*, hub_id: int, transaction_id: int) -> list[Account]:
    """The customer and organisation accounts a transaction moved."""
    return list(
        Account.objects.filter(
            hub_id=hub_id, kind__in=LOT_BEARING_KINDS, entries__transaction_id=transaction_id
        ).distinct()
    )


def account_state(*, hub_id: int, account_id: int) -> AccountState:
    # One query (it answers every API posting): the floor is read from the balance rows, which
    # carry it for the posting function; `ledger verify` checks that they agree with the account.
    rows = (
        Balance.objects.filter(account_id=account_id, hub_id=hub_id)
        .values("account__unit")
        .annotate(balance=Sum("balance_minor"), held=Sum("held_minor"), floor=Max("floor_minor"))
    )
    row = next(iter(rows), None)
    if row is None:
        raise DomainError("account_not_found", "That account does not exist at this hub.")
    return AccountState(
        account_id=account_id,
        unit=row["account__unit"],
        balance_minor=row["balance"],
        held_minor=row["held"],
        floor_minor=row["floor"],
    )


def account_balance_locked(*, hub_id: int, account_id: int) -> int:
    """The account's balance with its rows locked until the transaction ends, as a posting locks
    them: a decision taken on it (how much to charge) is not overtaken by a posting meanwhile."""
    rows = list(
        Balance.objects.select_for_update()
        .filter(hub_id=hub_id, account_id=account_id)
        .order_by("shard")
        .values_list("balance_minor", flat=True)
    )
    if not rows:
        raise DomainError("account_not_found", "That account does not exist at this hub.")
    return sum(rows)


def negative_since(*, hub_id: int, account_ids: list[int]) -> dict[int, datetime]:
    """For each of these accounts whose last entry left it below zero, when it went below and
    stayed there: the first entry after its last one at or above zero."""
    last_at_or_above = (
        Entry.objects.filter(hub_id=hub_id, account_id=OuterRef("account_id"), shard=OuterRef("shard"),
                             balance_after_minor__gte=0)
        .order_by("-version").values("version")[:1]
    )  # fmt: skip
    rows = (
        Entry.objects.filter(hub_id=hub_id, account_id__in=account_ids)
        .annotate(last_ok=Subquery(last_at_or_above))
        .filter(Q(last_ok__isnull=True) | Q(version__gt=F("last_ok")))
        .values("account_id")
        .annotate(since=Min("posted_at"))
    )
    return {row["account_id"]: row["since"] for row in rows}


def below_zero_since(*, hub_id: int, before: datetime, account_ids: list[int] | None = None) -> set[int]:
    """Which of the hub's customer and organisation accounts (or of `account_ids`) are below zero
    and have been since before `before`: the last entry before then left them below zero, and
    none since brought them back to zero or above. Read from the balances below zero, with two
    index lookups each, where negative_since walks every entry (a customer's account has one
    balance row, shard 0)."""
    below = Balance.objects.filter(hub_id=hub_id, shard=0, balance_minor__lt=0, account__kind__in=LOT_BEARING_KINDS)
    if account_ids is not None:
        below = below.filter(account_id__in=account_ids)
    recovered = Entry.objects.filter(
        hub_id=hub_id, account_id=OuterRef("account_id"), shard=0, posted_at__gte=before, balance_after_minor__gte=0
    )
    then = (
        Entry.objects.filter(hub_id=hub_id, account_id=OuterRef("account_id"), shard=0, posted_at__lt=before)
        .order_by("-version")
        .values("balance_after_minor")[:1]
    )
    rows = below.exclude(Exists(recovered)).annotate(then=Subquery(then)).filter(then__lt=0)
    return set(rows.values_list("account_id", flat=True))


def balances_of(*, hub_id: int, account_ids: list[int]) -> dict[int, int]:
    """Balances of several accounts at once (summed over their shards), for a page of a list."""
    rows = (
        Balance.objects.filter(hub_id=hub_id, account_id__in=account_ids)
        .values("account_id")
        .annotate(total=Sum("balance_minor"))
    )
    return {row["account_id"]: row["total"] for row in rows}


def balance_subquery(account_field: str = "account_id") -> Subquery:
    """The balance of a customer or organisation account (one balance row, shard 0), to annotate
    or order rows that carry the account's id in `account_field`."""
    return Subquery(Balance.objects.filter(account_id=OuterRef(account_field), shard=0).values("balance_minor")[:1])


def entries_count_subquery(account_field: str = "account_id") -> Subquery:
    """How many entries a customer or organisation account has had (its balance row's version,
    which `ledger verify` holds to the count): 0 for an account never used."""
    return Subquery(Balance.objects.filter(account_id=OuterRef(account_field), shard=0).values("version")[:1])


def spendable_subquery(account_field: str = "account_id") -> Subquery:
    """What a customer or organisation account may still spend (balance - held - floor; shard 0),
    to order rows that carry the account's id in `account_field`."""
    return Subquery(
        Balance.objects.filter(account_id=OuterRef(account_field), shard=0)
        .annotate(spendable=F("balance_minor") - F("held_minor") - Coalesce("floor_minor", 0))
        .values("spendable")[:1]
    )


def account_list(*, hub_id: int, kind: str | None = None) -> QuerySet[Account]:
    """Accounts of a hub with `balance_minor` and `held_minor` summed over their shards."""
    accounts = Account.objects.filter(hub_id=hub_id)
    if kind is not None:
        accounts = accounts.filter(kind=kind)
    return accounts.annotate(balance_minor=Sum("balances__balance_minor"), held_minor=Sum("balances__held_minor"))


@dataclass(frozen=True)
class LotDraw:
    """Part of a debit and the kind of credit that paid it ("paid" also for debt run up)."""

    kind: str
    expires_at: datetime | None
    amount_minor: int


def lots_drawn(*, hub_id: int, account_id: int, keys: list[str], key_prefix: str = "") -> list[LotDraw]:
    """What the transactions posted under `keys` (or keys starting with `key_prefix`) took from the
    account, kind by kind, in the order it was drawn."""
    transactions = Transaction.objects.filter(hub_id=hub_id)
    transactions = transactions.filter(
        Q(key__in=keys) | Q(key__startswith=key_prefix) if key_prefix else Q(key__in=keys)
    )
    entries = (
        Entry.objects.filter(account_id=account_id, amount_minor__lt=0, transaction__in=transactions)
        .select_related("lot")
        .order_by("id")
    )
    return [
        LotDraw(
            kind=entry.lot.kind if entry.lot else "paid",
            expires_at=entry.lot.expires_at if entry.lot and entry.lot.kind == "granted" else None,
            amount_minor=-entry.amount_minor,
        )
        for entry in entries
    ]


def transaction_key_used(*, hub_id: int, key: str) -> bool:
    """Whether a transaction was posted under this idempotency key at the hub."""
    return Transaction.objects.filter(hub_id=hub_id, key=key).exists()


def account_has_history(*, hub_id: int, account_id: int) -> bool:
    account_get(hub_id=hub_id, account_id=account_id)
    return Entry.objects.filter(account_id=account_id).exists()


def holders_have_moved(*, hub_id: int, unit: str) -> bool:
    """Whether any customer or organisation account of the hub in `unit` has an entry or a hold."""
    holders = {"hub_id": hub_id, "account__kind__in": LOT_BEARING_KINDS, "account__unit": unit}
    return Entry.objects.filter(**holders).exists() or Hold.objects.filter(**holders).exists()


@dataclass(frozen=True)
class HolderTotals:
    """What a hub's customer and organisation accounts add up to in one unit."""

    credit_minor: int  # the sum of positive balances: what the hub owes its customers (its liability)
    debt_minor: int  # the sum of negative balances, as a positive number: what customers owe the hub
    accounts: int
    below_minor: int  # accounts whose balance is below the threshold asked for (debts included)


def holder_totals(*, hub_id: int, unit: str, low_minor: int) -> HolderTotals:
    rows = Balance.objects.filter(
        hub_id=hub_id,
        account__kind__in=LOT_BEARING_KINDS,
        account__unit=unit,
        account__status=AccountStatus.OPEN,
    )
    totals = rows.aggregate(
        credit=Sum("balance_minor", filter=Q(balance_minor__gt=0)),
        debt=Sum("balance_minor", filter=Q(balance_minor__lt=0)),
        accounts=Count("account_id"),
        below=Count("account_id", filter=Q(balance_minor__lt=low_minor)),
    )
    return HolderTotals(
        credit_minor=totals["credit"] or 0,
        debt_minor=-(totals["debt"] or 0),
        accounts=totals["accounts"],
        below_minor=totals["below"],
    )


def account_flows_by_week(
    *, hub_id: int, account_ids: list[int], since: datetime, tz: tzinfo
) -> dict[date, tuple[int, int]]:
    """Per week (weeks start on Monday in `tz`) since `since`: (credits, debits) on these accounts,
    debits as a positive number. Reads the entries through each shard's (account, shard, time) index."""
    accounts = Account.objects.filter(hub_id=hub_id, id__in=account_ids)
    shards = max((a.shard_count for a in accounts), default=1)
    rows = (
        Entry.objects.filter(account_id__in=[a.id for a in accounts], shard__in=range(shards), posted_at__gte=since)
        .annotate(week=TruncWeek("posted_at", tzinfo=tz))
        .values("week")
        .annotate(
            credits=Sum("amount_minor", filter=Q(amount_minor__gt=0)),
            debits=Sum("amount_minor", filter=Q(amount_minor__lt=0)),
        )
    )
    flows: dict[date, tuple[int, int]] = {}
    for row in rows:
        week = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
        credits, debits = flows.get(week, (0, 0))
        flows[week] = (credits + (row["credits"] or 0), debits - (row["debits"] or 0))
    return flows


@dataclass(frozen=True)
class ActivityLine:
    account_id: int
    account_name: str
    kind: str
    memo: str
    amount_minor: int
    unit: str
    posted_at: datetime
    key: str = ""


def activity_newest(*, hub_id: int, limit: int = 10) -> list[ActivityLine]:
    """The newest transactions on the hub's customer and organisation accounts, one line per
    transaction and account (its entries on that account summed)."""
    rows = list(
        Entry.objects.filter(hub_id=hub_id, account__kind__in=LOT_BEARING_KINDS)
        .values("transaction_id", "account_id", "unit")
        .annotate(amount=Sum("amount_minor"), last_id=Max("id"), posted_at=Max("posted_at"))
        .order_by("-posted_at", "-last_id")[:limit]  # by when it happened (entries may be posted backdated)
    )
    transactions = Transaction.objects.filter(hub_id=hub_id).in_bulk([r["transaction_id"] for r in rows])
    accounts = Account.objects.filter(hub_id=hub_id).in_bulk([r["account_id"] for r in rows])
    return [
        ActivityLine(
            account_id=r["account_id"],
            account_name=accounts[r["account_id"]].name,
            kind=transactions[r["transaction_id"]].kind,
            memo=transactions[r["transaction_id"]].memo,
            key=transactions[r["transaction_id"]].key,
            amount_minor=r["amount"],
            unit=r["unit"],
            posted_at=r["posted_at"],
        )
        for r in rows
    ]


def system_account_ids(*, hub_id: int, codes: list[str], unit: str) -> list[int]:
    """Ids of those of the hub's system accounts that exist (reading never opens one)."""
    return list(
        Account.objects.filter(hub_id=hub_id, kind=AccountKind.SYSTEM, code__in=codes, unit=unit).values_list(
            "id", flat=True
        )
    )


def reversed_ids(*, hub_id: int, transaction_ids: list[int]) -> set[int]:
    """Which of these transactions have been reversed (each can be, once)."""
    return set(
        Transaction.objects.filter(hub_id=hub_id, reverses_id__in=transaction_ids).values_list("reverses_id", flat=True)
    )


@dataclass(frozen=True)
class ExpiringCredit:
    remaining_minor: int
    expires_at: datetime


def credit_expiring(*, hub_id: int, account_id: int, before: datetime) -> list[ExpiringCredit]:
    """Granted credit still on the account that expires before `before`, soonest first."""
    lots = (
        Lot.objects.filter(hub_id=hub_id, account_id=account_id, kind="granted", is_open=True, expires_at__lt=before)
        .order_by("expires_at")
        .values_list("remaining_minor", "expires_at")
    )
    return [ExpiringCredit(remaining_minor=r, expires_at=e) for r, e in lots if e is not None]


@dataclass(frozen=True)
class HoldView:
    id: int
    account_id: int
    unit: str
    amount_minor: int
    status: str
    captured_minor: int | None
    reference: str
    expires_at: datetime | None
    created_at: datetime


def hold_get(*, hub_id: int, hold_id: int) -> HoldView:
    hold = Hold.objects.filter(id=hold_id, hub_id=hub_id).select_related("account").first()
    if hold is None:
        raise DomainError("hold_not_found", "That hold does not exist at this hub.")
    return HoldView(
        id=hold.id,
        account_id=hold.account_id,
        unit=hold.account.unit,
        amount_minor=hold.amount_minor,
        status=hold.status,
        captured_minor=hold.captured_minor,
        reference=hold.reference,
        expires_at=hold.expires_at,
        created_at=hold.created_at,
    )
