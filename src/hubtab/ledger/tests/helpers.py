"""What a test asserts on: the database as a person would read it."""

from django.db import connection

from hubtab.ledger.models import Entry, Hold, Lot, Transaction
from hubtab.ledger.selectors import account_state


def snapshot(hub_id: int) -> dict:
    """Everything the ledger holds for a hub; equal snapshots mean nothing was written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, shard, balance_minor, held_minor, version FROM ledger_balance "
            "WHERE hub_id = %s ORDER BY account_id, shard",
            [hub_id],
        )
        balances = cursor.fetchall()
    return {
        "balances": balances,
        "transactions": Transaction.objects.across_hubs().filter(hub_id=hub_id).count(),
        "entries": Entry.objects.across_hubs().filter(hub_id=hub_id).count(),
        "lots": list(
            Lot.objects.across_hubs().filter(hub_id=hub_id).values_list("id", "remaining_minor").order_by("id")
        ),
        "holds": list(Hold.objects.across_hubs().filter(hub_id=hub_id).values_list("id", "status").order_by("id")),
    }


def balance(account) -> int:
    return account_state(hub_id=account.hub_id, account_id=account.id).balance_minor


def spendable(account) -> int:
    return account_state(hub_id=account.hub_id, account_id=account.id).spendable_minor
