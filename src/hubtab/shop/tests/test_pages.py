"""The shop's pages through Django's test client: what the owner, crew and customers do there,
bad input answered with a clear message (never a 500), and who may do what."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from hubtab.accounts.services import credit_settings_update
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.models import Customer
from hubtab.shop.models import Order, OrderCycle, OrderLine, PriceTier, Product, Variant
from hubtab.shop.selectors import cart_of

pytestmark = pytest.mark.django_db


def _person(hub, role, email):
    user = user_create(email=email, password=None, email_verified=True)
    membership_grant(hub=hub, user=user, role=role)
    return user


@pytest.fixture
def owner(hub):
    return _person(hub, Role.OWNER, "owner@example.org")


@pytest.fixture
def finance(hub):
    return _person(hub, Role.FINANCE, "finance@example.org")


@pytest.fixture
def support(hub):
    return _person(hub, Role.SUPPORT, "support@example.org")


@pytest.fixture
def marie_client(client, shop):
    """Marie, logged in, with 10,00 € of credit at the hub."""
    user = _person(shop.hub, Role.CUSTOMER, "marie@example.org")
    record = shop.customer(credit_minor=1000)
    Customer.objects.across_hubs().filter(id=record.id).update(user=user)
    client.force_login(user)
    client.record = record
    return client


def _text(response) -> str:
    """The page as a person reads it: tags out, spaces (no-break ones too) as one."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace(" ,", ",")


# --- the owner's catalogue and cycles -------------------------------------------------------------


def test_the_owner_adds_a_tier_and_a_product_sold_by_weight(client, hub, owner):
    client.force_login(owner)
    url = reverse("shop_products", args=[hub.slug])
    response = client.post(url, {"do": "tier", "tier-name": "Gold", "tier-credits": "9.50"})
    assert response.status_code == 302
    assert PriceTier.objects.across_hubs().get().credits_minor == 950
    response = client.post(url, {"do": "product", "name": "Whole chicken", "producer": "Ferme des Saules",
                                 "active": "on", "variant_name": "", "price": "12.00", "by_weight": "on",
                                 "estimated_grams": "1500", "variant_active": "on"})  # fmt: skip
    assert response.status_code == 302
    variant = Variant.objects.across_hubs().select_related("product").get()
    assert (variant.product.name, variant.price_minor, variant.by_weight, variant.estimated_grams) == (
        "Whole chicken", 1200, True, 1500)  # fmt: skip
    page = _text(client.get(url))
    assert "€12.00 / kg, about 1,500 g each" in page and "€9.50" in page


def test_a_product_without_a_price_or_weight_is_refused_with_a_reason_and_nothing_is_saved(client, hub, owner):
    client.force_login(owner)
    url = reverse("shop_products", args=[hub.slug])
    response = client.post(url, {"do": "product", "name": "Cheese", "active": "on", "variant_active": "on"})
    assert response.status_code == 200 and "Give either a price or a credit tier." in _text(response)
    response = client.post(url, {"do": "product", "name": "Cheese", "active": "on", "price": "20",
                                 "by_weight": "on", "variant_active": "on"})  # fmt: skip
    assert response.status_code == 200 and "Say about how much one item weighs" in _text(response)
    response = client.post(url, {"do": "product", "name": "Cheese", "price": "abc"})
    assert response.status_code == 200
    assert not Product.objects.across_hubs().exists()


def test_the_owner_opens_a_cycle_in_the_hubs_time_and_adds_pickup_and_delivery(client, hub, owner):
    client.force_login(owner)
    response = client.post(reverse("shop_cycles", args=[hub.slug]), {
        "name": "Week 49", "opens_at": "2026-12-01T08:00", "closes_at": "2026-12-04T20:00"})  # fmt: skip
    cycle = OrderCycle.objects.across_hubs().get()
    assert response.status_code == 302
    assert cycle.opens_at.astimezone(ZoneInfo("Europe/Paris")).hour == 8  # the hub's 08:00, not UTC's
    url = reverse("shop_cycle", args=[hub.slug, cycle.id])
    client.post(url, {"do": "option", "option-kind": "delivery", "option-name": "To your door", "option-fee": "3"})
    assert [(o.kind, o.fee_minor) for o in cycle.options.all()] == [
        ("delivery", 300)]  # fmt: skip
    response = client.post(reverse("shop_cycles", args=[hub.slug]), {
        "name": "Backwards", "opens_at": "2026-12-04T08:00", "closes_at": "2026-12-01T20:00"})  # fmt: skip
    assert response.status_code == 200 and "The cycle must close after it opens." in _text(response)


