"""Orders paid from the customer's account, as customers and crew live them: the hub's payment
policy at checkout, a hold when placed, the packed total captured on completion, cancels,
refunds, extras and small debts carried to the next order."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hubtab.accounts.services import account_rules_set, credit_settings_update
from hubtab.core.errors import DomainError
from hubtab.ledger.models import Hold
from hubtab.ledger.verify import ledger_verify
from hubtab.shop.models import Order, OrderLine, OrderStatus, Variant
from hubtab.shop.selectors import checkout_quote, order_events
from hubtab.shop.services import (
    BulkAction,
    checkout_key,
    cycle_save,
    order_cancel,
    order_complete,
    order_extra_add,
    order_pack,
    order_refund,
    orders_bulk,
    tier_save,
    variant_save,
)

pytestmark = pytest.mark.django_db


def _line(order):
    return OrderLine.objects.across_hubs().get(order=order)


def _events(order):
    return [(e.kind, e.amount_minor) for e in order_events(order=order)]


def test_credit_only_checkout_is_blocked_and_offers_the_shortfall_as_top_up(shop):
    marie = shop.customer(credit_minor=1000)
    quote = checkout_quote(hub=shop.hub, account_id=marie.account_id, items={shop.eggs.id: 3}, option=shop.pickup)
    assert quote.blocked and quote.total_minor == 1350 and quote.rest_minor == 350

    with pytest.raises(DomainError) as refused:
        shop.place(marie, {shop.eggs.id: 3})
    assert refused.value.code == "credit_short" and "€3.50" in refused.value.message

    # Nothing happened: no order, no hold, the eggs are still on the shelf.
    assert not Order.objects.across_hubs().exists()
    assert not Hold.objects.across_hubs().exists()
    assert Variant.objects.across_hubs().get(id=shop.eggs.id).stock == 10
    assert shop.state(marie).spendable_minor == 1000

    shop.books.top_up(marie.account, 350)  # the shortfall, topped up
    order = shop.place(marie, {shop.eggs.id: 3})
    assert (order.status, order.held_minor, order.due_minor) == ("placed", 1350, 0)
    assert shop.state(marie).spendable_minor == 0


def test_placing_holds_the_credit_and_completing_captures_the_weighed_total_and_releases_the_rest(shop):
    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.chicken.id: 2, shop.bread.id: 1})  # 2 x ~1.5 kg at 12.00/kg + 3.20
    assert order.estimated_minor == 3600 + 320
    assert shop.state(marie).held_minor == 3920

    chicken_line = OrderLine.objects.across_hubs().get(order=order, by_weight=True)
    order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={chicken_line.id: (None, 2730)})  # 2.73 kg
    order = order_complete(hub=shop.hub, actor=None, order_id=order.id)

    assert (order.final_minor, order.captured_minor, order.released_minor, order.owed_minor) == (3596, 3596, 324, 0)
    state = shop.state(marie)
    assert (state.balance_minor, state.held_minor) == (5000 - 3596, 0)
    assert _events(order) == [("placed", 3920), ("held", 3920), ("packed", 3596), ("captured", 3596),
                              ("released", 324)]  # fmt: skip
    assert ledger_verify(hub_id=shop.hub.id) == []


def test_a_final_total_above_the_hold_is_taken_within_the_spending_limit(shop):
    marie = shop.customer(credit_minor=1800, floor_minor=-2000)
    order = shop.place(marie, {shop.chicken.id: 1})  # ~18.00 held
    line = _line(order)
    order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={line.id: (None, 1700)})  # 20.40
    order = order_complete(hub=shop.hub, actor=None, order_id=order.id)
    assert (order.captured_minor, order.owed_minor) == (2040, 0)
    assert shop.state(marie).balance_minor == -240


def test_a_small_debt_beyond_the_limit_is_carried_to_the_next_order_instead_of_a_phone_call(shop):
    marie = shop.customer(credit_minor=1800)  # spending limit 0: no debt allowed
    first = shop.place(marie, {shop.chicken.id: 1})
    order_pack(hub=shop.hub, actor=None, order_id=first.id, packed={_line(first).id: (None, 1548)})  # 18.58
    first = order_complete(hub=shop.hub, actor=None, order_id=first.id)
    assert (first.captured_minor, first.owed_minor) == (1800, 58)
    assert shop.state(marie).balance_minor == 0

    shop.books.top_up(marie.account, 1000)
    quote = checkout_quote(hub=shop.hub, account_id=marie.account_id, items={shop.bread.id: 1}, option=shop.pickup)
    assert (quote.carried_minor, quote.total_minor) == (58, 378)
    second = shop.place(marie, {shop.bread.id: 1})
    assert second.held_minor == 378 and second.carried_minor == 58
    first.refresh_from_db()
    assert first.carried_into_id == second.id

    order_complete(hub=shop.hub, actor=None, order_id=second.id)
    first.refresh_from_db()
    assert first.owed_minor == 0 and ("settled", 58) in _events(first)
    assert shop.state(marie).balance_minor == 1000 - 378
    # Nothing left to carry into a third order.
    assert checkout_quote(hub=shop.hub, account_id=marie.account_id, items={shop.bread.id: 1},
                          option=shop.pickup).carried_minor == 0  # fmt: skip


def test_cancelling_an_order_carrying_a_debt_leaves_the_debt_on_its_own_order(shop):
    marie = shop.customer(credit_minor=1800)
    first = shop.place(marie, {shop.chicken.id: 1})
    order_pack(hub=shop.hub, actor=None, order_id=first.id, packed={_line(first).id: (None, 1600)})
    order_complete(hub=shop.hub, actor=None, order_id=first.id)
    shop.books.top_up(marie.account, 1000)
    second = shop.place(marie, {shop.bread.id: 1})
    order_cancel(hub=shop.hub, actor=None, order_id=second.id)
    first.refresh_from_db()
    assert first.carried_into_id is None and first.owed_minor == 120


def test_credit_first_pays_what_credit_covers_and_the_rest_is_collected_at_pickup(shop):
    credit_settings_update(hub=shop.hub, actor=None, payment_policy="credit_first")
    marie = shop.customer(credit_minor=500)
    with pytest.raises(DomainError) as refused:
        shop.place(marie, {shop.eggs.id: 2})
    assert refused.value.code == "validation_error"  # how the rest is paid must be chosen
    order = shop.place(marie, {shop.eggs.id: 2}, rest_method="cash")
    assert (order.held_minor, order.due_minor, order.rest_method) == (500, 400, "cash")

    order = order_complete(hub=shop.hub, actor=None, order_id=order.id)  # 4.00 collected in cash
    assert (order.collected_minor, order.captured_minor, order.owed_minor) == (400, 900, 0)
    assert shop.state(marie).balance_minor == 0
    assert ledger_verify(hub_id=shop.hub.id) == []


def test_other_methods_only_never_touches_the_customers_credit(shop):
    credit_settings_update(hub=shop.hub, actor=None, payment_policy="other_only")
    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.eggs.id: 2}, rest_method="cash")
    assert (order.hold_id, order.due_minor) == (None, 900)
    assert shop.state(marie).held_minor == 0
    order = order_complete(hub=shop.hub, actor=None, order_id=order.id, collected_minor=800)  # 1.00 short
    assert (order.captured_minor, order.owed_minor) == (800, 100)
    assert shop.state(marie).balance_minor == 5000


def test_a_customers_own_policy_overrides_the_hubs(shop, hub):
    from hubtab.core.services import user_create

    owner = user_create(email="owner@example.org", password=None)
    marie = shop.customer(credit_minor=100)
    account_rules_set(hub=hub, actor=owner, account_id=marie.account_id, floor_minor=0, payment_policy="credit_first")
    order = shop.place(marie, {shop.bread.id: 1}, rest_method="cash")
    assert (order.held_minor, order.due_minor) == (100, 220)


def test_cancelling_voids_the_hold_and_puts_the_stock_back_once(shop):
    marie = shop.customer(credit_minor=2000)
    order = shop.place(marie, {shop.eggs.id: 4})
    assert Variant.objects.across_hubs().get(id=shop.eggs.id).stock == 6
    order_cancel(hub=shop.hub, actor=None, order_id=order.id)
    order = order_cancel(hub=shop.hub, actor=None, order_id=order.id)  # a second click
    assert order.status == OrderStatus.CANCELLED and order.released_minor == 1800
    assert Variant.objects.across_hubs().get(id=shop.eggs.id).stock == 10
    assert shop.state(marie).spendable_minor == 2000
    with pytest.raises(DomainError) as refused:
        order_complete(hub=shop.hub, actor=None, order_id=order.id)
    assert refused.value.code == "order_not_open"


def test_completing_twice_takes_the_money_once(shop):
    marie = shop.customer(credit_minor=2000)
    order = shop.place(marie, {shop.eggs.id: 2})
    order_complete(hub=shop.hub, actor=None, order_id=order.id)
    order_complete(hub=shop.hub, actor=None, order_id=order.id)
    assert shop.state(marie).balance_minor == 1100


def test_a_refund_goes_back_to_credit_once_and_never_beyond_what_was_paid(shop):
    from hubtab.core.services import user_create

    finance = user_create(email="finance@example.org", password=None)
    marie = shop.customer(credit_minor=2000)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.eggs.id: 2}).id)
    order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=450, reason="Broken eggs", key="r1")
    order = order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=450, reason="Broken eggs",
                         key="r1")  # the form sent twice  # fmt: skip
    assert order.refunded_minor == 450 and shop.state(marie).balance_minor == 1100 + 450
    with pytest.raises(DomainError) as refused:
        order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=451, reason="More", key="r2")
    assert refused.value.code == "refund_too_large"
    with pytest.raises(DomainError) as refused:
        order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=10, reason="x", key="r3", to="card")
    assert refused.value.code == "not_refundable"  # paid from credit: no card to send it to
    assert ledger_verify(hub_id=shop.hub.id) == []


def test_extras_join_the_final_total_or_are_taken_at_once_after_completion(shop):
    marie = shop.customer(credit_minor=2000)
    order = shop.place(marie, {shop.bread.id: 1})
    order_extra_add(hub=shop.hub, actor=None, order_id=order.id, name="Jar deposit", quantity=2, unit_price_minor=50)
    order = order_complete(hub=shop.hub, actor=None, order_id=order.id)
    assert (order.final_minor, order.captured_minor) == (420, 420)
    order = order_extra_add(hub=shop.hub, actor=None, order_id=order.id, name="Forgotten honey", quantity=1,
                            unit_price_minor=700)  # fmt: skip
    assert (order.final_minor, order.captured_minor, order.owed_minor) == (1120, 1120, 0)
    assert shop.state(marie).balance_minor == 880
    order = order_extra_add(hub=shop.hub, actor=None, order_id=order.id, name="Cheese", quantity=1,
                            unit_price_minor=1000)  # fmt: skip
    assert (order.captured_minor, order.owed_minor) == (2000, 120)  # the limit (0) allows 8.80 of it
    assert shop.state(marie).balance_minor == 0


def test_stock_runs_out_with_a_clear_message(shop):
    marie = shop.customer(credit_minor=10000)
    shop.place(marie, {shop.eggs.id: 9})
    with pytest.raises(DomainError) as refused:
        shop.place(marie, {shop.eggs.id: 2})
    assert refused.value.code == "out_of_stock" and "Only 1" in refused.value.message


def test_the_same_checkout_sent_twice_places_one_order(shop):
    marie = shop.customer(credit_minor=2000)
    key = checkout_key()
    first = shop.place(marie, {shop.eggs.id: 1}, key=key)
    second = shop.place(marie, {shop.eggs.id: 1}, key=key)
    assert first.id == second.id and shop.state(marie).held_minor == 450


def test_a_closed_cycle_takes_no_order_and_bad_carts_are_refused(shop):
    marie = shop.customer(credit_minor=2000)
    for items, code in [({}, "cart_empty"), ({shop.eggs.id: 0}, "validation_error"),
                        ({shop.eggs.id: "3"}, "validation_error"), ({999999: 1}, "not_for_sale")]:  # fmt: skip
        with pytest.raises(DomainError) as refused:
            shop.place(marie, items)
        assert refused.value.code == code
    now = timezone.now()
    cycle_save(hub=shop.hub, actor=None, name="Week 48", opens_at=now - timedelta(days=3),
               closes_at=now - timedelta(hours=1), cycle=shop.cycle)  # fmt: skip
    with pytest.raises(DomainError) as refused:
        shop.place(marie, {shop.eggs.id: 1})
    assert refused.value.code == "cycle_closed"
    assert not Order.objects.across_hubs().exists()


def test_the_delivery_fee_is_part_of_the_order(shop):
    marie = shop.customer(credit_minor=2000)
    order = shop.place(marie, {shop.bread.id: 1}, option=shop.delivery)
    assert (order.fee_minor, order.estimated_minor, order.fulfilment_name) == (300, 620, "Home")


def test_bulk_actions_report_each_order_and_do_not_stop_at_one_that_cannot(shop):
    from hubtab.core.services import user_create

    finance = user_create(email="finance@example.org", password=None)
    customers = [shop.customer(f"c{n}@example.org", credit_minor=1000) for n in range(3)]
    orders = [shop.place(c, {shop.bread.id: 1}) for c in customers]
    order_cancel(hub=shop.hub, actor=None, order_id=orders[0].id)
    result = orders_bulk(hub=shop.hub, actor=finance, order_ids=[o.id for o in orders], action=BulkAction.COMPLETE,
                         key="bulk-1")  # fmt: skip
    assert result.done == [orders[1].id, orders[2].id] and [f[0] for f in result.failed] == [orders[0].id]
    result = orders_bulk(hub=shop.hub, actor=finance, order_ids=[o.id for o in orders[1:]],
                         action=BulkAction.REFUND_CREDIT, key="bulk-2")  # fmt: skip
    assert result.done == [orders[1].id, orders[2].id]
    assert [shop.state(c).balance_minor for c in customers] == [1000, 1000, 1000]
    assert ledger_verify(hub_id=shop.hub.id) == []


def test_a_hub_counting_in_named_credits_sells_tiers_and_currency_prices_in_credits(shop, hub):
    from hubtab.accounts.services import credit_unit_choose, unit_price_set
    from hubtab.core.services import user_create

    owner = user_create(email="owner@example.org", password=None)
    credit_unit_choose(hub=hub, actor=owner, code="KAI", name="kai", decimals=0)
    unit_price_set(hub=hub, actor=owner, currency="EUR", credits_minor=10, price_minor=100)  # 10 kai for 1 EUR
    gold = tier_save(hub=hub, actor=owner, name="Gold", credits_minor=30)
    honey = variant_save(hub=hub, actor=owner, product=shop.bread.product, name="gold loaf", tier_id=gold.id)
    marie = shop.customer(credit_minor=0)
    quote = checkout_quote(hub=hub, account_id=marie.account_id, items={honey.id: 1, shop.bread.id: 1},
                           option=shop.pickup)  # fmt: skip
    assert quote.unit.code == "KAI"
    assert [line.unit_price_minor for line in quote.lines] == [32, 30]  # 3.20 EUR is 32 kai; the tier is 30


def test_cash_at_pickup_in_a_named_credit_hub_is_converted_once_and_earns_no_bonus(shop, hub):
    from hubtab.accounts.services import credit_unit_choose, unit_price_set
    from hubtab.core.services import user_create

    owner = user_create(email="owner@example.org", password=None)
    credit_settings_update(hub=hub, actor=None, payment_policy="credit_first", topup_bonus_percent=Decimal("10"))
    credit_unit_choose(hub=hub, actor=owner, code="KAI", name="kai", decimals=0)
    unit_price_set(hub=hub, actor=owner, currency="EUR", credits_minor=10, price_minor=100)  # 10 kai for 1 EUR
    loaf = variant_save(hub=hub, actor=owner, product=shop.bread.product, name="kai loaf",
                        tier_id=tier_save(hub=hub, actor=owner, name="Small", credits_minor=50).id)  # fmt: skip
    marie = shop.customer()
    order = shop.place(marie, {loaf.id: 1}, rest_method="cash")
    assert (order.unit, order.due_minor) == ("KAI", 50)
    order = order_complete(hub=hub, actor=None, order_id=order.id)  # 5,00 EUR collected at pickup
    assert (order.collected_minor, order.captured_minor, order.owed_minor) == (50, 50, 0)
    state = shop.state(marie)
    assert (state.balance_minor, state.held_minor) == (0, 0)  # no 10 % bonus on money paid for an order
    assert ledger_verify(hub_id=hub.id) == []


def test_cancelling_gives_back_only_stock_that_was_taken(shop):
    marie = shop.customer(credit_minor=2000)
    order = shop.place(marie, {shop.bread.id: 2})  # bread's stock is not counted
    variant_save(hub=shop.hub, actor=None, product=shop.bread.product, price_minor=320, stock=5, variant=shop.bread)
    order_cancel(hub=shop.hub, actor=None, order_id=order.id)
    assert Variant.objects.across_hubs().get(id=shop.bread.id).stock == 5


def test_completing_an_unweighed_item_sold_by_weight_asks_for_the_weight_one_by_one_and_in_bulk(shop):
    from hubtab.core.services import user_create

    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.chicken.id: 1, shop.bread.id: 1})
    with pytest.raises(DomainError) as refused:
        order_complete(hub=shop.hub, actor=None, order_id=order.id)
    assert refused.value.code == "weight_missing" and "Whole chicken" in refused.value.message
    finance = user_create(email="finance@example.org", password=None)
    result = orders_bulk(hub=shop.hub, actor=finance, order_ids=[order.id], action=BulkAction.COMPLETE, key="b1")
    assert result.done == [] and "Weigh" in result.failed[0][1]
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED and shop.state(marie).balance_minor == 5000  # nothing taken


def test_crew_may_charge_the_estimate_and_the_order_says_it_was_estimated(shop):
    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.chicken.id: 1})
    order = order_complete(hub=shop.hub, actor=None, order_id=order.id, charge_estimate=True)
    assert order.status == OrderStatus.COMPLETED and order.captured_minor == order.estimated_minor == 1800
    estimated = [e for e in order_events(order=order) if e.kind == "estimated"]
    assert len(estimated) == 1 and "Whole chicken" in estimated[0].note


def test_packing_saved_then_completed_shows_packed_once(shop):
    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.chicken.id: 1})
    line = OrderLine.objects.across_hubs().get(order=order)
    order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={line.id: (1, 1500)})
    order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={line.id: (1, 1500)})  # the complete button's send
    order = order_complete(hub=shop.hub, actor=None, order_id=order.id)
    assert [kind for kind, _amount in _events(order)].count("packed") == 1
