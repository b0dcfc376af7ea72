"""The running-low list: sorted by balance, and exported as CSV with the same filters."""

import csv
import io

import pytest
from django.urls import reverse

from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew_client(client, hub):
    user = user_create(email="support@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.SUPPORT)
    client.force_login(user)
    return client


@pytest.fixture
def people(books):
    from hubtab.ledger.services import account_floor_set

    made = {}
    for email, first, last, top_up, spend in [
        ("marie@example.org", "Marie", "Dubois", 5000, 0),
        ("hugo@example.org", "Hugo", "Martin", 2000, 2657),
        ("lea@example.org", "Léa", "Petit", 300, 0),
        ("eve@example.org", "=HYPERLINK(1)", "Evil", 100, 0),
    ]:
        made[first] = customer_create(hub=books.hub, email=email, first_name=first, last_name=last, tags=["box"])
        account_floor_set(hub_id=books.hub.id, account_id=made[first].account_id, floor_minor=-5000)
        books.top_up(made[first].account, top_up)
        if spend:
            books.spend(made[first].account, spend)
    return made


def _csv(response, delimiter=","):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def test_the_running_low_list_puts_the_lowest_balance_first(crew_client, books, people):
    page = crew_client.get(reverse("customer_index", args=[books.hub.slug]), {"low": "1"}).content.decode()
    assert page.index("Hugo Martin") < page.index("Evil") < page.index("Léa Petit")
    assert "Marie Dubois" not in page
    page = crew_client.get(
        reverse("customer_index", args=[books.hub.slug]), {"low": "1", "order": "-balance"}
    ).content.decode()
    assert page.index("Léa Petit") < page.index("Evil") < page.index("Hugo Martin")


def test_the_export_has_the_filters_and_order_of_the_page_and_is_audited(crew_client, books, people):
    response = crew_client.get(reverse("customer_export", args=[books.hub.slug]), {"low": "1", "csv_sep": "comma"})
    assert response["Content-Type"].startswith("text/csv")
    assert "running-low" in response["Content-Disposition"]
    rows = _csv(response)
    assert [(r["last_name"], r["balance"]) for r in rows] == [("Martin", "-6.57"), ("Evil", "1.00"), ("Petit", "3.00")]
    assert rows[0]["email"] == "hugo@example.org" and rows[0]["tags"] == "box" and rows[0]["unit"] == "EUR"
    assert rows[1]["first_name"] == "'=HYPERLINK(1)"  # never run as a formula by a spreadsheet
    event = AuditEvent.objects.across_hubs().get(action="customers.export")
    assert event.actor.email == "support@example.org" and event.data["rows"] == 3


def test_the_whole_list_exports_every_customer(crew_client, books, people):
    rows = _csv(crew_client.get(reverse("customer_export", args=[books.hub.slug]), {"csv_sep": "comma"}))
    assert sorted(r["last_name"] for r in rows) == ["Dubois", "Evil", "Martin", "Petit"]


def test_another_hubs_customers_never_appear_in_an_export(crew_client, books, people, other_hub):
    customer_create(hub=other_hub, email="theirs@example.org", last_name="Theirs")
    rows = _csv(crew_client.get(reverse("customer_export", args=[books.hub.slug]), {"csv_sep": "comma"}))
    assert "Theirs" not in [r["last_name"] for r in rows]
    assert crew_client.get(reverse("customer_export", args=[other_hub.slug])).status_code == 404


def test_a_french_hub_exports_for_french_excel_with_numbers_kept_numeric(crew_client, books, people):
    """Semicolons and decimal commas by default (the hub is French), a byte-order mark; negative
    balances stay numbers, not text a spreadsheet would refuse to add up."""
    response = crew_client.get(reverse("customer_export", args=[books.hub.slug]), {"low": "1"})
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r["balance"] for r in rows] == ["-6,57", "1,00", "3,00"]
    no_bom = crew_client.get(reverse("customer_export", args=[books.hub.slug]), {"low": "1", "bom": "0"})
    assert not b"".join(no_bom.streaming_content).startswith(b"\xef\xbb\xbf")


def test_the_mailchimp_preset_writes_the_columns_mailchimp_imports(crew_client, books, people):
    response = crew_client.get(
        reverse("customer_export", args=[books.hub.slug]), {"preset": "mailchimp", "csv_sep": "comma"}
    )
    rows = _csv(response)
    assert list(rows[0]) == ["Email Address", "First Name", "Last Name", "Phone Number", "Tags", "Marketing Consent"]
    assert sorted(r["Email Address"] for r in rows) == sorted(p.email for p in people.values())


def test_an_export_of_a_selection_holds_only_the_ticked_people(crew_client, books, people):
    ticked = [people["Marie"].id, people["Léa"].id]
    response = crew_client.post(
        reverse("customer_export", args=[books.hub.slug]), {"p": ticked, "csv_sep": "comma", "cols": "name,balance"}
    )
    rows = _csv(response)
    assert sorted(r["last_name"] for r in rows) == ["Dubois", "Petit"]
    assert list(rows[0]) == ["first_name", "last_name", "code", "balance", "unit"]