def test_support_packs_orders_but_neither_opens_cycles_nor_refunds(client, shop, support):
    marie = shop.customer(credit_minor=2000)
    order = shop.place(marie, {shop.bread.id: 1})
    client.force_login(support)
    assert client.get(reverse("shop_cycle", args=[shop.hub.slug, shop.cycle.id])).status_code == 200
    assert client.post(reverse("shop_cycles", args=[shop.hub.slug]), {"name": "x"}).status_code == 403
    assert client.get(reverse("shop_products", args=[shop.hub.slug])).status_code == 403
    url = reverse("shop_order", args=[shop.hub.slug, order.id])
    assert client.post(url + "complete/", {f"quantity_{_line(order).id}": "1"}).status_code == 302
    response = client.post(url + "refund/", {"refund-key": "k", "refund-amount": "1", "refund-to": "credit",
                                 "refund-reason": "x"})  # fmt: skip
    assert response.status_code == 403
    assert Order.objects.across_hubs().get().refunded_minor == 0


def _line(order, **filters):
    return OrderLine.objects.across_hubs().filter(order=order, **filters).get()


def test_crew_weigh_collect_cash_and_complete_then_finance_refunds(client, shop, support, finance):
    credit_settings_update(hub=shop.hub, actor=None, payment_policy="credit_first")
    marie = shop.customer(credit_minor=1000)
    order = shop.place(marie, {shop.chicken.id: 1}, rest_method="cash")  # 18,00: 10,00 held, 8,00 at pickup
    client.force_login(support)
    url = reverse("shop_order", args=[shop.hub.slug, order.id])
    line = _line(order)
    response = client.post(url + "pack/", {f"quantity_{line.id}": "1", f"grams_{line.id}": "abc"})
    assert response.status_code == 200  # a weight that isn't a number: said on the page, nothing saved
    assert _line(order).packed_grams is None
    client.post(url + "pack/", {f"quantity_{line.id}": "1", f"grams_{line.id}": "1400"})
    page = client.get(url).content.decode()
    assert "€16.80" in page and 'name="collected" value="6.80"' in page  # the final total; left to collect
    client.post(url + "complete/", {f"quantity_{line.id}": "1", f"grams_{line.id}": "1400", "collected": "6.80"})
    order.refresh_from_db()
    assert (order.status, order.collected_minor, order.captured_minor, order.owed_minor) == ("completed", 680, 1680, 0)
    assert shop.state(marie).balance_minor == 0

    client.force_login(finance)
    response = client.post(url + "refund/", {"refund-key": "k1", "refund-amount": "2.00", "refund-to": "credit",
                                 "refund-reason": "Bruised"})  # fmt: skip
    assert response.status_code == 302
    response = client.post(url + "refund/", {"refund-key": "k2", "refund-amount": "20.00", "refund-to": "credit",
                                 "refund-reason": "Too much"})  # fmt: skip
    assert response.status_code == 200 and "At most €14.80 of this order can still be refunded." in _text(response)
    assert shop.state(marie).balance_minor == 200


def test_completing_without_a_weight_asks_for_it_on_the_page_or_takes_the_ticked_estimate(client, shop, support):
    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.chicken.id: 1})
    client.force_login(support)
    url = reverse("shop_order", args=[shop.hub.slug, order.id])
    line = _line(order)
    assert "Charge the estimated weight for items not weighed" in client.get(url).content.decode()
    response = client.post(url + "complete/", {f"quantity_{line.id}": "1", f"grams_{line.id}": ""})
    assert response.status_code == 200 and "Weigh Whole chicken before completing" in _text(response)
    order.refresh_from_db()
    assert order.status == "placed"
    client.post(url + "complete/", {f"quantity_{line.id}": "1", f"grams_{line.id}": "", "charge_estimate": "on"})
    order.refresh_from_db()
    assert (order.status, order.captured_minor) == ("completed", 1800)
    assert "Charged at the estimated weight" in client.get(url).content.decode()


