"""Many workers, each on its own PostgreSQL connection, hammering a few customers and one hub account."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict

import pytest
from django.db import connection

from hubtab.core.errors import DomainError
from hubtab.ledger import selectors, services
from hubtab.ledger.types import Leg
from hubtab.ledger.verify import ledger_verify
from hubtab.testing import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8
OPERATIONS_PER_WORKER = 150


def test_mixed_concurrent_operations_lose_nothing_and_create_nothing(books):
    """Every operation touches the hub's sales account; transfers between customers pay it a fee."""
    hub_id, unit = books.hub.id, books.unit
    hub_account = books.sales
    customers = [books.customer(f"C{i}", floor_minor=-500 if i % 2 else 0) for i in range(4)]
    for customer in customers:
        books.top_up(customer, 2_000)
    expected = defaultdict(int, {c.id: 2_000 for c in customers})
    expected[books.clearing.id] = -2_000 * len(customers)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def acknowledge(effects: dict[int, int], outcome: str) -> None:
        with lock:
            outcomes[outcome] += 1
            for account_id, change in effects.items():
                expected[account_id] += change

    def worker(n: int) -> None:
        rng = random.Random(n)
        for i in range(OPERATIONS_PER_WORKER):
            a, b = rng.sample(customers, 2)
            amount = rng.randint(1, 400)
            op = rng.choice(["spend", "spend", "transfer", "top_up", "hold", "duplicate"])
            try:
                if op == "spend":
                    books.spend(a, amount, key=f"w{n}-{i}")
                    acknowledge({a.id: -amount, hub_account.id: amount}, op)
                elif op == "transfer":
                    services.transaction_post(
                        hub_id=hub_id,
                        key=f"w{n}-{i}",
                        legs=[Leg(a.id, -amount - 1, unit), Leg(b.id, amount, unit), Leg(hub_account.id, 1, unit)],
                    )
                    acknowledge({a.id: -amount - 1, b.id: amount, hub_account.id: 1}, op)
                elif op == "top_up":  # a refund from the hub's takings
                    services.transaction_post(
                        hub_id=hub_id,
                        key=f"w{n}-{i}",
                        legs=[Leg(hub_account.id, -amount, unit), Leg(a.id, amount, unit)],
                    )
                    acknowledge({a.id: amount, hub_account.id: -amount}, op)
                elif op == "hold":
                    hold = services.hold_place(hub_id=hub_id, key=f"w{n}-{i}", account_id=a.id, amount_minor=amount)
                    if rng.random() < 0.6:
                        final = rng.randint(1, amount + 50)
                        try:
                            services.hold_capture(
                                hub_id=hub_id, hold_id=hold.hold_id, to_account_id=books.sales.id, amount_minor=final
                            )
                            acknowledge({a.id: -final, hub_account.id: final}, "capture")
                        except DomainError as exc:
                            assert exc.code == "insufficient_funds"
                            services.hold_void(hub_id=hub_id, hold_id=hold.hold_id)
                            acknowledge({}, "refused")
                    else:
                        services.hold_void(hub_id=hub_id, hold_id=hold.hold_id)
                        # the hold touched only the customer; pay the hub a fee so this op touches it too
                        books.spend(a, 1, key=f"w{n}-{i}-fee")
                        acknowledge({a.id: -1, hub_account.id: 1}, "void")
                else:
                    # Every worker races to post the same few requests: each must count once.
                    k = rng.randint(0, 19)
                    target = customers[k % len(customers)]
                    posted = services.transaction_post(
                        hub_id=hub_id,
                        key=f"shared-{k}",
                        legs=[Leg(hub_account.id, -(100 + k), unit), Leg(target.id, 100 + k, unit)],
                    )
                    if posted.replayed:
                        acknowledge({}, "replayed")
                    else:
                        acknowledge({target.id: 100 + k, hub_account.id: -(100 + k)}, "duplicate")
            except DomainError as exc:
                assert exc.code == "insufficient_funds", exc
                acknowledge({}, "refused")

    errors = run_in_threads(worker, WORKERS)
    assert errors == []
    assert ledger_verify(hub_id=hub_id) == []
    for account in [*customers, hub_account, books.clearing]:
        state = selectors.account_state(hub_id=hub_id, account_id=account.id)
        assert state.balance_minor == expected[account.id], account.name
        assert state.held_minor == 0
    for customer in customers:
        assert selectors.account_state(hub_id=hub_id, account_id=customer.id).spendable_minor >= 0
    # The run really contended: floors refused some work, and shared keys were replayed.
    assert outcomes["refused"] > 0 and outcomes["replayed"] > 0 and outcomes["duplicate"] <= 20
    # The hub account was spread over several shards rather than one hot row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ledger_balance WHERE account_id = %s AND version > 0", [hub_account.id])
        assert cursor.fetchone()[0] > 1


def test_two_tabs_spending_the_same_credit_at_once_spend_it_once(books):
    alice = books.customer("Alice")
    books.top_up(alice, 1000)
    results: list[str] = []

    def tab(n: int) -> None:
        try:
            books.spend(alice, 700, key=f"tab-{n}")
            results.append("paid")
        except DomainError as exc:
            results.append(exc.code)

    assert run_in_threads(tab, WORKERS) == []
    assert sorted(results) == ["insufficient_funds"] * (WORKERS - 1) + ["paid"]
    assert selectors.account_state(hub_id=books.hub.id, account_id=alice.id).balance_minor == 300
    assert ledger_verify(hub_id=books.hub.id) == []


def test_a_posting_that_waited_for_an_account_being_closed_is_refused(books):
    import time

    from django.db import transaction

    alice = books.customer("Alice")
    closing = threading.Event()
    outcome: list[str] = []

    def close(n: int) -> None:
        if n == 0:
            with transaction.atomic():
                services.account_close(hub_id=books.hub.id, account_id=alice.id)
                closing.set()
                time.sleep(0.5)  # the top-up arrives and waits for the account's lock
        else:
            closing.wait()
            try:
                books.top_up(alice, 700)
                outcome.append("credited")
            except DomainError as exc:
                outcome.append(exc.code)

    assert run_in_threads(close, 2) == []
    assert outcome == ["account_closed"]
    assert selectors.account_state(hub_id=books.hub.id, account_id=alice.id).balance_minor == 0
