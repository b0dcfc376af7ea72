"""The portable engine (SQLite and any other backend): the same rules as sql/ledger.sql, in Python.

SQLite serialises writers (transactions start IMMEDIATE), so the row locks of the PostgreSQL
engine are not needed here; `select_for_update` keeps the code honest on other backends.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hubtab.core.errors import DomainError
from hubtab.ledger.models import (
    LOT_BEARING_KINDS,
    Account,
    AccountStatus,
    Balance,
    Entry,
    Hold,
    HoldStatus,
    Lot,
    Transaction,
)
from hubtab.ledger.types import Leg, Posted, PostRequest


def _accounts():
    return Account.objects


def _balances():
    return Balance.objects


def _lots():
    return Lot.objects


def _holds():
    return Hold.objects


def _transactions():
    return Transaction.objects


def post(request: PostRequest) -> Posted:
    with transaction.atomic():
        return _post_locked(request)


def _post_locked(request: PostRequest) -> Posted:
    existing = _transactions().filter(hub_id=request.hub_id, key=request.key).first()
    if existing is not None:
        if existing.request_hash != request.request_hash:
            raise DomainError(
                "idempotency_conflict", f"The key {request.key} was already used for a different request."
            )
        return Posted(transaction_id=existing.id, replayed=True)
    if (
        request.reverses_id is not None
        and _transactions().filter(hub_id=request.hub_id, reverses_id=request.reverses_id).exists()
    ):
        raise DomainError("already_reversed", "That transaction has already been reversed.")

    account_ids = sorted({leg.account_id for leg in request.legs})
    accounts = {a.id: a for a in _accounts().filter(id__in=account_ids, hub_id=request.hub_id)}
    if len(accounts) != len(account_ids):
        raise DomainError("account_not_found", "An account in this transaction does not exist at this hub.")
    if any(a.status != AccountStatus.OPEN for a in accounts.values()):
        raise DomainError("account_closed", "An account in this transaction is closed.")
    if any(accounts[leg.account_id].unit != leg.unit for leg in request.legs):
        raise DomainError("unit_mismatch", "A leg's unit differs from its account's unit.")

    now = timezone.now()
    txn = _transactions().create(
        hub_id=request.hub_id,
        key=request.key,
        request_hash=request.request_hash,
        kind=request.kind,
        memo=request.memo,
        actor_id=request.actor_id,
        reason=request.reason,
        reverses_id=request.reverses_id,
        posted_at=now,
    )
    balances = {
        b.account_id: b
        for b in _balances().select_for_update().filter(account_id__in=account_ids, shard=0).order_by("account_id")
    }
    entries: list[Entry] = []

    def add_entry(balance: Balance, amount_minor: int, lot: Lot | None) -> None:
        balance.balance_minor += amount_minor
        balance.version += 1
        entries.append(
            Entry(
                hub_id=request.hub_id,
                transaction=txn,
                account_id=balance.account_id,
                shard=balance.shard,
                unit=accounts[balance.account_id].unit,
                amount_minor=amount_minor,
                balance_after_minor=balance.balance_minor,
                version=balance.version,
                lot=lot,
                posted_at=now,
            )
        )

    for leg in request.legs:
        account = accounts[leg.account_id]
        balance = balances[leg.account_id]
        if account.kind not in LOT_BEARING_KINDS:
            add_entry(balance, leg.amount_minor, None)
        elif leg.amount_minor > 0:
            _credit_lots(request, txn, balance, leg, add_entry, now)
        else:
            _debit_lots(balance, leg, add_entry)
    for balance in balances.values():
        balance.save(update_fields=["balance_minor", "version"])
    Entry.objects.bulk_create(entries)

    if request.release_account_id is not None:
        _balances().filter(account_id=request.release_account_id, shard=0).update(
            held_minor=F("held_minor") - request.release_minor
        )
        balances[request.release_account_id].refresh_from_db(fields=["held_minor"])

    net: dict[int, int] = defaultdict(int)
    for leg in request.legs:
        net[leg.account_id] += leg.amount_minor
    for account_id, change in net.items():
        floor = accounts[account_id].floor_minor
        balance = balances[account_id]
        if change < 0 and floor is not None and balance.balance_minor - balance.held_minor < floor:
            raise DomainError("insufficient_funds", "Not enough spendable credit for this transaction.")
    return Posted(transaction_id=txn.id, replayed=False)


def _credit_lots(request, txn, balance, leg: Leg, add_entry, now) -> None:
    """A credit repays debt first; the rest tops up the paid lot, or becomes a granted lot."""
    amount = leg.amount_minor
    if balance.balance_minor < 0:
        repay = min(amount, -balance.balance_minor)
        add_entry(balance, repay, None)
        amount -= repay
    if amount == 0:
        return
    kind = leg.lot_kind or "paid"
    lot = _lots().filter(account_id=leg.account_id, kind="paid").first() if kind == "paid" else None
    if lot is not None:
        lot.amount_minor += amount
        lot.remaining_minor += amount
        lot.is_open = True
        lot.save(update_fields=["amount_minor", "remaining_minor", "is_open"])
    else:
        lot = _lots().create(
            hub_id=request.hub_id,
            account_id=leg.account_id,
            kind=kind,
            amount_minor=amount,
            remaining_minor=amount,
            is_open=True,
            expires_at=leg.lot_expires_at,
            transaction=txn,
            created_at=now,
        )
    add_entry(balance, amount, lot)


def lot_consumption_order(account_id: int, draw_lot_id: int | None) -> list[Lot]:
    """The stated order in which a debit consumes credit: the named lot, then granted lots
    soonest-expiring first (never-expiring last, oldest first), then the paid lot."""
    open_lots = _lots().filter(account_id=account_id, is_open=True)
    named = list(open_lots.filter(id=draw_lot_id)) if draw_lot_id is not None else []
    granted = (
        open_lots.filter(kind="granted").exclude(id=draw_lot_id).order_by(F("expires_at").asc(nulls_last=True), "id")
    )
    paid = open_lots.filter(kind="paid").exclude(id=draw_lot_id)
    return [*named, *granted, *paid]


def _debit_lots(balance, leg: Leg, add_entry) -> None:
    need = -leg.amount_minor
    for lot in lot_consumption_order(leg.account_id, leg.draw_lot_id):
        if need == 0:
            break
        take = min(need, lot.remaining_minor)
        lot.remaining_minor -= take
        lot.is_open = lot.remaining_minor > 0
        lot.save(update_fields=["remaining_minor", "is_open"])
        add_entry(balance, -take, lot)
        need -= take
    if need > 0:
        add_entry(balance, -need, None)


def hold_place(
    *,
    hub_id: int,
    key: str,
    request_hash: str,
    account_id: int,
    amount_minor: int,
    expires_at: datetime | None,
    reference: str,
) -> tuple[int, bool]:
    with transaction.atomic():
        existing = _holds().filter(hub_id=hub_id, key=key).first()
        if existing is not None:
            if existing.request_hash != request_hash:
                raise DomainError("idempotency_conflict", f"The key {key} was already used for a different hold.")
            return existing.id, True
        account = _accounts().filter(id=account_id, hub_id=hub_id).first()
        if account is None:
            raise DomainError("account_not_found", "That account does not exist at this hub.")
        if account.status != AccountStatus.OPEN:
            raise DomainError("account_closed", "That account is closed.")
        if account.shard_count != 1:
            raise DomainError("hold_not_allowed", "Holds are placed on customer and organisation accounts only.")
        balance = _balances().select_for_update().get(account_id=account_id, shard=0)
        floor = account.floor_minor
        if floor is not None and balance.balance_minor - balance.held_minor - floor < amount_minor:
            raise DomainError("insufficient_funds", "Not enough spendable credit to hold this amount.")
        hold = _holds().create(
            hub_id=hub_id,
            account_id=account_id,
            key=key,
            request_hash=request_hash,
            amount_minor=amount_minor,
            reference=reference,
            status=HoldStatus.HELD,
            expires_at=expires_at,
            created_at=timezone.now(),
        )
        _balances().filter(account_id=account_id, shard=0).update(held_minor=F("held_minor") + amount_minor)
        return hold.id, False


_TERMINAL = {"capture": HoldStatus.CAPTURED, "void": HoldStatus.VOIDED, "expire": HoldStatus.EXPIRED}


def hold_finish(
    *,
    hub_id: int,
    hold_id: int,
    action: str,
    capture_minor: int | None,
    to_account_id: int | None,
    key: str | None,
    request_hash: str | None,
    actor_id: int | None,
    now: datetime,
) -> tuple[int | None, bool]:
    with transaction.atomic():
        hold = _holds().select_for_update().filter(id=hold_id, hub_id=hub_id).first()
        if hold is None:
            raise DomainError("hold_not_found", "That hold does not exist at this hub.")
        status = _TERMINAL[action]
        if hold.status != HoldStatus.HELD:
            if hold.status == status and action != "capture":
                return None, True
            if hold.status == HoldStatus.CAPTURED and action == "capture":
                txn = hold.capture_transaction
                if txn is not None and txn.key == key and txn.request_hash == request_hash:
                    return txn.id, True
            raise DomainError("hold_not_active", f"That hold is already {hold.status}.")
        if action == "expire" and (hold.expires_at is None or hold.expires_at > now):
            raise DomainError("hold_not_expired", "That hold has not reached its expiry time.")
        if action == "capture":
            assert key is not None and request_hash is not None and capture_minor is not None
            source = _accounts().get(id=hold.account_id, hub_id=hub_id)
            target = _accounts().filter(id=to_account_id, hub_id=hub_id).first()
            if target is None:
                raise DomainError("account_not_found", "The capture account does not exist at this hub.")
            if target.unit != source.unit:
                raise DomainError(
                    "unit_mismatch", f"The capture account counts in {target.unit} but the hold in {source.unit}."
                )
            if target.id == source.id:
                raise DomainError("invalid_capture_account", "A hold is captured into another account than its own.")
            posted = _post_locked(
                PostRequest(
                    hub_id=hub_id,
                    key=key,
                    request_hash=request_hash,
                    kind="hold_capture",
                    memo=hold.reference,
                    actor_id=actor_id,
                    reason="",
                    reverses_id=None,
                    legs=(
                        Leg(account_id=source.id, amount_minor=-capture_minor, unit=source.unit),
                        Leg(account_id=target.id, amount_minor=capture_minor, unit=target.unit),
                    ),
                    release_account_id=source.id,
                    release_minor=hold.amount_minor,
                )
            )
            if posted.replayed:
                raise DomainError("idempotency_conflict", f"The key {key} was already used for another transaction.")
            _holds().filter(id=hold.id, hub_id=hub_id).update(
                status=status,
                captured_minor=capture_minor,
                capture_transaction_id=posted.transaction_id,
                finished_at=timezone.now(),
            )
            return posted.transaction_id, False
        _balances().filter(account_id=hold.account_id, shard=0).update(held_minor=F("held_minor") - hold.amount_minor)
        _holds().filter(id=hold.id, hub_id=hub_id).update(status=status, finished_at=timezone.now())
        return None, False


def lot_expire(*, hub_id: int, lot_id: int, expense_account_id: int, now: datetime) -> tuple[int | None, int]:
    with transaction.atomic():
        lot = _lots().filter(id=lot_id, hub_id=hub_id).first()
        if lot is None:
            raise DomainError("lot_not_found", "That lot does not exist at this hub.")
        if lot.expires_at is None or lot.expires_at > now:
            return None, 0
        balance = _balances().select_for_update().get(account_id=lot.account_id, shard=0)
        account = _accounts().get(id=lot.account_id, hub_id=hub_id)
        lot.refresh_from_db(fields=["remaining_minor"])
        # An order placed before the expiry keeps the credit it reserved, whatever debt the floor allows.
        expired = min(lot.remaining_minor, max(0, balance.balance_minor - balance.held_minor))
        if expired == 0:
            return None, 0
        posted = _post_locked(
            PostRequest(
                hub_id=hub_id,
                key=f"lot-expiry:{lot_id}:v{balance.version}",
                request_hash="lot-expiry",
                kind="lot_expiry",
                memo="Credit expired",
                actor_id=None,
                reason="",
                reverses_id=None,
                legs=(
                    Leg(account_id=account.id, amount_minor=-expired, unit=account.unit, draw_lot_id=lot_id),
                    Leg(account_id=expense_account_id, amount_minor=expired, unit=account.unit),
                ),
            )
        )
        return posted.transaction_id, expired
