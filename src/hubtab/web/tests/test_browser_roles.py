"""In a real Chromium: each role sees its own navigation, and no hub sees another's data."""

import pytest

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.testing import browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

NAV = {
    "owner": [
        "Overview",
        "Customers",
        "Orders",
        "Organisations",
        "Accounts",
        "Billing",
        "Credit settings",
        "Team",
        "API",
        "Activity log",
    ],
    "finance": ["Overview", "Customers", "Orders", "Organisations", "Accounts", "Billing", "Credit settings"],
    "support": ["Overview", "Customers", "Orders", "Organisations", "Accounts"],
}


@pytest.fixture
def crew(books):
    people = {}
    for role in (Role.OWNER, Role.FINANCE, Role.SUPPORT):
        people[role.value] = user_create(
            email=f"{role.value}@example.org",
            password="pw-long-enough",
            email_verified=True,
            first_name=role.value.capitalize(),
        )
        membership_grant(hub=books.hub, user=people[role.value], role=role)
    for n, (first, last, top_up, spend) in enumerate(
        [("Marie", "Dubois", 5000, 1250), ("Hugo", "Martin", 2000, 2657), ("Léa", "Petit", 300, 0)]
    ):
        record = customer_create(hub=books.hub, email=f"c{n}@example.org", first_name=first, last_name=last)
        from hubtab.ledger.services import account_floor_set

        account_floor_set(hub_id=books.hub.id, account_id=record.account_id, floor_minor=-5000)
        books.top_up(record.account, top_up)
        if spend:
            books.spend(record.account, spend)
    return people


@pytest.mark.parametrize("role", ["owner", "finance", "support"])
def test_each_crew_role_sees_the_navigation_of_its_role(live_server, browser, books, crew, role):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    browser_login(page, live_server.url, f"{role}@example.org")
    page.wait_for_url(f"**/hubs/{books.hub.slug}/")
    links = page.get_by_role("navigation", name=books.hub.name).get_by_role("link").all_inner_texts()
    assert links == NAV[role]
    if role == "owner":
        screenshot(page, "dashboard-owner-laptop")
        page.get_by_role("link", name="Team").click()
        page.get_by_label("Email").fill("sam@example.org")
        page.get_by_label("Role", exact=True).select_option("support")
        page.get_by_role("button", name="Send invitation").click()
        assert page.get_by_text("Invitation sent to sam@example.org.").is_visible()
        assert page.get_by_role("row").filter(has_text="sam@example.org").is_visible()
        screenshot(page, "team-laptop")
        page.get_by_role("link", name="Activity log").click()
        assert page.get_by_text("Invited sam@example.org as support").is_visible()
        screenshot(page, "activity-laptop")
    page.close()


def test_a_customer_sees_only_their_portal_and_no_crew_page(live_server, browser, books, crew):
    user_create(email="marie@example.org", password="pw-long-enough", email_verified=True)
    customer_create(hub=books.hub, email="marie@example.org", first_name="Marie", last_name="Roux")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    browser_login(page, live_server.url, "marie@example.org")
    page.wait_for_url("**/me/")
    assert page.get_by_role("navigation", name=books.hub.name).count() == 0
    response = page.goto(f"{live_server.url}/hubs/{books.hub.slug}/customers/")
    assert response.status == 403
    page.close()


def test_an_owner_of_another_hub_finds_nothing_there(live_server, browser, books, crew, other_hub):
    marie = customer_create(hub=books.hub, email="marie@example.org", first_name="Marie", last_name="Roux")
    stranger = user_create(email="stranger@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=other_hub, user=stranger, role=Role.OWNER)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    browser_login(page, live_server.url, "stranger@example.org")
    page.wait_for_url(f"**/hubs/{other_hub.slug}/")
    assert books.hub.name not in page.content()
    for path in (
        f"/hubs/{books.hub.slug}/",
        f"/hubs/{books.hub.slug}/customers/{marie.id}/",
        f"/hubs/{other_hub.slug}/customers/{marie.id}/",  # my hub's URL, their customer
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
        assert "Marie" not in page.content()
    page.close()


def test_the_french_login_and_dashboard_on_a_phone(live_server, browser, books, crew):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_by_role("heading", name="Se connecter à Hubtab").is_visible()
    page.get_by_label("E-mail").fill("owner@example.org")
    page.get_by_label("Mot de passe").fill("pw-long-enough")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"**/hubs/{books.hub.slug}/")
    assert page.get_by_text("Crédit client détenu").is_visible()
    screenshot(page, "dashboard-fr-phone")
    context.close()


def test_a_customer_signs_up_confirms_by_email_and_sees_the_balance_the_hub_keeps(live_server, browser, books):
    import re

    from django.core import mail

    record = customer_create(hub=books.hub, email="nina@example.org", first_name="Nina", last_name="Roux")
    books.top_up(record.account, 2500)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Create a login").click()
    page.get_by_label("Email").fill("nina@example.org")
    page.get_by_label("Password", exact=True).fill("green-beans-2026")
    page.get_by_label("Password again").fill("green-beans-2026")
    screenshot(page, "signup-phone")
    page.get_by_role("button", name="Create my login").click()
    assert page.get_by_role("heading", name="Verify Your Email Address").is_visible()
    link = re.search(r"http://\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/me/")
    assert page.get_by_text("€25.00").first.is_visible()
    screenshot(page, "portal-after-signup-phone")
    page.close()


def test_finance_sets_the_rules_credits_a_customer_and_reverses_a_mistake(live_server, browser, books, crew):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, live_server.url, "finance@example.org")
    page.get_by_role("link", name="Credit settings").click()
    page.get_by_label("How customers may pay").select_option("credit_only")
    page.get_by_label("Spending limit").fill("-20")
    page.get_by_label("Preset top-up amounts").fill("10 20 50")
    page.get_by_role("button", name="Save settings").click()
    assert page.get_by_text("Credit settings saved.").is_visible()
    screenshot(page, "credit-settings-laptop")

    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="Léa Petit").click()
    page.get_by_role("link", name="Credit", exact=True).click()
    page.get_by_label("Grant credit (a gift; may expire)").check()
    page.get_by_label("Amount").fill("7.50")
    page.get_by_label("Why").fill("Sorry for the late box")
    screenshot(page, "customer-credit-laptop")
    page.get_by_role("button", name="Record it").click()
    # On the timeline, with who did it, and in the account history, with its Reverse link.
    assert page.locator("tr.activity-credit_added").filter(has_text="Sorry for the late box").is_visible()
    history = page.locator("table.history:not(.timeline-table)")
    assert history.get_by_role("row").filter(has_text="Sorry for the late box").is_visible()
    assert "€10.50" in page.locator(".card.figure").first.inner_text()  # 3.00 + 7.50

    history.get_by_role("row").filter(has_text="Sorry for the late box").get_by_role("link", name="Reverse").click()
    page.get_by_label("Why is it reversed?").fill("Meant for Hugo")
    page.get_by_role("button", name="Reverse it").click()
    assert "€3.00" in page.locator(".card.figure").first.inner_text()
    assert page.get_by_text("Reversed a transaction: Meant for Hugo").is_visible()
    assert page.locator("tr.activity-entry_reversed").filter(has_text="Entry reversed: Meant for Hugo").is_visible()
    screenshot(page, "customer-after-reversal-laptop")
    page.close()