def test_bulk_complete_from_the_cycle_page_reports_each_order(client, shop, support):
    orders = [shop.place(shop.customer(f"c{n}@example.org", credit_minor=1000), {shop.bread.id: 1}) for n in range(3)]
    client.force_login(support)
    url = reverse("shop_cycle", args=[shop.hub.slug, shop.cycle.id])
    response = client.post(url, {"do": "bulk", "key": "b1", "action": "complete",
                                 "orders": [o.id for o in orders]}, follow=True)  # fmt: skip
    assert "3 orders done." in _text(response)
    assert set(Order.objects.across_hubs().values_list("status", flat=True)) == {"completed"}
    response = client.post(url, {"do": "bulk", "key": "b2", "action": "refund_credit", "orders": [orders[0].id]})
    assert response.status_code == 403  # support moves no money


# --- the customer's shop --------------------------------------------------------------------------


def test_a_customer_fills_the_cart_and_checks_out_paying_the_rest_at_pickup(marie_client, shop):
    credit_settings_update(hub=shop.hub, actor=None, payment_policy="credit_first")
    slug = shop.hub.slug
    page = _text(marie_client.get(reverse("shop", args=[slug])))
    assert "You can spend €10.00" in page and "Whole chicken" in page
    marie_client.post(reverse("shop", args=[slug]), {"variant": shop.eggs.id, "quantity": "3"})
    marie_client.post(reverse("shop", args=[slug]), {"variant": shop.bread.id, "quantity": "1"})
    marie_client.post(reverse("shop_cart", args=[slug]), {f"quantity_{shop.eggs.id}": "2",
                                                          f"quantity_{shop.bread.id}": "1"})  # fmt: skip
    page = _text(marie_client.get(reverse("shop_cart", args=[slug])))
    assert "€12.20" in page  # 2 x 4,50 + 3,20

    checkout = reverse("shop_checkout", args=[slug]) + f"?option={shop.delivery.id}"
    page = marie_client.get(checkout)
    text = _text(page)
    assert "€15.20" in text and "From your credit" in text and "€5.20" in text  # with the 3,00 delivery fee
    assert "Cash on delivery" in text and "Cash at pickup" not in text  # what fits a delivery
    key = page.context["form"]["key"].value()
    data = {"key": key, "option": shop.delivery.id, "rest_method": "cash", "do": "place"}
    response = marie_client.post(checkout, data)
    order = Order.objects.across_hubs().get()
    assert response.status_code == 302 and response["Location"] == reverse("my_order", args=[slug, order.id])
    assert (order.held_minor, order.due_minor, order.rest_method) == (1000, 520, "cash")
    marie_client.post(checkout, data)  # the same checkout sent again: still one order
    assert Order.objects.across_hubs().count() == 1
    page = _text(marie_client.get(reverse("my_order", args=[slug, order.id])))
    assert "Held on your credit" in page and "To pay: Cash on delivery" in page


def test_credit_only_checkout_offers_exactly_the_shortfall_and_no_way_round_it(marie_client, shop):
    slug = shop.hub.slug
    marie_client.post(reverse("shop", args=[slug]), {"variant": shop.eggs.id, "quantity": "3"})
    page = marie_client.get(reverse("shop_checkout", args=[slug]) + f"?option={shop.pickup.id}")
    text = _text(page)
    assert "Your credit can't cover this order: €3.50 is missing." in text and "Place order" not in text
    response = marie_client.post(
        reverse("shop_checkout", args=[slug]),
        {"key": page.context["form"]["key"].value(), "option": shop.pickup.id, "do": "place", "rest_method": "cash"},
    )
    assert response.status_code == 200 and "€3.50 is missing" in _text(response)
    assert not Order.objects.across_hubs().exists()


def test_bad_cart_input_is_answered_without_an_error_page(marie_client, shop):
    slug = shop.hub.slug
    for data in ({"variant": "x", "quantity": "1"}, {"variant": shop.eggs.id, "quantity": "1000"},
                 {"variant": 999999}, {}):  # fmt: skip
        response = marie_client.post(reverse("shop", args=[slug]), data, follow=True)
        assert response.status_code == 200
    assert cart_of(customer=marie_client.record) == {}
    assert marie_client.post(reverse("shop_cart", args=[slug]), {"quantity_1": "lots"}).status_code == 302
    response = marie_client.get(reverse("shop_checkout", args=[slug]), follow=True)
    assert "Your cart is empty." in _text(response)


def test_a_closed_shop_says_when_the_next_cycle_opens(marie_client, shop):
    now = timezone.now()
    shop.cycle.opens_at, shop.cycle.closes_at = now + timedelta(days=1), now + timedelta(days=3)
    shop.cycle.save()
    page = _text(marie_client.get(reverse("shop", args=[shop.hub.slug])))
    assert "The shop is closed for now." in page and "The next order cycle opens on" in page


