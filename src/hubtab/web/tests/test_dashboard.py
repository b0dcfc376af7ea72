"""The hub's overview: the credit it holds, who owes, who runs low, money in and out per week."""

from datetime import timedelta

import pytest
from babel.dates import format_date
from django.urls import reverse
from django.utils import timezone

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(client, hub):
    user = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.FINANCE)
    client.force_login(user)
    return client


def _customer(books, email, name, floor_minor=-5000):
    first, last = name.split()
    record = customer_create(hub=books.hub, email=email, first_name=first, last_name=last)
    if floor_minor:
        from hubtab.ledger.services import account_floor_set

        account_floor_set(hub_id=books.hub.id, account_id=record.account_id, floor_minor=floor_minor)
    return record


def test_the_overview_adds_up_what_the_hub_holds_and_what_it_is_owed(finance_client, books):
    marie = _customer(books, "marie@example.org", "Marie Dubois")
    hugo = _customer(books, "hugo@example.org", "Hugo Martin")
    lea = _customer(books, "lea@example.org", "Léa Petit")
    books.top_up(marie.account, 5000)
    books.spend(marie.account, 1250)  # 37.50 left
    books.top_up(hugo.account, 2000)
    books.spend(hugo.account, 2657)  # -6.57
    books.top_up(lea.account, 300)  # 3.00: below the 5.00 threshold
    page = finance_client.get(reverse("dashboard", args=[books.hub.slug])).content.decode()
    assert "€40.50" in page  # credit held: 37.50 + 3.00 (the debt is not netted against it)
    assert "€6.57" in page  # owed by customers
    low = page.split("Running low", 1)[1][:200]
    assert "<strong>2</strong>" in low  # Hugo in debt, Léa below 5.00
    # This week's bars: 73.00 topped up, 39.07 spent.
    assert "€73.00" in page and "€39.07" in page
    # Newest first, each line linked to the customer's page.
    newest = page.split("Newest activity", 1)[1]
    assert newest.index("Léa Petit") < newest.index("Hugo Martin") < newest.index("Marie Dubois")
    assert reverse("customer_detail", args=[books.hub.slug, lea.id]) in newest


def test_the_chart_shows_eight_weeks_starting_on_mondays_in_the_hubs_time(finance_client, books):
    marie = _customer(books, "marie@example.org", "Marie Dubois")
    books.top_up(marie.account, 1000)
    response = finance_client.get(reverse("dashboard", args=[books.hub.slug]))
    bars = response.context["chart"]["bars"]
    assert len(bars) == 8
    today = timezone.localdate(timezone=books.hub_timezone())
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=7)
    assert bars[0]["label"] == format_date(first_monday, "d MMM", locale="en")  # the reader's language
    assert bars[-1]["label"] == format_date(this_monday, "d MMM", locale="en")
    assert [b["top_ups"] for b in bars][:7] == ["€0.00"] * 7
    assert bars[-1]["top_ups"] == "€10.00" and bars[-1]["h_in"] == 160  # the tallest bar fills the chart


def test_running_low_links_to_the_filtered_customer_list(finance_client, books):
    marie = _customer(books, "marie@example.org", "Marie Dubois")
    hugo = _customer(books, "hugo@example.org", "Hugo Martin")
    books.top_up(marie.account, 5000)
    books.top_up(hugo.account, 100)
    page = finance_client.get(reverse("dashboard", args=[books.hub.slug])).content.decode()
    assert f'href="{reverse("customer_index", args=[books.hub.slug])}?low=1"' in page
    listing = finance_client.get(reverse("customer_index", args=[books.hub.slug]), {"low": "1"}).content.decode()
    assert "Hugo Martin" in listing and "Marie Dubois" not in listing


def test_an_empty_hub_says_so_instead_of_drawing_an_empty_chart(finance_client, hub):
    page = finance_client.get(reverse("dashboard", args=[hub.slug])).content.decode()
    assert "No top-ups or spending in the last 8 weeks." in page
    assert "No account activity yet." in page


def test_one_event_is_one_line_even_when_the_ledger_splits_it(finance_client, books):
    """A top-up that first repays a debt, and an order paid from granted then paid credit, are
    two entries each in the ledger but one line each for the crew and the customer."""
    marie = _customer(books, "marie@example.org", "Marie Dubois")
    books.spend(marie.account, 1000)  # -10.00
    books.top_up(marie.account, 3000)  # repays 10.00, then 20.00 of paid credit
    books.grant(marie.account, 500)
    books.spend(marie.account, 800)  # 5.00 granted, then 3.00 paid
    page = finance_client.get(reverse("dashboard", args=[books.hub.slug])).content.decode()
    newest = page.split("Newest activity", 1)[1]
    assert newest.count("Marie Dubois") == 4
    assert "€30.00" in newest and "-€8.00" in newest and "€20.00" not in newest
    detail = finance_client.get(reverse("customer_detail", args=[books.hub.slug, marie.id])).content.decode()
    history = detail.split("Account history", 1)[1]
    assert history.count("<tr>") - 1 == 4  # header row excluded
    assert "€30.00" in history and "-€8.00" in history and "€17.00" in history