def test_a_customer_reads_their_history_and_downloads_a_statement(live_server, browser, books, crew):
    from datetime import timedelta

    from django.utils import timezone

    user_create(email="nina@example.org", password="pw-long-enough", email_verified=True)
    nina = customer_create(hub=books.hub, email="nina@example.org", first_name="Nina", last_name="Roux")
    books.top_up(nina.account, 3000)
    books.spend(nina.account, 1250)
    books.grant(nina.account, 400, expires_at=timezone.now() + timedelta(days=5))
    page = browser.new_page(viewport={"width": 390, "height": 844})
    browser_login(page, live_server.url, "nina@example.org")
    page.get_by_role("link", name=books.hub.name).click()
    assert page.get_by_text("€4.00 of credit you were given expires on").is_visible()
    page.get_by_label("Show").select_option("orders")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.history tbody tr")
    assert rows.count() == 1 and "-€12.50" in rows.first.inner_text()
    screenshot(page, "portal-hub-phone")
    with page.expect_download() as download:
        page.get_by_role("link", name="Statement (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.close()


def test_crew_open_the_running_low_list_and_export_it(live_server, browser, books, crew):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    browser_login(page, live_server.url, "support@example.org")
    page.get_by_role("link", name="Running low").click()
    names = page.locator("table.people tbody tr td:nth-child(2) a").all_inner_texts()  # after the tick box
    assert names == ["Hugo Martin", "Léa Petit"]  # -6.57 first, then 3.00
    screenshot(page, "running-low-laptop")
    page.get_by_text("Export CSV").click()  # the export's options open; nothing ticked exports the whole list
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert content.splitlines()[1].startswith("Hugo;Martin;")  # a French hub: French Excel's separator
    assert ";-6,57;" in content.splitlines()[1]  # and its decimal comma, the number still a number
    page.close()


def test_an_owner_runs_an_organisation_and_makes_an_api_token(live_server, browser, books, crew):
    from hubtab.accounts.services import organisation_create, organisation_member_set
    from hubtab.crm.models import Customer

    school = organisation_create(hub=books.hub, actor=crew["owner"], name="École Jules Ferry")
    marie = Customer.objects.across_hubs().get(email="c0@example.org")
    organisation_member_set(hub=books.hub, actor=crew["owner"], organisation=school,
                            member_account_id=marie.account_id, monthly_limit_minor=3000)  # fmt: skip
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    browser_login(page, live_server.url, "owner@example.org")
    page.get_by_role("link", name="Organisations").click()
    page.get_by_role("link", name="École Jules Ferry").click()
    assert page.get_by_role("row").filter(has_text="Marie Dubois").is_visible()
    assert "€30.00" in page.get_by_role("row").filter(has_text="Marie Dubois").inner_text()
    screenshot(page, "organisation-laptop")
    page.get_by_role("link", name="API", exact=True).click()
    page.get_by_label("Name").fill("Our shop")
    page.get_by_role("button", name="Create the token").click()
    assert page.get_by_text("Copy this token now").is_visible()
    assert page.locator("code.secret").inner_text().startswith("htb_")
    screenshot(page, "api-tokens-laptop")
    page.close()


def test_someone_invited_sees_the_invitation_before_logging_in(live_server, browser, books, crew):
    from hubtab.core.services import invitation_create

    _, token = invitation_create(hub=books.hub, email="sam@example.org", role="finance", invited_by=crew["owner"])
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/invitations/{token}/")
    assert page.get_by_role("heading", name=f"Join {books.hub.name}").is_visible()
    assert page.get_by_role("link", name="Create a login").is_visible()
    screenshot(page, "invitation-phone")
    page.close()