def _checkout_by_card(marie_client, shop, quantity="3"):
    """Marie's cart of eggs, beyond her credit: she takes the card top-up the checkout offers."""
    slug = shop.hub.slug
    marie_client.post(reverse("shop", args=[slug]), {"variant": shop.eggs.id, "quantity": quantity})
    checkout = reverse("shop_checkout", args=[slug])
    page = marie_client.get(checkout + f"?option={shop.pickup.id}")
    form = {"key": page.context["form"]["key"].value(), "option": shop.pickup.id, "do": "topup"}
    return form, marie_client.post(checkout, form)


@pytest.mark.django_db(transaction=True)
def test_paying_the_shortfall_by_card_places_the_order_at_once_and_only_once(
    marie_client, shop, stripe_hub, localstripe_url
):
    from hubtab.payments.models import Payment
    from hubtab.payments.services import topup_card_form
    from hubtab.testing import stripe_card_entered

    slug = shop.hub.slug
    form, response = _checkout_by_card(marie_client, shop)
    payment = Payment.objects.across_hubs().get()
    assert (payment.price_minor, payment.paid_minor) == (350, 350)  # exactly the shortfall, below the smallest top-up
    assert response["Location"] == reverse("topup_card", args=[slug, payment.id])
    stripe_card_entered(localstripe_url, topup_card_form(hub=shop.hub, payment=payment))
    paid = marie_client.post(reverse("topup_pay", args=[slug, payment.id]), follow=True)
    order = Order.objects.across_hubs().get()
    assert paid.redirect_chain[-1][0] == reverse("my_order", args=[slug, order.id])  # the order, not "place it again"
    assert "your order is placed" in _text(paid)
    assert (order.key, order.payment_id, order.held_minor) == (form["key"], payment.id, 1350)
    assert cart_of(customer=marie_client.record) == {}
    again = marie_client.post(reverse("shop_checkout", args=[slug]), {**form, "do": ""}, follow=True)  # a second tab
    assert Order.objects.across_hubs().count() == 1 and again.status_code == 200
    assert shop.state(marie_client.record).balance_minor == 1350


@pytest.mark.django_db(transaction=True)
def test_a_paid_checkout_that_can_no_longer_be_placed_keeps_the_money_as_credit_and_says_so(
    marie_client, shop, stripe_hub, localstripe_url
):
    from hubtab.payments.models import Payment
    from hubtab.payments.services import topup_card_form
    from hubtab.testing import stripe_card_entered

    slug = shop.hub.slug
    _checkout_by_card(marie_client, shop)
    payment = Payment.objects.across_hubs().get()
    Variant.objects.across_hubs().filter(id=shop.eggs.id).update(stock=0)  # sold out while she paid
    stripe_card_entered(localstripe_url, topup_card_form(hub=shop.hub, payment=payment))
    paid = marie_client.post(reverse("topup_pay", args=[slug, payment.id]), follow=True)
    assert not Order.objects.across_hubs().exists()
    assert "Your payment went through and the money is on your credit" in _text(paid) and "sold out" in _text(paid)
    assert shop.state(marie_client.record).balance_minor == 1350


def test_a_customer_cancels_their_own_order_while_the_cycle_is_open_but_not_after(marie_client, shop):
    order = shop.place(marie_client.record, {shop.bread.id: 1})
    url = reverse("my_order", args=[shop.hub.slug, order.id])
    assert "Cancel my order" in _text(marie_client.get(url))
    marie_client.post(url, {"do": "cancel"})
    order.refresh_from_db()
    assert order.status == "cancelled" and shop.state(marie_client.record).held_minor == 0

    second = shop.place(marie_client.record, {shop.bread.id: 1})
    shop.cycle.closes_at = timezone.now() - timedelta(minutes=1)
    shop.cycle.save()
    response = marie_client.post(reverse("my_order", args=[shop.hub.slug, second.id]), {"do": "cancel"}, follow=True)
    assert "be cancelled any more; ask the hub" in _text(response)
    second.refresh_from_db()
    assert second.status == "placed"


