"""In a real Chromium, with Stripe.js served by localstripe: a customer tops up by card, saves the
card, passes their bank's check, and sees the balance change; a declined card says so."""

import pytest

from hubtab.accounts.services import credit_settings_update
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.payments.models import Payment, SavedCard
from hubtab.testing import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def marie(stripe_hub):
    user = user_create(email="marie@example.org", password="pw-long-enough", email_verified=True, first_name="Marie")
    membership_grant(hub=stripe_hub, user=user, role=Role.CUSTOMER)
    credit_settings_update(hub=stripe_hub, actor=None, topup_presets_minor=[1000, 2000, 5000])
    return customer_create(hub=stripe_hub, email="marie@example.org", first_name="Marie", last_name="Dubois")


def _log_in(browser, base_url, viewport):
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill("marie@example.org")
    page.get_by_label("Password").fill("pw-long-enough")
    page.get_by_role("button", name="Log in").click()
    return context, page


def _type_card(page, number):
    page.get_by_placeholder("number").fill(number)
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("31")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("75011")


@pytest.mark.parametrize(("device", "viewport"), [("laptop", (1280, 860)), ("phone", (390, 844))])
def test_a_customer_tops_up_by_card_passes_the_bank_check_and_sees_the_new_balance(
    live_server, browser, stripe_hub, marie, device, viewport
):
    context, page = _log_in(browser, live_server.url, {"width": viewport[0], "height": viewport[1]})
    page.goto(f"{live_server.url}/me/{stripe_hub.slug}/")
    page.get_by_role("link", name="Top up").click()
    page.get_by_label("€20.00").check()
    page.get_by_label("Keep this card for my next top-ups").check()
    screenshot(page, f"topup-choose-{device}")
    page.get_by_role("button", name="Continue to payment").click()

    assert page.get_by_text("You pay €20.00 and get €20.00 of credit.").is_visible()
    _type_card(page, "4000002760003184")  # a card whose bank asks the customer to confirm
    screenshot(page, f"topup-card-{device}")
    page.get_by_role("button", name="Pay €20.00").click()
    page.get_by_role("button", name="Complete authentication").click()  # the bank, when the card is saved
    page.wait_for_url("**/done/")
    assert page.get_by_role("heading", name="Your bank wants you to confirm this payment").is_visible()
    page.get_by_role("button", name="Confirm with my bank").click()
    page.get_by_role("button", name="Complete authentication").click()  # the bank, for the payment
    page.get_by_role("heading", name="Thank you: your top-up is paid").wait_for()
    assert page.get_by_text("Your balance is now €20.00.").is_visible()
    screenshot(page, f"topup-paid-{device}")

    card = SavedCard.objects.across_hubs().get(account_id=marie.account_id)
    assert (card.brand, card.last4) == ("visa", "3184")
    page.get_by_role("link", name="Back to my account").click()
    assert page.get_by_role("row").filter(has_text="Card top-up").is_visible()  # in the reader's language
    context.close()


def test_a_declined_card_is_said_so_and_nothing_is_added(live_server, browser, stripe_hub, marie):
    context, page = _log_in(browser, live_server.url, {"width": 1280, "height": 860})
    page.goto(f"{live_server.url}/me/{stripe_hub.slug}/top-up/")
    page.get_by_label("Another amount (EUR)").fill("12.50")
    page.get_by_label("Another amount", exact=True).check()
    page.get_by_role("button", name="Continue to payment").click()
    _type_card(page, "4000000000000341")  # accepted when saved, declined when charged
    page.get_by_role("button", name="Pay €12.50").click()
    page.get_by_role("heading", name="The payment did not go through").wait_for()
    assert page.get_by_text("Nothing was added to your account and nothing was taken.").is_visible()
    screenshot(page, "topup-declined-laptop")
    payment = Payment.objects.across_hubs().get()
    assert (payment.status, payment.price_minor, payment.transaction_id) == ("failed", 1250, None)
    context.close()


def test_the_customer_sets_an_auto_top_up_and_crew_see_payments_transfers_and_keys(
    live_server, browser, stripe_hub, marie, localstripe_url
):
    from hubtab.payments.models import AutoTopUp
    from hubtab.payments.services import topup_card_form, topup_charge, topup_start
    from hubtab.testing import stripe_card_entered

    credit_settings_update(hub=stripe_hub, actor=None, bank_transfer_details="Green Valley\nIBAN FR76 3000 6000 01")
    payment = topup_start(hub=stripe_hub, customer=marie, actor=None, price_minor=2000, save_card=True)
    stripe_card_entered(localstripe_url, topup_card_form(hub=stripe_hub, payment=payment))
    topup_charge(hub=stripe_hub, payment_id=payment.id)
    topup_start(hub=stripe_hub, customer=marie, actor=None, price_minor=3000, method="bank_transfer")

    context, page = _log_in(browser, live_server.url, {"width": 390, "height": 844})
    page.goto(f"{live_server.url}/me/{stripe_hub.slug}/auto-top-up/")
    page.get_by_label("When my balance falls below an amount").check()
    page.get_by_label("When my balance is below").fill("10")
    page.get_by_label("Top up to").fill("40")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.get_by_text("Automatic top-up saved.").is_visible()
    screenshot(page, "auto-top-up-phone")
    assert AutoTopUp.objects.across_hubs().get().target_minor == 4000
    context.close()

    owner = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=stripe_hub, user=owner, role=Role.OWNER)
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_label("Password").fill("pw-long-enough")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/hubs/{stripe_hub.slug}/customers/{marie.id}/")
    page.get_by_role("link", name="Card payments").click()
    assert page.get_by_text("Visa ···· 4242").is_visible()
    screenshot(page, "customer-payments-laptop")
    page.get_by_role("link", name="Save a new card (customer on the phone)").click()
    page.get_by_placeholder("number").wait_for()  # Stripe.js mounts the card form
    screenshot(page, "card-setup-crew-laptop")
    page.goto(f"{live_server.url}/hubs/{stripe_hub.slug}/")
    page.get_by_role("link", name="1 bank transfer to confirm").click()
    screenshot(page, "transfers-laptop")
    page.get_by_role("button", name="Money arrived").click()
    assert page.get_by_text("No transfer is waiting.").is_visible()
    page.goto(f"{live_server.url}/hubs/{stripe_hub.slug}/settings/payments/")
    assert page.get_by_text("Saved secret key: sk_test_…btab").is_visible()
    screenshot(page, "gateway-settings-laptop")
    context.close()
