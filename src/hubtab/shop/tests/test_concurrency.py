"""Customers checking out, and crew closing their orders, at the same moment, each thread on its own
PostgreSQL connection: credit, stock and the end of an order are decided once, whatever runs at once."""

from __future__ import annotations

import queue
from collections import Counter
from functools import partial

import pytest

from hubtab.accounts.services import credit_settings_update
from hubtab.core.errors import DomainError
from hubtab.ledger.models import Hold, HoldStatus
from hubtab.ledger.selectors import account_state
from hubtab.ledger.verify import ledger_verify
from hubtab.shop.models import Order, OrderEvent, OrderEventKind, OrderLine, OrderStatus, Variant
from hubtab.shop.services import checkout_key, order_cancel, order_complete, order_pack
from hubtab.testing import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 20  # a race goes one way or the other: many rounds, so that both ways are taken
WORKERS = 8


def _at_once(calls: list) -> list:
    """Each call in its own thread, all released together: what each returned, or the DomainError
    it raised (anything else fails the test)."""
    results: list = [None] * len(calls)

    def call(n: int) -> None:
        try:
            results[n] = calls[n]()
        except DomainError as exc:
            results[n] = exc

    assert run_in_threads(call, len(calls)) == []
    return results


def _orders_of(customer) -> list[Order]:
    return list(Order.objects.across_hubs().filter(account_id=customer.account_id).order_by("id"))


def _hold(order: Order) -> Hold:
    return Hold.objects.across_hubs().get(id=order.hold_id)


def _event_kinds(order: Order) -> list[str]:
    return list(OrderEvent.objects.across_hubs().filter(order=order).values_list("kind", flat=True))


def _stock(variant) -> int:
    return Variant.objects.across_hubs().get(id=variant.id).stock


# --- two tabs of one customer ---------------------------------------------------------------------


def test_two_tabs_checking_out_at_once_place_one_order_when_the_credit_covers_one(shop):
    """Marie has 7.00 and may go 3.00 into debt; both her tabs send a 6.40 basket at the same moment."""
    decided_by_the_ledger = 0
    for n in range(ROUNDS):
        marie = shop.customer(f"marie{n}@example.org", credit_minor=700, floor_minor=-300)
        place = partial(shop.place, marie, {shop.bread.id: 2})  # each call has its own checkout key
        results = _at_once([place, place])

        placed = [r for r in results if isinstance(r, Order)]
        refused = [r for r in results if isinstance(r, DomainError)]
        assert len(placed) == 1 and [r.code for r in refused] == ["credit_short"]
        # Both tabs passed the checkout's own check and the ledger's hold refused the second.
        decided_by_the_ledger += isinstance(refused[0].__cause__, DomainError)
        state = shop.state(marie)
        assert (state.balance_minor, state.held_minor) == (700, 640)
        assert state.balance_minor - state.held_minor >= state.floor_minor
        assert [(o.id, o.status, o.held_minor) for o in _orders_of(marie)] == [(placed[0].id, "placed", 640)]
        assert _hold(placed[0]).status == HoldStatus.HELD
    # The race really happened in some rounds (not only one tab after the other).
    assert decided_by_the_ledger > 0
    assert ledger_verify(hub_id=shop.hub.id) == []