def test_crew_see_a_customers_orders_and_what_they_owe(client, shop, support):
    marie = shop.customer(credit_minor=1800)
    order = shop.place(marie, {shop.chicken.id: 1})
    from hubtab.shop.services import order_complete, order_pack

    order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={_line(order).id: (None, 1600)})
    order_complete(hub=shop.hub, actor=None, order_id=order.id)
    client.force_login(support)
    page = _text(client.get(reverse("shop_customer_orders", args=[shop.hub.slug, marie.id])))
    assert f"#{order.id}" in page and "owes €1.20" in page
    shop.place(shop.customer("hugo@example.org", credit_minor=1000), {shop.bread.id: 1})
    assert "1 order to pack and complete" in _text(client.get(reverse("dashboard", args=[shop.hub.slug])))


@pytest.mark.parametrize(
    ("credit_minor", "own", "borrowed"), [(0, None, "4.50"), (300, "3.00", "1.50"), (1000, "4.50", None)]
)
def test_checkout_says_how_much_is_own_credit_and_how_much_is_borrowed_within_the_limit(
    client, shop, credit_minor, own, borrowed
):
    credit_settings_update(hub=shop.hub, actor=None, payment_policy="credit_first", default_floor_minor=-5000)
    user = _person(shop.hub, Role.CUSTOMER, "lea@example.org")
    record = shop.customer("lea@example.org", credit_minor=credit_minor, floor_minor=-5000)
    Customer.objects.across_hubs().filter(id=record.id).update(user=user)
    client.force_login(user)
    client.post(reverse("shop", args=[shop.hub.slug]), {"variant": shop.eggs.id, "quantity": "1"})  # 4,50
    page = _text(client.get(reverse("shop_checkout", args=[shop.hub.slug]) + f"?option={shop.pickup.id}"))
    assert (f"From your credit €{own}" in page) == (own is not None)
    assert (f"Borrowed within your spending limit €{borrowed}" in page) == (borrowed is not None)
    assert ("you owe the hub" in page) == (borrowed is not None)


@pytest.mark.parametrize("typed", ["0", "abc", "1e9", "1.5", "-2", "100", "\u0661\u0662", ""])
def test_a_bad_quantity_is_refused_with_a_message_and_the_cart_is_unchanged(marie_client, shop, typed):
    slug = shop.hub.slug
    response = marie_client.post(reverse("shop", args=[slug]), {"variant": shop.bread.id, "quantity": typed},
                                 follow=True)  # fmt: skip
    assert "Choose a product and a quantity from 1 to 99." in _text(response)
    assert cart_of(customer=marie_client.record) == {}


@pytest.mark.parametrize("typed", ["abc", "1e9", "1.5", "-2", "100"])
def test_a_bad_quantity_in_the_cart_is_refused_and_the_line_kept(marie_client, shop, typed):
    slug = shop.hub.slug
    marie_client.post(reverse("shop", args=[slug]), {"variant": shop.bread.id, "quantity": "2"})
    response = marie_client.post(reverse("shop_cart", args=[slug]), {f"quantity_{shop.bread.id}": typed}, follow=True)
    assert "Quantities are whole numbers from 0 (to remove) to 99." in _text(response)
    assert cart_of(customer=marie_client.record) == {shop.bread.id: 2}


def test_the_cart_is_still_there_after_logging_out_and_in_again(marie_client, shop):
    slug = shop.hub.slug
    marie_client.post(reverse("shop", args=[slug]), {"variant": shop.bread.id, "quantity": "2"})
    marie = Customer.objects.across_hubs().select_related("user").get(id=marie_client.record.id)
    marie_client.logout()
    marie_client.force_login(marie.user)
    page = _text(marie_client.get(reverse("shop_cart", args=[slug])))
    assert "Sourdough" in page and cart_of(customer=marie) == {shop.bread.id: 2}


def test_an_orders_postings_read_in_the_readers_language_in_the_customers_history(client, shop, support):
    from hubtab.shop.services import order_complete

    marie = shop.customer(credit_minor=2000)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.eggs.id: 1}).id)
    client.force_login(support)
    url = reverse("customer_detail", args=[shop.hub.slug, marie.id])
    assert f"Order #{order.id}" in _text(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    french = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="fr"))
    assert f"Commande n° {order.id}" in french and f"Order #{order.id}" not in french


def test_weights_are_written_the_readers_way(client, shop, support):
    from hubtab.shop.services import order_complete, order_pack

    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.chicken.id: 1})
    order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={_line(order).id: (1, 1350)})
    order_complete(hub=shop.hub, actor=None, order_id=order.id)
    client.force_login(support)
    url = reverse("shop_order", args=[shop.hub.slug, order.id])
    assert "1.35 kg" in _text(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    french = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="fr"))
    assert "1,35 kg" in french and "1,5 kg" in french and "1.35" not in french
