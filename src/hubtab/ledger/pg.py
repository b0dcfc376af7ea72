"""The PostgreSQL engine: each ledger write is one call to a database function (sql/ledger.sql)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from hubtab.core.errors import DomainError
from hubtab.ledger.types import Posted, PostRequest

SQL_FILE = Path(__file__).parent / "sql" / "ledger.sql"


def install_functions(using: str = "default", **kwargs: Any) -> None:
    """Create or replace the ledger's functions; runs after every migrate so code and database agree."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute(SQL_FILE.read_text())


def _domain_error(exc: DatabaseError) -> DomainError | None:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    message = getattr(diag, "message_primary", None) or ""
    if not message.startswith("hubtab:"):
        return None
    _, code, text = message.split(":", 2)
    return DomainError(code, text)


def _call(sql: str, params: list[Any]) -> tuple[Any, ...]:
    # Outside a transaction the single statement is its own atomic unit: one round trip.
    # Inside the caller's transaction it runs in a savepoint, so a refusal leaves the caller's
    # transaction usable (the caller decides whether to go on or roll back).
    try:
        if connection.in_atomic_block:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
    except DatabaseError as exc:
        error = _domain_error(exc)
        if error is None:
            raise
        raise error from None
    assert row is not None
    return tuple(row)


def post(request: PostRequest) -> Posted:
    legs = request.legs
    row = _call(
        "SELECT * FROM hubtab_post(%s, %s, %s, %s, %s, %s, %s, %s, %s::bigint[], %s::bigint[], %s::text[],"
        " %s::text[], %s::timestamptz[], %s::bigint[], %s, %s)",
        [
            request.hub_id,
            request.key,
            request.request_hash,
            request.kind,
            request.memo,
            request.actor_id,
            request.reason,
            request.reverses_id,
            [leg.account_id for leg in legs],
            [leg.amount_minor for leg in legs],
            [leg.unit for leg in legs],
            [leg.lot_kind for leg in legs],
            [leg.lot_expires_at for leg in legs],
            [leg.draw_lot_id for leg in legs],
            request.release_account_id,
            request.release_minor,
        ],
    )
    return Posted(transaction_id=row[0], replayed=row[1])


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
    row = _call(
        "SELECT * FROM hubtab_hold_place(%s, %s, %s, %s, %s, %s, %s)",
        [hub_id, key, request_hash, account_id, amount_minor, expires_at, reference],
    )
    return row[0], row[1]


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
    row = _call(
        "SELECT * FROM hubtab_hold_finish(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [hub_id, hold_id, action, capture_minor, to_account_id, key, request_hash, actor_id, now],
    )
    return row[0], row[1]


def lot_expire(*, hub_id: int, lot_id: int, expense_account_id: int, now: datetime) -> tuple[int | None, int]:
    row = _call("SELECT * FROM hubtab_lot_expire(%s, %s, %s, %s)", [hub_id, lot_id, expense_account_id, now])
    return row[0], row[1]
