"""Who runs low: people who use credit (their account has moved: a top-up, a grant, an order paid)
and are below the hub's line or in debt; never a lead who has not topped up yet. The overview's
figure and the list it links to count the same people."""

import pytest
from django.urls import reverse

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.filters import Condition, PeopleFilter
from hubtab.crm.people import people_matching
from hubtab.crm.selectors import running_low_count
from hubtab.crm.services import customer_create
from hubtab.ledger.services import account_floor_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(books):
    """The hub's line is 5.00. Lea: a lead, never topped up (0.00); Hugo: 3.00 left; Marie: 50.00;
    Noah: topped up 10.00 and spent it all (0.00); Zoe: granted 2.00; Emma: 4.00 in debt."""
    hub = books.hub
    made = {}
    for first in ("Lea", "Hugo", "Marie", "Noah", "Zoe", "Emma"):
        made[first] = customer_create(hub=hub, email=f"{first.lower()}@example.org", first_name=first, last_name="X")
        account_floor_set(hub_id=hub.id, account_id=made[first].account_id, floor_minor=-5000)
    books.top_up(made["Hugo"].account, 300)
    books.top_up(made["Marie"].account, 5000)
    books.top_up(made["Noah"].account, 1000)
    books.spend(made["Noah"].account, 1000)
    books.grant(made["Zoe"].account, 200)
    books.spend(made["Emma"].account, 400)
    return made


def test_a_lead_who_never_topped_up_is_not_running_low_but_a_customer_below_the_line_is(books, people):
    low = people_matching(hub=books.hub, people=PeopleFilter((Condition("running_low"),)))
    assert set(low.values_list("first_name", flat=True)) == {"Hugo", "Noah", "Zoe", "Emma"}
    assert running_low_count(hub=books.hub) == 4


def test_the_overview_counts_the_same_people_as_the_running_low_list_it_links_to(client, books, people):
    finance = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=books.hub, user=finance, role=Role.FINANCE)
    client.force_login(finance)
    overview = client.get(reverse("dashboard", args=[books.hub.slug]))
    assert overview.context["running_low"] == 4
    assert "<strong>4</strong>" in overview.content.decode().split("Running low", 1)[1][:200]
    listing = client.get(reverse("customer_index", args=[books.hub.slug]), {"low": "1"})
    assert listing.context["page"].paginator.count == 4
    shown = listing.content.decode()
    assert "Hugo X" in shown and "Emma X" in shown and "Lea X" not in shown and "Marie X" not in shown
