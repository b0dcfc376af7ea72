"""In a real Chromium: a hub owner logs in and reads the accounts page, on a laptop and a phone."""

import pytest

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.testing import browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(books):
    owner = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=books.hub, user=owner, role=Role.OWNER)
    for name, top_up, spend in [("Marie Dubois", 5000, 1250), ("Hugo Martin", 2000, 2657), ("Léa Petit", 3000, 0)]:
        account = books.customer(name, floor_minor=-5000)
        books.top_up(account, top_up)
        if spend:
            books.spend(account, spend)
    return books


@pytest.mark.parametrize(("device", "viewport"), [("laptop", (1280, 800)), ("phone", (390, 844))])
def test_an_owner_logs_in_and_sees_the_accounts_with_their_balances(live_server, browser, seeded, device, viewport):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    screenshot(page, f"login-{device}")
    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_label("Password").fill("pw-long-enough")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/hubs/{seeded.hub.slug}/")
    screenshot(page, f"dashboard-{device}")
    page.get_by_role("link", name="Accounts", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Hugo Martin")
    assert "-€6.57" in row.inner_text()  # 20.00 - 26.57, in the reader's English
    assert page.get_by_role("row").filter(has_text="Marie Dubois").inner_text().count("37.50") == 1
    screenshot(page, f"accounts-{device}")
    page.close()


def test_a_wrong_password_says_so_and_stays_on_the_login_page(live_server, browser, seeded):
    page = browser.new_page()
    browser_login(page, live_server.url, "owner@example.org", "wrong")
    assert page.get_by_text("not correct").is_visible()
    assert "/accounts/login/" in page.url
    page.close()


def test_crew_search_customers_and_open_one(live_server, browser, seeded):
    from hubtab.crm.services import customer_create

    hugo = customer_create(
        hub=seeded.hub, email="hugo@example.org", first_name="Hugo", last_name="Martin", tags=["box"]
    )
    seeded.top_up(hugo.account, 1500)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    browser_login(page, live_server.url, "owner@example.org")
    page.get_by_role("link", name="Customers").click()
    page.get_by_label("Search people").fill("martin")
    page.get_by_label("Search people").press("Enter")
    screenshot(page, "customers-laptop")
    page.get_by_role("link", name="Hugo Martin").click()
    assert page.get_by_text("€15.00").first.is_visible()
    screenshot(page, "customer-laptop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "customer-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="Add person").click()
    page.get_by_label("Email").fill("nina@example.org")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Roux")
    page.get_by_label("Tags").fill("weekly, new")
    screenshot(page, "customer-new-laptop")
    page.get_by_role("button", name="Add person").click()
    assert page.get_by_role("heading", name="Nina Roux").is_visible()
    assert page.get_by_text("weekly", exact=True).is_visible()  # the tag (the timeline says "Tag added: weekly")
    page.close()


def test_a_customer_logs_in_to_their_own_balance_and_history(live_server, browser, seeded):
    from hubtab.crm.services import customer_create

    user_create(email="marie@example.org", password="pw-long-enough", email_verified=True)
    # Crew create the record under the address Marie proved: it is hers at once.
    record = customer_create(hub=seeded.hub, email="marie@example.org", first_name="Marie", last_name="Dubois")
    seeded.top_up(record.account, 4000)
    seeded.spend(record.account, 1575)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    browser_login(page, live_server.url, "marie@example.org")
    page.wait_for_url("**/me/")
    assert page.locator(".balance-pill").inner_text() == "€24.25"  # the balance in the header
    assert page.get_by_text("€24.25").first.is_visible()
    from django.utils import timezone

    from hubtab.ledger.models import Entry

    posted_at = Entry.objects.across_hubs().filter(account=record.account).order_by("id").first().posted_at
    local = timezone.localtime(posted_at, timezone=seeded.hub_timezone()).strftime("%H:%M")
    assert local in page.get_by_role("row").filter(has_text="Top-up").inner_text()  # the hub's local time
    screenshot(page, "portal-phone")
    page.close()
