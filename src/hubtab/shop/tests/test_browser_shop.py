"""The shop's whole journey in a real Chromium, with Stripe.js served by localstripe: a customer
with too little credit is blocked at a credit-only checkout, tops up exactly the shortfall by
card, comes back and orders; crew weigh and complete the order; the customer's order shows the
hold, the capture and what was released."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hubtab.accounts.services import credit_settings_update
from hubtab.core.models import Role, User
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.ledger.selectors import account_state
from hubtab.ledger.verify import ledger_verify
from hubtab.shop.models import FulfilmentKind, FulfilmentOption, Order, OrderCycle, OrderLine, Variant
from hubtab.shop.services import (
    checkout_key,
    cycle_save,
    fulfilment_add,
    order_complete,
    order_pack,
    order_place,
    product_save,
    tier_save,
    variant_save,
)
from hubtab.testing import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shop_hub(stripe_hub, books):
    hub = stripe_hub
    credit_settings_update(hub=hub, actor=None, payment_policy="credit_only")
    now = timezone.now()
    cycle = cycle_save(hub=hub, actor=None, name="Week 48", opens_at=now - timedelta(days=1),
                       closes_at=now + timedelta(days=2))  # fmt: skip
    fulfilment_add(hub=hub, actor=None, cycle=cycle, kind=FulfilmentKind.PICKUP, name="Market hall")
    fulfilment_add(hub=hub, actor=None, cycle=cycle, kind=FulfilmentKind.DELIVERY, name="To your door", fee_minor=300)
    chicken = product_save(hub=hub, actor=None, name="Whole chicken", producer="Ferme des Saules",
                           description="Free range, about 1.5 kg.")  # fmt: skip
    variant_save(hub=hub, actor=None, product=chicken, price_minor=1200, by_weight=True, estimated_grams=1500)
    bread = product_save(hub=hub, actor=None, name="Sourdough", producer="Boulangerie Martin")
    variant_save(hub=hub, actor=None, product=bread, name="800 g", price_minor=320, stock=12)
    eggs = product_save(hub=hub, actor=None, name="Eggs", producer="Ferme des Saules")
    variant_save(hub=hub, actor=None, product=eggs, name="box of 6", price_minor=450, stock=0)
    gold = tier_save(hub=hub, actor=None, name="Gold", credits_minor=900)
    honey = product_save(hub=hub, actor=None, name="Chestnut honey", producer="Rucher du Bois")
    variant_save(hub=hub, actor=None, product=honey, name="500 g jar", tier_id=gold.id)
    return hub


@pytest.fixture
def marie(shop_hub, books):
    user = user_create(email="marie@example.org", password="pw-long-enough", email_verified=True, first_name="Marie")
    membership_grant(hub=shop_hub, user=user, role=Role.CUSTOMER)
    record = customer_create(hub=shop_hub, email="marie@example.org", first_name="Marie", last_name="Dubois")
    books.top_up(record.account, 1000)  # 10,00 € of credit
    return record


@pytest.fixture
def support(shop_hub):
    user = user_create(email="sam@example.org", password="pw-long-enough", email_verified=True, first_name="Sam")
    membership_grant(hub=shop_hub, user=user, role=Role.SUPPORT)
    return user


def _log_in(browser, base_url, email, viewport):
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("pw-long-enough")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


def test_blocked_then_topped_up_then_ordered_packed_and_completed(live_server, browser, shop_hub, marie, support):
    base = live_server.url
    context, page = _log_in(browser, base, "marie@example.org", LAPTOP)
    page.goto(f"{base}/me/{shop_hub.slug}/")
    page.get_by_role("link", name="Shop").click()
    credit = page.get_by_role("complementary", name="Your credit")
    assert "€10.00" in credit.inner_text()
    page.get_by_text("Sold out").wait_for()  # the eggs
    page.get_by_role("button", name="Add Whole chicken to cart").click()
    page.get_by_text("Added 1 \u00d7 Whole chicken to your cart.").wait_for()
    page.get_by_role("button", name="Add Sourdough 800 g to cart").click()
    page.get_by_text("Added 1 \u00d7 Sourdough 800 g to your cart.").wait_for()
    screenshot(page, "shop-storefront-laptop")

    page.get_by_role("link", name="Cart: 2 items · check out").click()
    page.get_by_label("Pickup: Market hall").check()
    assert "€21.20" in page.locator("tfoot").inner_text()  # the subtotal, weighed items estimated
    screenshot(page, "shop-cart-laptop")
    page.get_by_role("button", name="Go to checkout").click()

    # 1. Credit only, and €10.00 can't pay €18.00 (the chicken's estimate) + €3.20: blocked.
    page.get_by_text("Your credit can't cover this order: €11.20 is missing.").wait_for()
    assert page.get_by_role("button", name="Place order").count() == 0
    screenshot(page, "shop-checkout-blocked-laptop")

    # 2. A top-up of exactly the shortfall, by card: once it is paid the order is placed, at once.
    page.get_by_role("button", name="Top up €11.20 by card").click()
    page.get_by_text("You pay €11.20 and get €11.20 of credit.").wait_for()
    page.get_by_placeholder("number").fill("4242424242424242")
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("31")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("75011")
    page.get_by_role("button", name="Pay €11.20").click()

    # 3. The customer sees their order, placed with the checkout's key, its credit held.
    page.get_by_text("Thank you: your payment went through and your order is placed.").wait_for()
    screenshot(page, "shop-order-placed-after-card-laptop")
    order = Order.objects.across_hubs().get()
    assert (order.status, order.held_minor, order.payment_id is not None) == ("placed", 2120, True)
    state = account_state(hub_id=shop_hub.id, account_id=marie.account_id)
    assert (state.balance_minor, state.held_minor, state.spendable_minor) == (2120, 2120, 0)

    # 4. Crew weigh the chicken (1,350 kg: €16.20) and complete the order.
    crew_context, crew = _log_in(browser, base, "sam@example.org", LAPTOP)
    crew.goto(f"{base}/hubs/{shop_hub.slug}/")
    crew.get_by_role("link", name="Orders").first.click()
    crew.get_by_role("link", name="Week 48").click()
    screenshot(crew, "shop-cycle-crew-laptop")
    crew.get_by_role("link", name=f"#{order.id}").click()
    crew.get_by_label("Weight (g)").fill("1350")
    screenshot(crew, "shop-packing-crew-laptop")
    crew.get_by_role("button", name="Complete the order").click()
    crew.get_by_text("Order completed.").wait_for()
    screenshot(crew, "shop-order-completed-crew-laptop")
    crew.get_by_role("link", name="Marie Dubois").click()
    crew.get_by_role("link", name="Orders", exact=True).last.click()
    crew.get_by_role("heading", name="Orders of Marie Dubois").wait_for()
    assert "€19.40" in crew.locator("table").inner_text()
    screenshot(crew, "shop-customer-orders-crew-laptop")
    order.refresh_from_db()
    assert (order.final_minor, order.captured_minor, order.released_minor) == (1940, 1940, 180)

    # 5. The customer's order shows the hold, the capture and what was released.
    page.goto(f"{base}/me/{shop_hub.slug}/orders/{order.id}/")
    events = [
        f"{item.locator('.what').inner_text()} {item.locator('.amount').inner_text()}"
        for item in page.locator(".order-timeline li").all()
    ]
    assert events == [
        "Order placed €21.20", "Held on your credit €21.20", "Packed €19.40",
        "Taken from your credit €19.40", "Released back to your credit €1.80",
    ]  # fmt: skip
    screenshot(page, "shop-my-order-laptop")
    page.get_by_role("link", name="My orders").click()
    assert "Completed" in page.locator("table").inner_text()
    screenshot(page, "shop-my-orders-laptop")
    state = account_state(hub_id=shop_hub.id, account_id=marie.account_id)
    assert (state.balance_minor, state.held_minor) == (180, 0)
    assert ledger_verify(hub_id=shop_hub.id) == []
    crew_context.close()
    context.close()


def test_the_shop_and_an_order_read_well_on_a_phone(live_server, browser, shop_hub, marie, books):
    books.top_up(marie.account, 3000)
    cycle = OrderCycle.objects.across_hubs().get()
    options = {o.kind: o for o in FulfilmentOption.objects.across_hubs().filter(cycle=cycle)}
    variants = {v.product.name: v for v in Variant.objects.across_hubs().select_related("product")}
    order = order_place(
        hub=shop_hub,
        customer=marie,
        cycle_id=cycle.id,
        option_id=options["delivery"].id,
        key=checkout_key(),
        items={variants["Whole chicken"].id: 1, variants["Chestnut honey"].id: 1},
    )
    line = OrderLine.objects.across_hubs().get(order=order, by_weight=True)
    order_pack(hub=shop_hub, actor=None, order_id=order.id, packed={line.id: (None, 1620)})
    order_complete(hub=shop_hub, actor=None, order_id=order.id)

    context, page = _log_in(browser, live_server.url, "marie@example.org", PHONE)
    page.goto(f"{live_server.url}/me/{shop_hub.slug}/shop/")
    page.get_by_role("complementary", name="Your credit").wait_for()
    screenshot(page, "shop-storefront-phone")
    page.get_by_role("button", name="Add Sourdough 800 g to cart").click()
    page.goto(f"{live_server.url}/me/{shop_hub.slug}/shop/checkout/?option={options['pickup'].id}")
    page.get_by_role("button", name="Place order").wait_for()
    screenshot(page, "shop-checkout-phone")
    page.goto(f"{live_server.url}/me/{shop_hub.slug}/orders/{order.id}/")
    page.get_by_text("Taken from your credit").wait_for()
    screenshot(page, "shop-my-order-phone")
    context.close()


@pytest.mark.parametrize(("device", "viewport"), [("laptop", LAPTOP), ("phone", PHONE)])
def test_the_owner_keeps_the_catalogue_and_opens_a_cycle(live_server, browser, shop_hub, device, viewport):
    user_create(email="olga@example.org", password="pw-long-enough", email_verified=True, first_name="Olga")
    membership_grant(hub=shop_hub, user=User.objects.get(email="olga@example.org"), role=Role.OWNER)
    context, page = _log_in(browser, live_server.url, "olga@example.org", viewport)
    page.goto(f"{live_server.url}/hubs/{shop_hub.slug}/shop/products/")
    page.get_by_label("Tier", exact=True).fill("Silver")
    page.get_by_label("Credit cost").fill("6.50")
    page.get_by_role("button", name="Save tier").click()
    page.get_by_text("Tier saved.").wait_for()
    page.get_by_label("Product", exact=True).fill("Goat cheese")
    page.get_by_label("Producer").fill("Chèvrerie du Val")
    page.get_by_label("Variant", exact=True).fill("about 200 g")
    page.get_by_label("Price (EUR)").fill("32")
    page.get_by_label("Sold by weight: the price is per kg").check()
    page.get_by_label("One item weighs about (g)").fill("200")
    page.get_by_role("button", name="Add the product").click()
    page.get_by_text("Goat cheese is in the shop.").wait_for()
    catalogue = page.locator("table").inner_text()
    assert "about 200 g: €32.00 / kg, about 200 g each" in catalogue and "not for sale" not in catalogue
    screenshot(page, f"shop-products-{device}")

    page.goto(f"{live_server.url}/hubs/{shop_hub.slug}/shop/cycles/")
    page.get_by_label("Name").fill("Week 49")
    page.get_by_label("Opens").fill("2026-12-07T08:00")
    page.get_by_label("Closes").fill("2026-12-10T20:00")
    page.get_by_role("button", name="Create the cycle").click()
    page.get_by_text("Order cycle saved; add its pickup or delivery options.").wait_for()
    page.get_by_label("Kind").select_option("delivery")
    page.get_by_label("Where or how").fill("Home delivery")
    page.get_by_label("Fee").fill("4.50")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_text("Option added.").wait_for()
    assert "Delivery: Home delivery (€4.50)" in page.locator("main").inner_text()
    screenshot(page, f"shop-cycle-owner-{device}")
    page.goto(f"{live_server.url}/hubs/{shop_hub.slug}/shop/cycles/")
    screenshot(page, f"shop-cycles-{device}")
    context.close()
