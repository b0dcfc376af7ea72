"""Crew write down, on a person's page in a real Chromium (laptop and phone), that the person agreed
on the phone to marketing emails; the page then shows it, and the timeline says how and by whom."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.models import ConsentSource, Customer
from hubtab.crm.services import customer_create
from hubtab.testing import browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_support_record_on_the_persons_page_that_they_agreed_on_the_phone(live_server, browser, hub, device):
    support = user_create(email="support@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=support, role=Role.SUPPORT)
    marie = customer_create(hub=hub, email="marie@example.org", first_name="Marie", last_name="Dubois")
    context = browser.new_context(viewport=SIZES[device], locale="en-GB", has_touch=device == "phone")
    page = context.new_page()
    browser_login(page, live_server.url, "support@example.org")
    page.wait_for_url("**/hubs/**")
    page.goto(f"{live_server.url}/hubs/{hub.slug}/customers/{marie.id}/")
    page.get_by_text("Record consent to marketing emails, given or withdrawn").click()
    page.get_by_label("Agreed to marketing emails").check()
    page.get_by_label("How (optional)").fill("On the phone")
    screenshot(page, f"crm-consent-form-{device}")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Recorded: Marie Dubois agreed to marketing emails.")).to_be_visible()
    expect(page.get_by_text("Agreed to marketing messages (Recorded by crew): On the phone")).to_be_visible()
    saved = Customer.objects.across_hubs().get(id=marie.id)
    assert (saved.marketing_consent, saved.consent_source) == (True, ConsentSource.CREW)
    screenshot(page, f"crm-consent-recorded-{device}")
    context.close()
