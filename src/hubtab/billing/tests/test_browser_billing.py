"""Billing as finance crew use it, in a real Chromium against the Stripe proxy: bill a selection
after a preview, cancel one payment and move another, let the morning run happen, see what paid
and what failed, and settle an overdue account by hand; every page on a laptop and on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from hubtab.billing.dates import charge_moment
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.run import billing_run
from hubtab.billing.scheduling import earliest_charge_day
from hubtab.billing.tests.conftest import DECLINING_CARD
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.testing import browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"


def _crew_page(browser, live_server, device):
    context = browser.new_context(viewport=SIZES[device], locale="en-GB", has_touch=device == "phone")
    page = context.new_page()
    browser_login(page, live_server.url, "finance@example.org")
    page.wait_for_url("**/hubs/**")
    return page


def _shot(page, name: str, device: str) -> None:
    """A screenshot of the page as it is; nothing may stick out sideways."""
    screenshot(page, f"billing-{name}-{device}")
    assert page.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways on a {device}"


def _payment(billing, person) -> ScheduledPayment:
    return ScheduledPayment.objects.get(hub=billing.hub, customer=person)


def _message(page, text: str) -> None:
    expect(page.locator(".messages")).to_contain_text(text)


def test_finance_bill_a_selection_move_and_cancel_payments_and_see_what_the_morning_run_did(
    live_server, browser, billing
):
    finance = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=billing.hub, user=finance, role=Role.FINANCE)
    marie = billing.customer("Marie", owes_minor=1550)
    paul = billing.customer("Paul", card=None, owes_minor=1200)
    billing.card(paul, DECLINING_CARD, decline_code="insufficient_funds")
    lea = billing.customer("Lea", card=None, owes_minor=800)
    hugo = billing.customer("Hugo", card=None, owes_minor=2000)
    billing.card(hugo, DECLINING_CARD, decline_code="lost_card")
    billing.customer("Zoe", owes_minor=500)  # not billed this time
    first_day = earliest_charge_day(hub=billing.hub)

    page = _crew_page(browser, live_server, "laptop")
    page.get_by_role("link", name="Billing", exact=True).click()
    expect(page.get_by_role("heading", name="Customers in debt")).to_be_visible()
    _shot(page, "customers", "laptop")
    for name in ("Marie", "Paul", "Lea", "Hugo"):
        page.get_by_role("checkbox", name=f"Select {name} Test").check()
    expect(page.get_by_text("4 ticked.")).to_be_visible()
    page.get_by_role("button", name="Preview billing the ticked").click()
    expect(page.get_by_text("4 customers will be charged €55.50 in all.")).to_be_visible()
    expect(page.get_by_text("1 has no valid saved card")).to_be_visible()  # Léa: asked to save one
    _shot(page, "preview", "laptop")
    page.get_by_role("button", name="Bill customers").click()
    _message(page, "4 payments scheduled")
    assert ScheduledPayment.objects.filter(hub=billing.hub, status=ScheduledPaymentStatus.SCHEDULED).count() == 4

    # Léa paid at the market: her payment is cancelled; Paul asked for a few more days.
    page.get_by_role("link", name="Scheduled payments", exact=True).click()
    page.get_by_role("checkbox", name="Select Lea Test").check()
    page.get_by_placeholder("Why cancel?").fill("Paid at the market")
    page.get_by_role("button", name="Cancel them").click()
    _message(page, "1 payment cancelled.")
    page.get_by_role("link", name="Paul Test").click()
    page.get_by_label("New day").fill((first_day + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Move", exact=True).click()
    _message(page, "the customer is told")
    assert _payment(billing, paul).run_on == first_day + timedelta(days=1)
    assert _payment(billing, lea).status == ScheduledPaymentStatus.CANCELLED

    # The morning runs: Marie pays, Hugo's card was reported lost; next morning Paul's is declined.
    billing_run(now=charge_moment(hub=billing.hub, day=first_day) + timedelta(minutes=1))
    billing_run(now=charge_moment(hub=billing.hub, day=first_day + timedelta(days=1)) + timedelta(minutes=1))
    assert [_payment(billing, p).status for p in (marie, paul, hugo)] == ["succeeded", "retrying", "failed"]

    page.get_by_role("link", name="Scheduled payments", exact=True).click()
    page.get_by_label("Status").select_option("all")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.billing-table tbody tr")
    expect(rows.filter(has_text="Marie Test")).to_contain_text("Paid")
    expect(rows.filter(has_text="Hugo Test")).to_contain_text("Failed")
    expect(rows.filter(has_text="Paul Test")).to_contain_text("Failed, will retry on")
    expect(rows.filter(has_text="Lea Test")).to_contain_text("Cancelled")
    _shot(page, "scheduled", "laptop")
    rows.filter(has_text="Paul Test").get_by_role("link", name="Paul Test").click()
    attempt = page.get_by_role("row").filter(has_text="Declined; will be tried again")
    expect(attempt).to_contain_text("There was not enough money on the card.")
    expect(page.get_by_text("Payment announced").first).to_be_visible()
    _shot(page, "detail", "laptop")

    page.get_by_role("link", name="Overdue", exact=True).click()
    overdue = page.locator("table.overdue-table tbody tr")
    expect(overdue).to_have_count(1)
    expect(overdue.first).to_contain_text("Hugo Test")
    expect(overdue.first).to_contain_text("The card was reported lost.")
    _shot(page, "overdue", "laptop")
    overdue.first.get_by_role("button", name="Retry now").click()
    _message(page, "The bank refused this card for good")

    _every_page_on_a_phone(browser, live_server, billing, paul, hugo)

    page.get_by_role("link", name="Record a payment or new date").click()
    _shot(page, "overdue-account", "laptop")
    expect(page.get_by_label("Amount paid")).to_have_value("20.00")  # what Hugo owes
    page.get_by_label("Paid by").select_option("cash")
    page.get_by_role("button", name="Record the payment").click()
    _message(page, "€20.00 recorded for Hugo Test.")
    expect(page.get_by_text("No account is overdue.")).to_be_visible()
    assert billing.balance(hugo) == 0

    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_text("Only the hub's owner changes these settings.")).to_be_visible()
    _shot(page, "settings", "laptop")
    page.context.close()


def _every_page_on_a_phone(browser, live_server, billing, paul, hugo) -> None:
    page = _crew_page(browser, live_server, "phone")
    base = f"{live_server.url}/hubs/{billing.hub.slug}/billing"
    page.goto(f"{base}/")
    _shot(page, "customers", "phone")
    page.get_by_role("checkbox", name="Select Zoe Test").tap()
    page.get_by_role("button", name="Preview billing the ticked").tap()
    expect(page.get_by_text("1 customer will be charged €5.00 in all.")).to_be_visible()
    _shot(page, "preview", "phone")
    page.goto(f"{base}/scheduled/?status=all")
    _shot(page, "scheduled", "phone")
    page.goto(f"{base}/scheduled/{_payment(billing, paul).id}/")
    _shot(page, "detail", "phone")
    page.goto(f"{base}/overdue/")
    _shot(page, "overdue", "phone")
    page.goto(f"{base}/overdue/{hugo.id}/")
    _shot(page, "overdue-account", "phone")
    page.goto(f"{base}/settings/")
    _shot(page, "settings", "phone")
    page.goto(f"{live_server.url}/hubs/{billing.hub.slug}/")
    expect(page.get_by_role("link", name="Overdue 1")).to_be_visible()
    _shot(page, "dashboard", "phone")
    page.context.close()
