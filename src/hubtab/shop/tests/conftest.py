"""A hub with a shop: a customer with credit, an open cycle with pickup and delivery, and products
sold by the item, by weight and in credit tiers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from hubtab.accounts.services import credit_settings_update
from hubtab.crm.services import customer_create
from hubtab.ledger.selectors import account_state
from hubtab.shop.models import FulfilmentKind
from hubtab.shop.services import checkout_key, cycle_save, fulfilment_add, order_place, product_save, variant_save


@dataclass
class Shop:
    hub: object
    books: object
    cycle: object
    pickup: object
    delivery: object
    eggs: object  # 4.50 each, 10 in stock
    chicken: object  # 12.00 per kg, about 1.5 kg each
    bread: object  # 3.20 each, not counted

    def customer(self, email: str = "marie@example.org", credit_minor: int = 0, floor_minor: int | None = None):
        record = customer_create(hub=self.hub, email=email, first_name=email.split("@")[0].capitalize())
        if floor_minor is not None:
            from hubtab.ledger.services import account_floor_set

            account_floor_set(hub_id=self.hub.id, account_id=record.account_id, floor_minor=floor_minor)
        if credit_minor:
            self.books.top_up(record.account, credit_minor)
        return record

    def place(self, customer, items, *, option=None, rest_method="", key=None):
        return order_place(
            hub=self.hub, customer=customer, cycle_id=self.cycle.id, items=items,
            option_id=(option or self.pickup).id, key=key or checkout_key(), rest_method=rest_method,
        )  # fmt: skip

    def state(self, customer):
        return account_state(hub_id=self.hub.id, account_id=customer.account_id)


@pytest.fixture
def shop(hub, books):
    now = timezone.now()
    credit_settings_update(hub=hub, actor=None, payment_policy="credit_only")
    cycle = cycle_save(hub=hub, actor=None, name="Week 48", opens_at=now - timedelta(days=1),
                       closes_at=now + timedelta(days=2))  # fmt: skip
    pickup = fulfilment_add(hub=hub, actor=None, cycle=cycle, kind=FulfilmentKind.PICKUP, name="Market hall")
    delivery = fulfilment_add(hub=hub, actor=None, cycle=cycle, kind=FulfilmentKind.DELIVERY, name="Home",
                              fee_minor=300)  # fmt: skip
    eggs = variant_save(hub=hub, actor=None, product=product_save(hub=hub, actor=None, name="Eggs"), name="box of 6",
                        price_minor=450, stock=10)  # fmt: skip
    chicken = variant_save(hub=hub, actor=None, product=product_save(hub=hub, actor=None, name="Whole chicken"),
                           price_minor=1200, by_weight=True, estimated_grams=1500)  # fmt: skip
    bread = variant_save(hub=hub, actor=None, product=product_save(hub=hub, actor=None, name="Sourdough"),
                         price_minor=320)  # fmt: skip
    return Shop(hub, books, cycle, pickup, delivery, eggs, chicken, bread)
