"""The PostgreSQL engine: each ledger write is one call to a database function (sql/ledger.sql)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from hubtab.core.errors import DomainError
from hubtab.ledger.types import Posted, PostRequest

SQL_FILE = Path(__file__).parent / "sql" / "ledger.sql"
SQLITE_FILE = Path(__file__).parent / "sql" / "sqlite.sql"


def install_functions(using: str = "default", **kwargs: Any) -> None:
    """Create or replace the ledger's functions and triggers; runs after every migrate so code and
    database agree."""
    conn = connections[using]
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute(SQL_FILE.read_text())
    elif conn.vendor == "sqlite":
        # One statement at a time (each trigger ends with "END;"): executescript would commit.
        body = "\n".join(line for line in SQLITE_FILE.read_text().splitlines() if not line.startswith("--"))
        with conn.cursor() as cursor:
            for statement in body.split("END;"):
                if statement.strip():
                    cursor.execute(statement + "END;")


def _domain_error(exc: DatabaseError) -> DomainError | None:
    diag = getattr(exc.__cause__, "diag", None)
    message = getattr(diag, "message_primary", None) or ""
    if not message.startswith("hubtab:"):
        return None
    _, code, text = message.split(":", 2)
    return DomainError(code, text)


def _call(sql: str, params: list[Any]) -> tuple[Any, ...]:
    """Run one ledger function call on Django's connection.

    It goes through psycopg's own cursor, bound on the server and prepared once per connection,
    rather than Django's client-side-binding cursor: the hot path then sends a single Execute
    of a prepared statement. Outside a transaction the call is its own atomic unit (one round
    trip); inside the caller's transaction it runs in a savepoint, so a refusal leaves the
    caller's transaction usable.
    """
    conn = connections[DEFAULT_DB_ALIAS]  # one lookup: each access through the proxy costs a context-local read
    conn.ensure_connection()
    raw = conn.connection
    try:
        # wrap_database_errors turns psycopg's exceptions into Django's, as its own cursors do.
        with conn.wrap_database_errors:
            if conn.in_atomic_block:
                with transaction.atomic(), psycopg.Cursor(raw) as cursor:
                    row = cursor.execute(sql, params, prepare=True).fetchone()
            else:
                with psycopg.Cursor(raw) as cursor:
                    row = cursor.execute(sql, params, prepare=True).fetchone()
    except DatabaseError as exc:
        error = _domain_error(exc)
        if error is None:
            raise
        raise error from None
    assert row is not None
    return tuple(row)


def _array_literal(values: list[Any]) -> str | None:
    """A PostgreSQL array literal for ints, validated codes or datetimes, or None when all are NULL.

    Sent as text and cast in SQL: psycopg's list adaptation inspects every element to choose a
    type, which cost more client time per posting than the rest of the service together.
    Elements are integers, unit codes and lot kinds checked against [A-Z0-9_a-z] by the
    services, or ISO datetimes, so quoting each element is all the escaping needed.
    """
    if all(value is None for value in values):
        return None
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, int):
            parts.append(str(value))
        elif isinstance(value, datetime):
            parts.append(f'"{value.isoformat()}"')
        else:
            text = str(value)
            if not text.replace("_", "").isalnum():
                raise ValueError(f"unexpected array element {text!r}")
            parts.append(f'"{text}"')
    return "{" + ",".join(parts) + "}"


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
            _array_literal([leg.account_id for leg in legs]),
            _array_literal([leg.amount_minor for leg in legs]),
            _array_literal([leg.unit for leg in legs]),
            _array_literal([leg.lot_kind for leg in legs]),
            _array_literal([leg.lot_expires_at for leg in legs]),
            _array_literal([leg.draw_lot_id for leg in legs]),
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
