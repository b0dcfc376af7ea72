"""`hubtab ledger verify` is clean on an honest ledger and catches each kind of tampering."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from hubtab.ledger import services
from hubtab.ledger.models import Entry, Lot, Transaction
from hubtab.ledger.verify import ledger_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(books):
    """A small but complete history: top-ups, grants, spends, debt, holds, a reversal."""
    alice = books.customer("Alice", floor_minor=-1000)
    bob = books.customer("Bob")
    books.top_up(alice, 2000)
    books.grant(bob, 500)
    books.spend(alice, 2500)
    books.top_up(bob, 800)
    spent = books.spend(bob, 600)
    services.transaction_reverse(hub_id=books.hub.id, transaction_id=spent.transaction_id, key="rev", reason="test")
    held = services.hold_place(hub_id=books.hub.id, key="hold-1", account_id=bob.id, amount_minor=300)
    captured = services.hold_place(hub_id=books.hub.id, key="hold-2", account_id=bob.id, amount_minor=200)
    services.hold_capture(hub_id=books.hub.id, hold_id=captured.hold_id, to_account_id=books.sales.id)
    return {"alice": alice, "bob": bob, "books": books, "hold": held.hold_id}


def tamper(sql: str, params: list) -> None:
    """Change rows behind the services' back, as a bug or a hand-edit would."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # past the immutability trigger
            cursor.execute(sql, params)
            return
        cursor.execute("DROP TRIGGER IF EXISTS ledger_entry_immutable")
        cursor.execute("DROP TRIGGER IF EXISTS ledger_transaction_immutable")
        cursor.execute(sql, params)
    from hubtab.ledger.pg import install_functions

    install_functions()  # the triggers come back for the rest of the run


def test_verify_is_clean_and_the_command_says_so(ledger, capsys):
    assert ledger_verify() == []
    call_command("ledger", "verify", "--hub", ledger["books"].hub.slug)
    out = capsys.readouterr().out
    assert out.startswith("ledger verify: all invariants hold over")
    assert "entries" in out and "lots" in out


def _entry(account, version: int) -> Entry:
    return Entry.objects.across_hubs().get(account=account, version=version)


CASES = {
    "zero_sum": lambda fx: tamper(
        "UPDATE ledger_entry SET amount_minor = amount_minor + 1, balance_after_minor = balance_after_minor + 1 "
        "WHERE id = %s",
        [_entry(fx["alice"], 2).id],
    ),
    "too_few_entries": lambda fx: tamper(
        "INSERT INTO ledger_transaction (hub_id, key, request_hash, kind, memo, reason, posted_at) "
        "VALUES (%s, 'ghost', 'x', 'transfer', '', '', CURRENT_TIMESTAMP)",
        [fx["books"].hub.id],
    ),
    "entry_mismatch": lambda fx: tamper(
        "UPDATE ledger_entry SET unit = 'GBP' WHERE id = %s", [_entry(fx["alice"], 1).id]
    ),
    "running_balance": lambda fx: tamper(
        "UPDATE ledger_entry SET balance_after_minor = balance_after_minor + 5 WHERE id = %s",
        [_entry(fx["alice"], 1).id],
    ),
    "balance_row": lambda fx: tamper(
        "UPDATE ledger_balance SET balance_minor = balance_minor + 5 WHERE account_id = %s", [fx["alice"].id]
    ),
    "floor": lambda fx: (
        tamper("UPDATE ledger_balance SET floor_minor = -100 WHERE account_id = %s", [fx["alice"].id]),
        tamper("UPDATE ledger_account SET floor_minor = -100 WHERE id = %s", [fx["alice"].id]),
    ),
    "floor_copy": lambda fx: tamper("UPDATE ledger_balance SET floor_minor = -1 WHERE account_id = %s", [fx["bob"].id]),
    "held_total": lambda fx: tamper("UPDATE ledger_balance SET held_minor = 7 WHERE account_id = %s", [fx["bob"].id]),
    "hold_state": lambda fx: tamper("UPDATE ledger_hold SET status = 'captured' WHERE id = %s", [fx["hold"]]),
    "lot_total": lambda fx: tamper(
        "UPDATE ledger_lot SET remaining_minor = remaining_minor - 1 WHERE id = %s",
        [Lot.objects.across_hubs().filter(account=fx["bob"], remaining_minor__gt=0).first().id],
    ),
    "lot_entries": lambda fx: tamper(
        "UPDATE ledger_lot SET amount_minor = amount_minor + 100 WHERE id = %s",
        [Lot.objects.across_hubs().filter(account=fx["bob"]).first().id],
    ),
    "dangling_reference": lambda fx: tamper(
        "UPDATE ledger_lot SET transaction_id = 987654321 WHERE id = %s",
        [Lot.objects.across_hubs().filter(account=fx["bob"]).first().id],
    ),
    "reversal": lambda fx: tamper(
        "UPDATE ledger_transaction SET reverses_id = %s WHERE kind = 'reversal'",
        [Transaction.objects.across_hubs().filter(kind="grant").first().id],
    ),
}


@pytest.mark.parametrize("check", sorted(CASES))
def test_verify_catches_each_kind_of_breach_and_the_command_fails(ledger, check, capsys):
    CASES[check](ledger)
    breaches = ledger_verify()
    assert check in {b.check for b in breaches}, breaches
    with pytest.raises(CommandError) as error:
        call_command("ledger", "verify")
    assert error.value.returncode == 1
    assert f"BREACH {check}:" in capsys.readouterr().err
