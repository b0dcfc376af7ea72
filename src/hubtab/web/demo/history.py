"""The demo hubs' customers and eight weeks of their accounts, played in time order through the
services: they join, pay money in at the market stall or by transfer, have their weekly boxes
charged by the hub's other shop, and a few get welcome credit."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import time_machine
from django.utils import timezone

from hubtab.accounts.selectors import topup_quote
from hubtab.accounts.services import CreditAction, account_rules_set, order_hold_place
from hubtab.core.models import Hub, Role, User
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.models import Customer
from hubtab.crm.services import customer_charge, customer_create, customer_credit_apply
from hubtab.web.demo.data import CUSTOMER_LOGIN, FIRST, HISTORY_WEEKS, LAST, PASSWORD, TAGS

# How demo customers pay money in, in turn: the crew records it, and it becomes credit at the
# hub's price (with its bonus), as at a real hub.
PAID_IN = ("bank_transfer", "cash", "bank_transfer")


def demo_customer_link(hub: Hub) -> None:
    """The demo customer login is the hub's first customer record, at every hub."""
    user = User.objects.filter(email=CUSTOMER_LOGIN).first() or user_create(
        email=CUSTOMER_LOGIN, password=PASSWORD, email_verified=True, first_name="Marie"
    )
    first = Customer.objects.filter(hub=hub).order_by("id").first()
    assert first is not None
    Customer.objects.filter(hub=hub, id=first.id).update(user=user)
    membership_grant(hub=hub, user=user, role=Role.CUSTOMER)


def accounts_seed(
    hub: Hub, count: int, rng: random.Random, crew: User, shoppers: dict[int, datetime]
) -> list[Customer]:
    """Eight weeks of a hub's life, played in time order: customers join, pay in, are charged
    most weeks, pay in again when they run short; a few get welcome credit. The clock is moved to
    each moment (time-machine), so the history carries real dates. `shoppers`: the customers (by
    place in the list) whose history stops at a moment, the shop's from then on."""

    def in_unit(cents: int) -> int:
        """An amount in the hub's currency, as the credit it buys at the hub's price."""
        return topup_quote(hub=hub, currency=hub.currency, price_minor=cents).paid_minor

    now = timezone.now()
    start = now - timedelta(weeks=HISTORY_WEEKS)
    customers: list[Customer] = []
    floors: list[int] = []
    with time_machine.travel(start, tick=False):
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            customer = customer_create(
                hub=hub,
                email=f"{first}.{last}.{n}@example.org".lower().replace("é", "e").replace("è", "e"),
                first_name=first,
                last_name=last,
                phone=f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {n:02d}",
                code=f"C{n + 1:04d}",
                tags=rng.sample(TAGS, rng.randint(0, 2)),
                actor=crew,
            )
            floor = -in_unit(5000) if n % 4 == 0 else 0
            if floor:
                account_rules_set(hub=hub, actor=crew, account_id=customer.account_id, floor_minor=floor)
            floors.append(floor)
            customers.append(customer)

    # Every customer's week: maybe an order, on a random day and hour; played in time order.
    moments = []
    for index in range(len(customers)):
        for week in range(HISTORY_WEEKS):
            if week == 0 or rng.random() < 0.7:
                at = start + timedelta(weeks=week, days=rng.randint(0, 6), hours=rng.randint(7, 20))
                moments.append((min(at, now - timedelta(hours=1)), index, week))
    moments.sort()
    balances = [0] * len(customers)
    paid_in = 0
    for at, index, week in moments:
        if at >= shoppers.get(index, now):
            continue
        customer, floor = customers[index], floors[index]
        key = f"demo-{customer.account_id}-w{week}"
        spend = in_unit(rng.randint(800, 4500))
        if week == 0 or balances[index] - spend < floor:
            price = rng.choice([2000, 3000, 5000, 10000])
            method = PAID_IN[paid_in % len(PAID_IN)]
            paid_in += 1
            with time_machine.travel(at - timedelta(minutes=30), tick=False):
                customer_credit_apply(
                    hub=hub, actor=crew, customer=customer, action=CreditAction.EXTERNAL_PAYMENT, amount_minor=price,
                    comment="Paid in at the market stall" if method == "cash" else "Standing order",
                    key=f"{key}-topup", method=method,
                )  # fmt: skip
            balances[index] += topup_quote(hub=hub, currency=hub.currency, price_minor=price).total_minor
        if week == 0 and index % 3 == 0:
            welcome = in_unit(500)
            with time_machine.travel(at - timedelta(minutes=20), tick=False):
                customer_credit_apply(
                    hub=hub, actor=crew, customer=customer, action=CreditAction.ADD_GRANTED, amount_minor=welcome,
                    comment="Welcome credit", key=f"{key}-welcome", expires_at=at + timedelta(days=60),
                )  # fmt: skip
            balances[index] += welcome
        if balances[index] - spend >= floor:
            with time_machine.travel(at, tick=False):
                customer_charge(
                    hub=hub, customer=customer, amount_minor=spend, reference=f"Weekly box, week {week + 1}",
                    description="", key=f"{key}-order",
                )  # fmt: skip
            balances[index] -= spend

    for index, customer in enumerate(customers):
        # An order of the hub's other shop, waiting for pickup.
        if index % 5 == 0 and index not in shoppers and balances[index] - floors[index] > in_unit(1500):
            order_hold_place(
                hub=hub, account_id=customer.account_id, amount_minor=in_unit(1500),
                reference="Open order, pickup Saturday", key=f"demo-{customer.account_id}-open-order",
                expires_at=now + timedelta(days=5),
            )  # fmt: skip
    return customers
