"""The only code that writes balances: open accounts, post transactions, hold, reverse, expire.

Every function checks its input first and raises DomainError with a stable code, so bad input
writes nothing. The write itself runs in one engine call: a database function on PostgreSQL
(one round trip), the portable engine elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from types import ModuleType

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from hubtab.core.errors import DomainError
from hubtab.core.money import amount_check, unit_get
from hubtab.ledger import engine_py, pg
from hubtab.ledger.models import (
    LOT_BEARING_KINDS,
    Account,
    AccountKind,
    AccountStatus,
    Balance,
    Entry,
    Hold,
    Lot,
    LotKind,
)
from hubtab.ledger.models import Transaction as LedgerTransaction
from hubtab.ledger.selectors import holders_have_moved
from hubtab.ledger.types import HoldResult, Leg, Posted, PostRequest, SystemAccount

__all__ = ["SystemAccount"]  # named here too: callers of the ledger have long imported it from its services

logger = logging.getLogger(__name__)


def _engine() -> ModuleType:
    return pg if connection.vendor == "postgresql" else engine_py


# Keys the ledger makes itself (expiries, captures); a client may not take them.
RESERVED_KEY_PREFIXES = ("lot-expiry:", "hold:")


def _key_check(key: object, *, internal: bool = False) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise DomainError("invalid_key", "An idempotency key of 1 to 200 characters is required.")
    if not internal and key.startswith(RESERVED_KEY_PREFIXES):
        raise DomainError(
            "invalid_key", f"Keys starting with {' or '.join(RESERVED_KEY_PREFIXES)} are the ledger's own."
        )
    return key


def _hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, separators=(",", ":")).encode()).hexdigest()


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise DomainError("invalid_datetime", f"{name} must be a timezone-aware date and time.")
    return value


# --- accounts -------------------------------------------------------------------------------------


def account_open(
    *,
    hub_id: int,
    kind: str,
    unit: str,
    name: str,
    floor_minor: int | None = 0,
    code: str | None = None,
    shard_count: int = 1,
) -> Account:
    """Open an account with its balance rows. Customer and organisation accounts always have a floor."""
    kind = AccountKind(kind)
    unit_get(hub_id=hub_id, code=unit)
    if floor_minor is not None:
        amount_check(floor_minor, allow_zero=True, allow_negative=True)
        if floor_minor > 0:
            raise DomainError("invalid_floor", "A floor is zero or negative (the most debt allowed).")
        shard_count = 1
    elif kind in LOT_BEARING_KINDS:
        raise DomainError("invalid_floor", "Customer and organisation accounts need a floor.")
    with transaction.atomic():
        account = Account.objects.create(
            hub_id=hub_id,
            kind=kind,
            unit=unit,
            name=name,
            floor_minor=floor_minor,
            code=code,
            shard_count=shard_count,
        )
        Balance.objects.bulk_create(
            [
                Balance(hub_id=hub_id, account=account, shard=shard, floor_minor=floor_minor)
                for shard in range(shard_count)
            ]
        )
    return account


def accounts_open_many(*, hub_id: int, kind: str, unit: str, names: Sequence[str], floor_minor: int) -> list[Account]:
    """Open many bounded accounts at once (an import of thousands of people), each as `account_open`
    opens one, in a few statements rather than three per account."""
    kind = AccountKind(kind)
    unit_get(hub_id=hub_id, code=unit)
    amount_check(floor_minor, allow_zero=True, allow_negative=True)
    if floor_minor > 0:
        raise DomainError("invalid_floor", "A floor is zero or negative (the most debt allowed).")
    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            [Account(hub_id=hub_id, kind=kind, unit=unit, name=name, floor_minor=floor_minor) for name in names],
            batch_size=1000,
        )
        Balance.objects.bulk_create(
            [Balance(hub_id=hub_id, account=account, shard=0, floor_minor=floor_minor) for account in accounts],
            batch_size=1000,
        )
    return accounts


def account_system_get(*, hub_id: int, code: str, unit: str) -> Account:
    """The hub's system account `code` in `unit`, opened (unbounded, sharded) the first time it is asked for."""
    accounts = Account.objects
    account = accounts.filter(hub_id=hub_id, code=code, unit=unit).first()
    if account is not None:
        return account
    try:
        return account_open(
            hub_id=hub_id,
            kind=AccountKind.SYSTEM,
            unit=unit,
            name=code.replace("_", " ").capitalize(),
            floor_minor=None,
            code=code,
            shard_count=settings.HUBTAB_SYSTEM_ACCOUNT_SHARDS,
        )
    except IntegrityError:
        return accounts.get(hub_id=hub_id, code=code, unit=unit)