def test_with_credit_first_two_tabs_at_once_never_hold_more_than_the_credit(shop):
    """Credit first: what credit does not cover is paid in cash at pickup. One after the other, the
    second order holds what is left; at the same moment, the ledger refuses the second hold."""
    credit_settings_update(hub=shop.hub, actor=None, payment_policy="credit_first")
    for n in range(ROUNDS // 2):
        marie = shop.customer(f"marie{n}@example.org", credit_minor=1000)
        place = partial(shop.place, marie, {shop.bread.id: 2}, rest_method="cash")
        results = _at_once([place, place])

        placed = [r for r in results if isinstance(r, Order)]
        assert placed and all(r.code == "credit_short" for r in results if isinstance(r, DomainError))
        assert sorted(o.held_minor for o in placed) in ([640], [360, 640])
        assert all(o.held_minor + o.due_minor == o.estimated_minor == 640 for o in placed)
        state = shop.state(marie)
        assert state.held_minor == sum(o.held_minor for o in placed) and state.spendable_minor >= 0
    assert ledger_verify(hub_id=shop.hub.id) == []


# --- a hundred customers of one hub ---------------------------------------------------------------


def test_a_hundred_customers_check_out_at_once_and_crew_complete_every_order_at_once(shop):
    customers = [shop.customer(f"c{n}@example.org", credit_minor=5000) for n in range(100)]
    # Bread by the piece, a chicken by weight for one in four, delivery for one in five: 3.20 to 30.60.
    baskets = {
        c.id: ({shop.bread.id: 1 + n % 3} | ({shop.chicken.id: 1} if n % 4 == 0 else {}),
               shop.delivery if n % 5 == 0 else shop.pickup)
        for n, c in enumerate(customers)
    }  # fmt: skip
    sales_before = account_state(hub_id=shop.hub.id, account_id=shop.books.sales.id).balance_minor
    waiting: queue.SimpleQueue = queue.SimpleQueue()
    for customer in customers:
        waiting.put(customer)

    def checkout(worker: int) -> None:
        while True:
            try:
                customer = waiting.get_nowait()
            except queue.Empty:
                return
            items, option = baskets[customer.id]
            shop.place(customer, items, option=option)

    assert run_in_threads(checkout, WORKERS) == []

    orders = {o.account_id: o for o in Order.objects.across_hubs().filter(hub=shop.hub)}
    assert len(orders) == 100 and {c.account_id for c in customers} == set(orders)
    holds = {h.id: h for h in Hold.objects.across_hubs().filter(hub=shop.hub)}
    for customer in customers:
        order = orders[customer.account_id]
        assert order.status == OrderStatus.PLACED and order.held_minor == order.estimated_minor > 0
        hold = holds[order.hold_id]
        assert (hold.account_id, hold.amount_minor, hold.status) == (customer.account_id, order.held_minor, "held")
        state = shop.state(customer)
        assert (state.balance_minor, state.held_minor) == (5000, order.held_minor)  # nothing taken yet
    assert len(holds) == 100
    assert sum(h.amount_minor for h in holds.values()) == sum(o.estimated_minor for o in orders.values())

    # The chickens are weighed, 1.40 to 1.65 kg: some cost less than their hold, some more.
    for n, order in enumerate(o for o in orders.values() if o.estimated_minor >= 1800):
        line = OrderLine.objects.across_hubs().get(order=order, by_weight=True)
        order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={line.id: (None, 1400 + 10 * n)})
    to_complete: queue.SimpleQueue = queue.SimpleQueue()
    for order in orders.values():
        to_complete.put(order.id)

    def complete(worker: int) -> None:
        while True:
            try:
                order_id = to_complete.get_nowait()
            except queue.Empty:
                return
            order_complete(hub=shop.hub, actor=None, order_id=order_id)

    assert run_in_threads(complete, WORKERS) == []

    finals = 0
    for customer in customers:
        order = Order.objects.across_hubs().get(id=orders[customer.account_id].id)
        assert order.status == OrderStatus.COMPLETED
        assert order.captured_minor == order.final_minor and order.owed_minor == 0
        assert order.released_minor == max(order.held_minor - order.final_minor, 0)
        hold = Hold.objects.across_hubs().get(id=order.hold_id)
        assert (hold.status, hold.captured_minor) == (HoldStatus.CAPTURED, order.final_minor)
        state = shop.state(customer)
        assert (state.balance_minor, state.held_minor) == (5000 - order.final_minor, 0)
        finals += order.final_minor
    assert finals != sum(o.estimated_minor for o in orders.values())  # the weighing changed the totals
    sales = account_state(hub_id=shop.hub.id, account_id=shop.books.sales.id)
    assert sales.balance_minor - sales_before == finals
    assert ledger_verify(hub_id=shop.hub.id) == []


# --- limited stock --------------------------------------------------------------------------------


def test_the_last_ten_boxes_of_eggs_go_to_ten_of_twenty_customers_ordering_at_once(shop):
    customers = [shop.customer(f"c{n}@example.org", credit_minor=1000) for n in range(20)]
    results = _at_once([partial(shop.place, c, {shop.eggs.id: 1}) for c in customers])

    assert sum(isinstance(r, Order) for r in results) == 10
    assert sorted(r.code for r in results if isinstance(r, DomainError)) == ["out_of_stock"] * 10
    assert _stock(shop.eggs) == 0
    sold = OrderLine.objects.across_hubs().filter(variant=shop.eggs).values_list("quantity", flat=True)
    assert sorted(sold) == [1] * 10
    # Those turned away have no order and nothing held.
    for customer, result in zip(customers, results, strict=True):
        assert len(_orders_of(customer)) == (1 if isinstance(result, Order) else 0)
        assert shop.state(customer).held_minor == (450 if isinstance(result, Order) else 0)
    assert ledger_verify(hub_id=shop.hub.id) == []


