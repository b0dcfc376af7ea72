"""The customer's side of billing: their account page lists their upcoming payments (day, amount,
card), and paying before the day, by card or by bank transfer, makes the payment not needed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from hubtab.accounts.services import credit_settings_update
from hubtab.accounts.units import credit_unit_choose, unit_price_set
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.run import billing_run
from hubtab.billing.scheduling import debt_bill
from hubtab.billing.tests.conftest import paris
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.payments.models import Payment
from hubtab.payments.services import topup_card_form, transfer_confirm
from hubtab.testing import stripe_card_entered

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY_AFTERNOON = paris(2026, 12, 7, 14, 0)
TRANSFER_DETAILS = "Green Valley Food Hub\nIBAN FR76 3000 6000 0112 3456 7890 189"


def _person(billing, name, **kwargs):
    """A customer who can log in to their account page."""
    user_create(email=f"{name.lower()}@example.org", password="pw-long-enough", email_verified=True)
    return billing.customer(name, **kwargs)


def _bill(billing, *people):
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[p.id for p in people], now=MONDAY_AFTERNOON)


def _account_page(client, billing, person) -> str:
    client.force_login(person.user)
    response = client.get(reverse("portal_hub", args=[billing.hub.slug]))
    assert response.status_code == 200
    return response.content.decode()


def _section(page: str) -> str:
    found = re.search(r'<section class="upcoming-payments".*?</section>', page, re.S)
    return found.group(0) if found else ""


def test_a_customer_sees_their_upcoming_payment_with_its_date_amount_and_card_and_another_customer_does_not(
    client, billing
):
    marie = _person(billing, "Marie", owes_minor=1550)
    paul = _person(billing, "Paul", owes_minor=2380)
    lucie = _person(billing, "Lucie")  # owes nothing: nothing scheduled
    _bill(billing, marie, paul)
    marie_payment = ScheduledPayment.objects.get(customer=marie)

    section = _section(_account_page(client, billing, marie))
    assert "Upcoming payments" in section
    assert "9 Dec 2026" in section and "€15.50" in section
    assert "Visa card ending in 4242" in section
    assert f'data-scheduled-payment="{marie_payment.id}"' in section
    assert "€23.80" not in section and section.count("data-scheduled-payment=") == 1  # not Paul's
    assert f"{reverse('my_card_setup', args=[billing.hub.slug])}?back=account" in section
    assert f"{reverse('topup', args=[billing.hub.slug])}?amount_minor=1550" in section  # pay now: what she owes

    assert "€15.50" not in _section(_account_page(client, billing, paul))
    assert _section(_account_page(client, billing, lucie)) == ""


def test_the_pay_now_link_opens_the_top_up_page_with_the_amount_owed(client, billing):
    marie = _person(billing, "Marie", owes_minor=1550)
    _bill(billing, marie)
    client.force_login(marie.user)
    page = client.get(reverse("topup", args=[billing.hub.slug]), {"amount_minor": "1550"}).content.decode()
    assert re.search(r'name="other" value="15.50"', page)
    assert re.search(r'value="other"[^>]*checked', page)


@pytest.mark.parametrize("asked", ["abc", "-5", "0", "15.50", "1e3", "\u0661\u0665\u0665\u0660", "9" * 14, ""])
def test_the_top_up_page_ignores_an_amount_that_is_not_a_whole_number_of_cents(client, billing, asked):
    marie = _person(billing, "Marie")
    client.force_login(marie.user)
    response = client.get(reverse("topup", args=[billing.hub.slug]), {"amount_minor": asked})
    assert response.status_code == 200
    assert not re.search(r'value="other"[^>]*checked', response.content.decode())


def test_a_customer_without_a_valid_card_is_asked_to_save_one(client, billing):
    marie = _person(billing, "Marie", card=None, owes_minor=900)
    _bill(billing, marie)
    section = _section(_account_page(client, billing, marie))
    assert "No valid card — save one" in section and "ending in" not in section
    assert f'href="{reverse("my_card_setup", args=[billing.hub.slug])}?back=account"' in section


def test_in_a_named_credit_hub_the_payment_shows_the_money_and_the_credits_it_pays_for(client, billing):
    credit_unit_choose(hub=billing.hub, actor=billing.owner, code="KAI", name="kai", decimals=0)
    unit_price_set(hub=billing.hub, actor=billing.owner, currency="EUR", credits_minor=10, price_minor=100)
    marie = _person(billing, "Marie", owes_minor=155)
    _bill(billing, marie)
    section = _section(_account_page(client, billing, marie))
    assert "€15.50" in section and "155 kai" in section
    assert "Pay 155 kai now" in section


def test_paying_now_by_card_makes_the_scheduled_payment_not_needed_and_the_run_charges_nothing(client, billing):
    marie = _person(billing, "Marie", card=None, owes_minor=300)  # less than the hub's smallest top-up (5.00)
    _bill(billing, marie)
    client.force_login(marie.user)
    topup_url = reverse("topup", args=[billing.hub.slug])
    response = client.post(f"{topup_url}?amount_minor=300", {"choice": "other", "other": "3.00", "method": "card"})
    assert response.status_code == 302, response.content.decode()
    payment = Payment.objects.get(customer=marie)
    stripe_card_entered(billing.proxy.url, topup_card_form(hub=billing.hub, payment=payment))
    client.post(reverse("topup_pay", args=[billing.hub.slug, payment.id]))

    assert billing.balance(marie) == 0
    scheduled = ScheduledPayment.objects.get(customer=marie)
    assert scheduled.status == ScheduledPaymentStatus.NOT_NEEDED
    assert billing_run(now=paris(2026, 12, 9, 5, 5)).get("succeeded", 0) == 0
    assert not Payment.objects.filter(customer=marie, off_session=True).exists()
    assert _section(_account_page(client, billing, marie)) == ""  # nothing to come any more


def test_a_bank_transfer_confirmed_by_finance_makes_the_scheduled_payment_not_needed(client, billing):
    credit_settings_update(hub=billing.hub, actor=billing.owner, bank_transfer_details=TRANSFER_DETAILS)
    marie = _person(billing, "Marie", owes_minor=1550)
    _bill(billing, marie)
    assert "Pay by bank transfer" in _section(_account_page(client, billing, marie))
    topup_url = reverse("topup", args=[billing.hub.slug])
    response = client.post(topup_url, {"choice": "other", "other": "15.50", "method": "bank_transfer"})
    assert response.status_code == 302
    transfer = Payment.objects.get(customer=marie, method="bank_transfer")
    assert ScheduledPayment.objects.get(customer=marie).status == ScheduledPaymentStatus.SCHEDULED  # not arrived yet

    finance = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=billing.hub, user=finance, role=Role.FINANCE)
    transfer_confirm(hub=billing.hub, actor=finance, payment_id=transfer.id)
    assert billing.balance(marie) == 0
    assert ScheduledPayment.objects.get(customer=marie).status == ScheduledPaymentStatus.NOT_NEEDED


@pytest.mark.parametrize(("device", "viewport"), [("laptop", (1280, 860)), ("phone", (390, 844))])
def test_in_a_browser_a_customer_sees_an_upcoming_payment_and_updates_their_card(
    live_server, browser, billing, device, viewport
):
    from hubtab.testing import browser_login, screenshot

    marie = _person(billing, "Marie", owes_minor=1550)
    _bill(billing, marie)
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="en-GB")
    page = context.new_page()
    browser_login(page, live_server.url, "marie@example.org")
    page.goto(f"{live_server.url}/me/{billing.hub.slug}/")
    row = page.get_by_role("row").filter(has_text="9 Dec 2026")
    assert row.get_by_text("€15.50").is_visible() and row.get_by_text("Visa card ending in 4242").is_visible()
    page.get_by_role("heading", name="Upcoming payments").scroll_into_view_if_needed()
    screenshot(page, f"billing-upcoming-{device}")

    page.get_by_role("link", name="Update my card").click()
    page.get_by_placeholder("number").fill("4000056655665556")
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("31")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("75011")
    page.get_by_role("button", name="Save the card").click()
    page.get_by_text("Card saved: Visa ending 5556.").wait_for()  # back on the account page
    assert page.get_by_role("row").filter(has_text="9 Dec 2026").get_by_text("Visa card ending in 5556").is_visible()
    screenshot(page, f"billing-upcoming-new-card-{device}")
    context.close()