def account_floor_set(*, hub_id: int, account_id: int, floor_minor: int) -> Account:
    """Change the lowest balance allowed. Taking the account's lock orders this with postings."""
    amount_check(floor_minor, allow_zero=True, allow_negative=True)
    if floor_minor > 0:
        raise DomainError("invalid_floor", "A floor is zero or negative (the most debt allowed).")
    with transaction.atomic():
        account = _bounded_account_locked(hub_id=hub_id, account_id=account_id)
        account.floor_minor = floor_minor
        account.floor_changed_at = Now()  # the database's clock, like entries' posted_at
        account.save(update_fields=["floor_minor", "floor_changed_at"])
        account.refresh_from_db(fields=["floor_changed_at"])
        Balance.objects.filter(account_id=account_id, shard=0).update(floor_minor=floor_minor)
    return account


def account_close(*, hub_id: int, account_id: int) -> Account:
    """Close an account that holds nothing: zero balance, no open holds."""
    with transaction.atomic():
        account = _bounded_account_locked(hub_id=hub_id, account_id=account_id)
        balance = Balance.objects.get(account_id=account_id, shard=0)
        if balance.balance_minor != 0 or balance.held_minor != 0:
            raise DomainError("account_not_empty", "Only an account with a zero balance and no holds can be closed.")
        account.status = AccountStatus.CLOSED
        account.save(update_fields=["status"])
        Balance.objects.filter(account_id=account_id).update(is_open=False)
    return account


def accounts_unit_change(*, hub_id: int, from_unit: str, to_unit: str) -> int:
    """Move the hub's customer and organisation accounts from one unit to another, which is only
    possible while none of them has ever moved: no entry, no hold. Returns how many moved."""
    unit_get(hub_id=hub_id, code=to_unit)
    with transaction.atomic():
        # Locked in account order, like postings, so that none slips in between check and change.
        locked = list(
            Balance.objects.select_for_update()
            .filter(hub_id=hub_id, account__kind__in=LOT_BEARING_KINDS, account__unit=from_unit)
            .order_by("account_id", "shard")
            .values_list("account_id", "shard")
        )
        if holders_have_moved(hub_id=hub_id, unit=from_unit):
            raise DomainError(
                "unit_locked", f"Credit has already moved in {from_unit}; the unit can't change any more."
            )
        account_ids = [account_id for account_id, _shard in locked]
        return Account.objects.filter(hub_id=hub_id, id__in=account_ids).update(unit=to_unit)


def paid_credit_take(
    *, hub_id: int, account_id: int, amount_minor: int, legs: Sequence[Leg], key: str, kind: str, memo: str,
    actor_id: int | None = None, reason: str = "",
) -> Posted:  # fmt: skip
    """Post `legs`, which take `amount_minor` from the account's paid credit only (a refund: granted
    credit is never given back as money). The account's lock is held from the check to the
    posting, so no order can spend that paid credit in between."""
    amount_check(amount_minor)
    with transaction.atomic():
        _bounded_account_locked(hub_id=hub_id, account_id=account_id)
        replay = LedgerTransaction.objects.filter(hub_id=hub_id, key=key).exists()
        paid = Lot.objects.filter(account_id=account_id, kind=LotKind.PAID).first()
        if not replay and (paid is None or paid.remaining_minor < amount_minor):
            raise DomainError(
                "not_enough_paid_credit",
                "Only paid credit can be refunded, and the account holds less of it than that.",
            )
        drawn = [
            Leg(leg.account_id, leg.amount_minor, leg.unit, draw_lot_id=paid.id if paid else None)
            if leg.account_id == account_id and leg.amount_minor < 0
            else leg
            for leg in legs
        ]
        if sum(-leg.amount_minor for leg in drawn if leg.account_id == account_id) != amount_minor:
            raise DomainError("invalid_legs", "The legs must take exactly that amount from the account.")
        return transaction_post(
            hub_id=hub_id, key=key, legs=drawn, kind=kind, memo=memo, actor_id=actor_id, reason=reason
        )


def _bounded_account_locked(*, hub_id: int, account_id: int) -> Account:
    account = Account.objects.filter(id=account_id, hub_id=hub_id).first()
    if account is None:
        raise DomainError("account_not_found", "That account does not exist at this hub.")
    if account.floor_minor is None and account.kind == AccountKind.SYSTEM:
        raise DomainError("account_unbounded", "Hub system accounts have no floor.")
    Balance.objects.select_for_update().filter(account_id=account_id, shard=0).get()
    return account


# --- transactions ---------------------------------------------------------------------------------