# --- one order, two crew members ------------------------------------------------------------------


def test_two_crew_completing_the_same_order_at_once_take_the_money_once(shop):
    for n in range(ROUNDS // 2):
        marie = shop.customer(f"marie{n}@example.org", credit_minor=3000)
        order = shop.place(marie, {shop.chicken.id: 1})  # about 1.5 kg: 18.00 held
        line = OrderLine.objects.across_hubs().get(order=order)
        order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={line.id: (None, 1600)})  # 19.20
        complete = partial(order_complete, hub=shop.hub, actor=None, order_id=order.id)
        results = _at_once([complete, complete])

        assert all(isinstance(r, Order) for r in results)
        order.refresh_from_db()
        assert (order.status, order.final_minor, order.captured_minor, order.owed_minor) == ("completed", 1920, 1920, 0)
        state = shop.state(marie)
        assert (state.balance_minor, state.held_minor) == (3000 - 1920, 0)
        assert _event_kinds(order).count(OrderEventKind.CAPTURED) == 1
        assert _hold(order).status == HoldStatus.CAPTURED
    assert ledger_verify(hub_id=shop.hub.id) == []


def test_completing_and_cancelling_the_same_order_at_once_ends_it_one_way(shop):
    ends: Counter[str] = Counter()
    for n in range(ROUNDS // 2):  # each completed round sells a box of the 10 eggs
        marie = shop.customer(f"marie{n}@example.org", credit_minor=3000)
        order = shop.place(marie, {shop.eggs.id: 1, shop.bread.id: 1})  # 7.70 held
        completed, cancelled = _at_once([
            partial(order_complete, hub=shop.hub, actor=None, order_id=order.id),
            partial(order_cancel, hub=shop.hub, actor=None, order_id=order.id, reason="Changed my mind"),
        ])  # fmt: skip

        order.refresh_from_db()
        state = shop.state(marie)
        kinds = _event_kinds(order)
        if order.status == OrderStatus.COMPLETED:
            assert isinstance(completed, Order) and cancelled.code == "order_completed"
            assert _hold(order).status == HoldStatus.CAPTURED and order.captured_minor == 770
            assert (state.balance_minor, state.held_minor) == (3000 - 770, 0)
            assert OrderEventKind.CANCELLED not in kinds
        else:
            assert order.status == OrderStatus.CANCELLED
            assert isinstance(cancelled, Order) and completed.code == "order_not_open"
            assert _hold(order).status == HoldStatus.VOIDED and order.captured_minor == 0
            assert (state.balance_minor, state.held_minor) == (3000, 0)
            assert OrderEventKind.CAPTURED not in kinds
        ends[order.status] += 1
        assert _stock(shop.eggs) == 10 - ends[OrderStatus.COMPLETED]  # a cancelled order's box is back
    assert sum(ends.values()) == ROUNDS // 2
    assert ledger_verify(hub_id=shop.hub.id) == []


def test_cancelling_an_order_while_the_customer_places_another_with_the_same_item_does_both(shop):
    """Cancel and checkout lock the same variant and the same account: in the same order, or they deadlock."""
    for n in range(ROUNDS // 2):
        # two boxes on the shelf: the second order must not depend on which of the two goes first
        Variant.objects.across_hubs().filter(id=shop.eggs.id).update(stock=2)
        marie = shop.customer(f"marie{n}@example.org", credit_minor=3000)
        first = shop.place(marie, {shop.eggs.id: 1})
        cancelled, second = _at_once([
            partial(order_cancel, hub=shop.hub, actor=None, order_id=first.id, reason="Ordered again"),
            partial(shop.place, marie, {shop.eggs.id: 1}),
        ])  # fmt: skip

        assert cancelled.status == OrderStatus.CANCELLED and isinstance(second, Order)
        assert _stock(shop.eggs) == 1  # the cancelled box is back on the shelf, the new one taken
        assert (shop.state(marie).balance_minor, shop.state(marie).held_minor) == (3000, 450)


def test_the_same_checkout_sent_twice_at_once_answers_both_sends_with_the_one_order(shop):
    for n in range(ROUNDS // 2):
        marie = shop.customer(f"marie{n}@example.org", credit_minor=450)  # exactly one box of eggs
        place = partial(shop.place, marie, {shop.eggs.id: 1}, key=checkout_key())  # a double click
        first, second = _at_once([place, place])

        assert isinstance(first, Order) and isinstance(second, Order) and first.id == second.id
        assert len(_orders_of(marie)) == 1 and shop.state(marie).held_minor == 450
