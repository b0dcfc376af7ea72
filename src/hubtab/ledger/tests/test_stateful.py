"""Random sequences of ledger operations, checked against a simple model after every step.

The model knows only what was acknowledged: it predicts each balance and each refusal for lack
of funds; `ledger_verify` checks every stored invariant (sums, running balances, holds, lots).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hubtab.core.errors import DomainError
from hubtab.core.services import hub_create
from hubtab.ledger import expiry, selectors, services
from hubtab.ledger.models import Entry
from hubtab.ledger.types import Leg
from hubtab.ledger.verify import ledger_verify

_hub_numbers = itertools.count()
FLOORS = [0, -500]


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def open_books(self):
        from hubtab.testing import Books

        self.books = Books(hub_create(slug=f"prop-{next(_hub_numbers)}", name="Prop", currency="EUR"))
        self.customers = [self.books.customer(f"C{i}", floor_minor=FLOORS[i % 2]) for i in range(3)]
        self.balance = {c.id: 0 for c in self.customers}
        self.held = {c.id: 0 for c in self.customers}
        self.floor = {c.id: FLOORS[i % 2] for i, c in enumerate(self.customers)}
        self.posted: list[tuple[int, dict[int, int]]] = []  # (transaction id, net per customer)
        self.reversed: set[int] = set()
        self.holds: dict[int, tuple[int, int]] = {}  # open hold id -> (account id, amount)
        self.requests: list[tuple[str, list[Leg], str]] = []
        self.now = timezone.now()
        self.expired_seen = 0
        self.keys = itertools.count()

    def spendable(self, account_id: int) -> int:
        return self.balance[account_id] - self.held[account_id] - self.floor[account_id]

    def _post(self, legs: list[Leg], net: dict[int, int], kind: str = "transfer") -> None:
        key = f"k{next(self.keys)}"
        refused = any(change < 0 and self.spendable(acc) + change < 0 for acc, change in net.items())
        try:
            posted = services.transaction_post(hub_id=self.books.hub.id, key=key, legs=legs, kind=kind)
        except DomainError as exc:
            assert refused and exc.code == "insufficient_funds", exc
            return
        assert not refused, "a posting the model says breaks a floor was accepted"
        for acc, change in net.items():
            self.balance[acc] += change
        self.posted.append((posted.transaction_id, net))
        self.requests.append((key, legs, kind))

    @rule(who=st.integers(0, 2), amount=st.integers(1, 2000))
    def top_up(self, who, amount):
        c = self.customers[who]
        self._post([Leg(self.books.clearing.id, -amount, "EUR"), Leg(c.id, amount, "EUR")], {c.id: amount}, "top_up")

    @rule(who=st.integers(0, 2), amount=st.integers(1, 800), expires_in_hours=st.none() | st.integers(1, 72))
    def grant(self, who, amount, expires_in_hours):
        c = self.customers[who]
        expires = None if expires_in_hours is None else self.now + timedelta(hours=expires_in_hours)
        self._post(
            [
                Leg(self.books.expense.id, -amount, "EUR"),
                Leg(c.id, amount, "EUR", lot_kind="granted", lot_expires_at=expires),
            ],
            {c.id: amount},
            "grant",
        )

    @rule(who=st.integers(0, 2), amount=st.integers(1, 2500))
    def spend(self, who, amount):
        c = self.customers[who]
        self._post([Leg(c.id, -amount, "EUR"), Leg(self.books.sales.id, amount, "EUR")], {c.id: -amount}, "charge")

    @rule(source=st.integers(0, 2), dest=st.integers(0, 2), amount=st.integers(1, 1500))
    def transfer(self, source, dest, amount):
        a, b = self.customers[source], self.customers[dest]
        net = {a.id: 0} if a.id == b.id else {a.id: -amount, b.id: amount}
        self._post([Leg(a.id, -amount, "EUR"), Leg(b.id, amount, "EUR")], net)

    @precondition(lambda self: self.requests)
    @rule(pick=st.integers(0, 10_000))
    def replay_a_key(self, pick):
        key, legs, kind = self.requests[pick % len(self.requests)]
        assert services.transaction_post(hub_id=self.books.hub.id, key=key, legs=legs, kind=kind).replayed
        changed = [
            Leg(legs[0].account_id, legs[0].amount_minor - 1, "EUR"),
            Leg(legs[1].account_id, legs[1].amount_minor + 1, "EUR"),
        ]
        with pytest.raises(DomainError) as error:
            services.transaction_post(hub_id=self.books.hub.id, key=key, legs=changed, kind=kind)
        assert error.value.code == "idempotency_conflict"

    @precondition(lambda self: self.posted)
    @rule(pick=st.integers(0, 10_000))
    def reverse(self, pick):
        transaction_id, net = self.posted[pick % len(self.posted)]
        undo = {acc: -change for acc, change in net.items()}
        refused = any(change < 0 and self.spendable(acc) + change < 0 for acc, change in undo.items())
        try:
            services.transaction_reverse(
                hub_id=self.books.hub.id, transaction_id=transaction_id, key=f"r{next(self.keys)}", reason="test"
            )
        except DomainError as exc:
            if transaction_id in self.reversed:
                assert exc.code == "already_reversed"
            elif exc.code == "cannot_reverse_expired_grant":
                # Only when part of what it granted really expired.
                assert (
                    Entry.objects.across_hubs()
                    .filter(lot__transaction_id=transaction_id, transaction__kind="lot_expiry")
                    .exists()
                )
            else:
                assert refused and exc.code == "insufficient_funds", exc
            return
        assert transaction_id not in self.reversed and not refused
        self.reversed.add(transaction_id)
        for acc, change in undo.items():
            self.balance[acc] += change

    @rule(who=st.integers(0, 2), amount=st.integers(1, 1500), expires_in_hours=st.none() | st.integers(1, 48))
    def hold(self, who, amount, expires_in_hours):
        c = self.customers[who]
        expires = None if expires_in_hours is None else self.now + timedelta(hours=expires_in_hours)
        refused = self.spendable(c.id) < amount
        try:
            result = services.hold_place(
                hub_id=self.books.hub.id,
                key=f"h{next(self.keys)}",
                account_id=c.id,
                amount_minor=amount,
                expires_at=expires,
            )
        except DomainError as exc:
            assert refused and exc.code == "insufficient_funds"
            return
        assert not refused
        self.held[c.id] += amount
        self.holds[result.hold_id] = (c.id, amount)

    @precondition(lambda self: self.holds)
    @rule(pick=st.integers(0, 10_000), ratio=st.sampled_from([0.5, 1.0, 1.3]))
    def capture(self, pick, ratio):
        hold_id = sorted(self.holds)[pick % len(self.holds)]
        acc, amount = self.holds[hold_id]
        final = max(1, int(amount * ratio))
        refused = self.balance[acc] - final - (self.held[acc] - amount) < self.floor[acc]
        try:
            services.hold_capture(
                hub_id=self.books.hub.id, hold_id=hold_id, to_account_id=self.books.sales.id, amount_minor=final
            )
        except DomainError as exc:
            assert refused and exc.code == "insufficient_funds", exc
            return
        assert not refused
        del self.holds[hold_id]
        self.held[acc] -= amount
        self.balance[acc] -= final

    @precondition(lambda self: self.holds)
    @rule(pick=st.integers(0, 10_000))
    def void(self, pick):
        hold_id = sorted(self.holds)[pick % len(self.holds)]
        acc, amount = self.holds.pop(hold_id)
        services.hold_void(hub_id=self.books.hub.id, hold_id=hold_id)
        self.held[acc] -= amount
        assert services.hold_void(hub_id=self.books.hub.id, hold_id=hold_id).replayed

    @rule(hours=st.integers(1, 48))
    def time_passes_and_expiries_run(self, hours):
        self.now += timedelta(hours=hours)
        expiry.holds_expire_due(now=self.now, hub_id=self.books.hub.id)
        for hold_id, (acc, amount) in list(self.holds.items()):
            status = selectors_hold_status(hold_id)
            if status == "expired":
                self.held[acc] -= amount
                del self.holds[hold_id]
        expiry.lots_expire_due(now=self.now, hub_id=self.books.hub.id)
        # Expiry amounts depend on lots the model does not track: take them from the entries.
        expiries = (
            Entry.objects.across_hubs()
            .filter(hub_id=self.books.hub.id, transaction__kind="lot_expiry", account__kind="customer")
            .order_by("id")
        )
        for entry in expiries[self.expired_seen :]:
            self.balance[entry.account_id] += entry.amount_minor
            self.expired_seen += 1

    @invariant()
    def books_balance_and_every_invariant_holds(self):
        if not hasattr(self, "books"):
            return
        for c in self.customers:
            state = selectors.account_state(hub_id=self.books.hub.id, account_id=c.id)
            assert (state.balance_minor, state.held_minor) == (self.balance[c.id], self.held[c.id])
            # Nothing this machine does may leave a bounded account spending more than it has.
            assert state.spendable_minor >= 0, (c.id, state)
        assert ledger_verify(hub_id=self.books.hub.id) == []


def selectors_hold_status(hold_id: int) -> str:
    from hubtab.ledger.models import Hold

    return Hold.objects.across_hubs().values_list("status", flat=True).get(id=hold_id)


@pytest.mark.django_db
def test_random_sequences_of_ledger_operations_keep_every_invariant():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