def _legs_check(hub_id: int, legs: Sequence[Leg]) -> tuple[Leg, ...]:
    if not isinstance(legs, Sequence) or len(legs) < 2:
        raise DomainError("invalid_legs", "A transaction needs at least two legs.")
    known_units: set[str] = set()
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg, Leg):
            raise DomainError("invalid_legs", "Each leg must be a Leg.")
        if isinstance(leg.account_id, bool) or not isinstance(leg.account_id, int):
            raise DomainError("account_not_found", "An account id is a whole number.")
        amount_check(leg.amount_minor, allow_negative=True)
        if leg.unit not in known_units:
            unit_get(hub_id=hub_id, code=leg.unit)
            known_units.add(leg.unit)
        if leg.lot_kind is not None and leg.lot_kind not in LotKind.values:
            raise DomainError("invalid_lot_kind", "A lot is either paid or granted credit.")
        if leg.amount_minor < 0 and (leg.lot_kind is not None or leg.lot_expires_at is not None):
            raise DomainError("invalid_legs", "Only a credit leg creates a lot.")
        if leg.lot_expires_at is not None and leg.lot_kind != LotKind.GRANTED:
            raise DomainError("invalid_legs", "Only granted credit expires; paid credit is the customer's money.")
        if leg.amount_minor > 0 and leg.draw_lot_id is not None:
            raise DomainError("invalid_legs", "Only a debit leg draws from a lot.")
        _aware(leg.lot_expires_at, "lot_expires_at")
        totals[leg.unit] += leg.amount_minor
    unbalanced = sorted(unit for unit, total in totals.items() if total != 0)
    if unbalanced:
        raise DomainError("unbalanced", f"The legs do not sum to zero in {', '.join(unbalanced)}.")
    return tuple(legs)


def _leg_fields(leg: Leg) -> list[object]:
    return [leg.account_id, leg.amount_minor, leg.unit, leg.lot_kind, leg.lot_expires_at, leg.draw_lot_id]


def transaction_post(
    *,
    hub_id: int,
    key: str,
    legs: Sequence[Leg],
    kind: str = "transfer",
    memo: str = "",
    actor_id: int | None = None,
    reason: str = "",
) -> Posted:
    """Post legs that sum to zero per unit, once per `key`: a replay returns the first result."""
    key = _key_check(key)
    legs = _legs_check(hub_id, legs)
    request_hash = _hash(kind, memo, reason, [_leg_fields(leg) for leg in legs])
    return _engine().post(
        PostRequest(
            hub_id=hub_id,
            key=key,
            request_hash=request_hash,
            kind=kind[:32],
            memo=memo,
            actor_id=actor_id,
            reason=reason,
            reverses_id=None,
            legs=legs,
        )
    )


def transaction_reverse(
    *, hub_id: int, transaction_id: int, key: str, reason: str, actor_id: int | None = None
) -> Posted:
    """Post the exact opposite of a transaction, at most once. Credit it consumed comes back as
    lots of the same kind and expiry; credit it created is taken back from that lot first."""
    key = _key_check(key)
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("reason_required", "Say why the transaction is reversed.")
    original = LedgerTransaction.objects.filter(id=transaction_id, hub_id=hub_id).first()
    if original is None:
        raise DomainError("transaction_not_found", "That transaction does not exist at this hub.")
    if original.reverses_id is not None:
        raise DomainError("cannot_reverse_reversal", "A reversal cannot itself be reversed; post a new transaction.")
    if original.kind == "lot_expiry":
        # Re-issuing credit that already expired would only expire again: grant new credit instead.
        raise DomainError("cannot_reverse_expiry", "Expired credit is not brought back by a reversal; grant it anew.")
    entries = list(Entry.objects.filter(transaction_id=original.id).select_related("lot").order_by("id"))
    created_lots = [entry.lot_id for entry in entries if entry.amount_minor > 0 and entry.lot_id is not None]
    if Entry.objects.filter(lot_id__in=created_lots, transaction__kind="lot_expiry").exists():
        raise DomainError(
            "cannot_reverse_expired_grant",
            "Part of the credit this transaction gave has expired; take back what is left with a debit instead.",
        )
    paid_lots = dict(
        Lot.objects.filter(account_id__in={e.account_id for e in entries}, kind=LotKind.PAID).values_list(
            "account_id", "id"
        )
    )
    legs = []
    for entry in entries:
        if entry.amount_minor < 0:
            # Give back what the entry took, as the same kind of credit. Debt it ran up comes back
            # first (below), so that a granted lot is not spent on repaying it.
            lot = entry.lot
            legs.append(
                Leg(
                    account_id=entry.account_id,
                    amount_minor=-entry.amount_minor,
                    unit=entry.unit,
                    lot_kind=lot.kind if lot else None,
                    lot_expires_at=lot.expires_at if lot and lot.kind == LotKind.GRANTED else None,
                )
            )
        else:
            # Take back what the entry gave, from the lot it went to; a debt repayment came from
            # paid credit, so it is taken back from the paid lot first.
            draw = entry.lot_id if entry.lot_id is not None else paid_lots.get(entry.account_id)
            legs.append(
                Leg(account_id=entry.account_id, amount_minor=-entry.amount_minor, unit=entry.unit, draw_lot_id=draw)
            )
    # Credits that restore no particular lot (debt the original ran up) go first.
    legs.sort(key=lambda leg: leg.amount_minor > 0 and leg.lot_kind is not None)
    request_hash = _hash("reversal", transaction_id, reason)
    return _engine().post(
        PostRequest(
            hub_id=hub_id,
            key=key,
            request_hash=request_hash,
            kind="reversal",
            memo=f"Reversal of “{original.memo or original.kind.replace('_', ' ')}”"[:500],
            actor_id=actor_id,
            reason=reason,
            reverses_id=original.id,
            legs=tuple(legs),
        )
    )


# --- holds ----------------------------------------------------------------------------------------


def hold_place(
    *,
    hub_id: int,
    key: str,
    account_id: int,
    amount_minor: int,
    expires_at: datetime | None = None,
    reference: str = "",
) -> HoldResult:
    """Reserve `amount_minor` of what the account can spend; refused if spendable is short."""
    key = _key_check(key)
    amount_check(amount_minor)
    _aware(expires_at, "expires_at")
    request_hash = _hash("hold", account_id, amount_minor, expires_at, reference)
    hold_id, replayed = _engine().hold_place(
        hub_id=hub_id,
        key=key,
        request_hash=request_hash,
        account_id=account_id,
        amount_minor=amount_minor,
        expires_at=expires_at,
        reference=reference[:200],
    )
    status = _hold_get(hub_id, hold_id).status if replayed else "held"
    return HoldResult(hold_id=hold_id, replayed=replayed, status=status)


def _hold_get(hub_id: int, hold_id: int) -> Hold:
    hold = Hold.objects.filter(id=hold_id, hub_id=hub_id).first()
    if hold is None:
        raise DomainError("hold_not_found", "That hold does not exist at this hub.")
    return hold


def hold_capture(
    *,
    hub_id: int,
    hold_id: int,
    to_account_id: int,
    amount_minor: int | None = None,
    key: str | None = None,
    actor_id: int | None = None,
) -> HoldResult:
    """Take the final amount (the hold's, or less, or more within the floor) and release the hold."""
    hold = _hold_get(hub_id, hold_id)
    capture_minor = hold.amount_minor if amount_minor is None else amount_check(amount_minor)
    key = _key_check(key) if key else _key_check(f"hold:{hold_id}:capture", internal=True)
    request_hash = _hash("capture", hold_id, capture_minor, to_account_id)
    transaction_id, replayed = _engine().hold_finish(
        hub_id=hub_id,
        hold_id=hold_id,
        action="capture",
        capture_minor=capture_minor,
        to_account_id=to_account_id,
        key=key,
        request_hash=request_hash,
        actor_id=actor_id,
        now=timezone.now(),
    )
    return HoldResult(hold_id=hold_id, replayed=replayed, status="captured", transaction_id=transaction_id)


def _hold_release(hub_id: int, hold_id: int, action: str, now: datetime | None) -> HoldResult:
    # The engine looks the hold up under its lock and answers hold_not_found itself.
    _, replayed = _engine().hold_finish(
        hub_id=hub_id,
        hold_id=hold_id,
        action=action,
        capture_minor=None,
        to_account_id=None,
        key=None,
        request_hash=None,
        actor_id=None,
        now=now or timezone.now(),
    )
    return HoldResult(hold_id=hold_id, replayed=replayed, status={"void": "voided", "expire": "expired"}[action])


def hold_void(*, hub_id: int, hold_id: int) -> HoldResult:
    return _hold_release(hub_id, hold_id, "void", None)


def hold_expire(*, hub_id: int, hold_id: int, now: datetime | None = None) -> HoldResult:
    return _hold_release(hub_id, hold_id, "expire", now)


# --- lots -----------------------------------------------------------------------------------------


def lot_expire(*, hub_id: int, lot_id: int, unit: str, now: datetime) -> int | None:
    """Expire what is left of one granted lot into the hub's granted-credit expense account: the id
    of the transaction, or None when nothing was left. The amount is read under the account's lock,
    so a crash and re-run, or two runners at once, never expire the same credit twice."""
    expense = account_system_get(hub_id=hub_id, code=SystemAccount.GRANTED_CREDIT_EXPENSE, unit=unit)
    transaction_id, _ = _engine().lot_expire(hub_id=hub_id, lot_id=lot_id, expense_account_id=expense.id, now=now)
    return transaction_id
