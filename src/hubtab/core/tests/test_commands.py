"""The console commands a hub operator types."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from hubtab.core.models import Hub

pytestmark = pytest.mark.django_db


def test_hub_create_makes_a_hub_with_its_currency_timezone_and_locale(capsys):
    call_command(
        "hub",
        "create",
        "--slug",
        "la-ruche",
        "--name",
        "La Ruche",
        "--currency",
        "eur",
        "--timezone",
        "Europe/Paris",
        "--locale",
        "fr",
    )
    hub = Hub.objects.get(slug="la-ruche")
    assert (hub.name, hub.currency, hub.timezone, hub.locale) == ("La Ruche", "EUR", "Europe/Paris", "fr")
    assert "Created hub la-ruche" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--currency", "EURO"], "unknown_unit"),
        (["--currency", "EUR", "--timezone", "Mars/Olympus"], "invalid_timezone"),
    ],
)
def test_hub_create_refuses_bad_input_and_creates_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("hub", "create", "--slug", "bad", "--name", "Bad", *args)
    assert not Hub.objects.filter(slug="bad").exists()


def test_hub_create_refuses_a_taken_slug():
    call_command("hub", "create", "--slug", "twice", "--name", "One", "--currency", "GBP")
    with pytest.raises(CommandError, match="hub_exists"):
        call_command("hub", "create", "--slug", "twice", "--name", "Two", "--currency", "GBP")
    assert Hub.objects.get(slug="twice").name == "One"


def test_the_demo_seeds_three_hubs_with_history_and_a_clean_ledger(capsys, client):
    from hubtab.ledger.models import Account
    from hubtab.ledger.verify import ledger_verify

    call_command("demo")
    assert set(Hub.objects.values_list("slug", "currency")) == {
        ("green-valley", "EUR"), ("riverside", "GBP"), ("kai-collective", "NZD"),
    }  # fmt: skip
    kai_units = Account.objects.across_hubs().filter(hub__slug="kai-collective", kind="customer")
    assert set(kai_units.values_list("unit", flat=True)) == {"KAI"}  # a hub counting in named credits
    _the_demo_shops_have_past_and_open_orders()
    assert ledger_verify() == []
    _the_demo_customers_have_a_timeline_and_figures_that_hold()
    _exploring_the_demo_crm_finds_leads_lapsed_people_segments_notes_and_follow_ups(client)
    out = capsys.readouterr().out
    assert "owner@green-valley.example" in out and "hubtab-demo" in out
    call_command("demo")  # a second run keeps what is there
    assert Hub.objects.count() == 3


def _the_demo_customers_have_a_timeline_and_figures_that_hold():
    from hubtab.crm.activity import figures_rebuild
    from hubtab.crm.models import Activity, CustomerFigures

    green = Hub.objects.get(slug="green-valley")
    kinds = set(Activity.objects.across_hubs().filter(hub=green).values_list("kind", flat=True))
    # Made through the services, the history is on every timeline: money paid in, boxes charged,
    # welcome credit, shop orders placed, completed, cancelled and refunded.
    assert {"topped_up", "charged", "credit_added", "order_placed", "order_completed", "order_cancelled",
            "order_refunded"} <= kinds  # fmt: skip
    assert CustomerFigures.objects.across_hubs().filter(hub=green, orders_completed__gt=3).count() > 50
    assert figures_rebuild(hub_id=green.id) == 0


def _exploring_the_demo_crm_finds_leads_lapsed_people_segments_notes_and_follow_ups(client):
    """What Green Valley's owner finds in the CRM, page by page, as they would read it."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.urls import reverse
    from django.utils import timezone
    from django.utils.html import escape

    from hubtab.core.models import User
    from hubtab.crm.models import Customer

    green = Hub.objects.get(slug="green-valley")
    client.force_login(User.objects.get(email="owner@green-valley.example"))

    def get(name, *args, **params):
        response = client.get(reverse(name, args=["green-valley", *args]), params, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        return response

    # Leads: signed up at the shop, imported from the Mailchimp list, added by crew; none ever ordered.
    leads = get("customer_index", c="status", v="lead", cols="name,email,status,source,last_purchase")
    assert leads.context["page"].paginator.count >= 15
    lines = leads.context["rows"]
    assert {line["status_label"] for line in lines} == {"Lead"}
    assert {dict(line["cells"])["source"] for line in lines} == {"Registered", "Imported", "Created by crew"}
    assert {dict(line["cells"])["last_purchase"] for line in lines} == {"—"}
    assert {"Camille Girard", "Alice Morel", "Élise Garnier"} <= {line["customer"].full_name for line in lines}

    # Lapsed: customers whose last purchase is more than the hub's 8 weeks ago; one who moved is archived.
    lapsed = get("customer_index", c="status", v="lapsed")
    names = {line["customer"].full_name for line in lapsed.context["rows"]}
    assert len(names) >= 5 and "Julie Caron" in names and "Heidi Roux" not in names
    eight_weeks_ago = timezone.now() - timedelta(weeks=8)
    for line in lapsed.context["rows"]:
        assert line["customer"].figures.last_order_at < eight_weeks_ago
    archived = get("customer_index", c="status", v="archived")
    assert "Heidi Roux" in {line["customer"].full_name for line in archived.context["rows"]}

    # Tags and consent a food hub would use, found by the filters.
    assert get("customer_index", c="tags_any", v="veg box").context["page"].paginator.count >= 10
    assert get("customer_index", c="consent", v="yes").context["page"].paginator.count >= 20

    # The saved segments, each with people in it now; a segment opens as the list, with its count.
    segments = get("customer_segments")
    counts = {line["segment"].name: line["count"] for line in segments.context["lines"]}
    assert {"Regulars running low", "Lapsed veg-box customers", "Leads who never ordered"} <= set(counts)
    assert len(counts) >= 4 and all(count > 0 for count in counts.values()), counts
    for name in counts:
        assert escape(name) in segments.content.decode()
    (lapsed_veg,) = [line["segment"] for line in segments.context["lines"] if line["segment"].name.startswith("Lapsed")]
    shown = get("customer_index", segment=lapsed_veg.id)
    assert shown.context["page"].paginator.count == counts[lapsed_veg.name]
    assert all("veg box" in line["tags"] and line["status"] == "lapsed" for line in shown.context["rows"])

    # The overview lists the follow-ups due (overdue and today's), not the ones still to come.
    overview = get("dashboard").content.decode()
    assert "Follow-ups due" in overview
    assert "Julie Caron" in overview and "Élise Garnier" in overview
    assert "Camille Girard" not in overview and "Nina Fournier" not in overview
    today = timezone.localdate(timezone=ZoneInfo(green.timezone))
    due = Customer.objects.filter(hub=green).filter(notes__follow_up_on__lte=today, notes__follow_up_done_at=None)
    assert due.count() >= 3

    # A regular's page: pinned notes first, written by different crew, and the notes in the timeline.
    regular = (
        Customer.objects.filter(hub=green)
        .filter(notes__author__email__startswith="owner")
        .filter(notes__pinned=True, notes__author__email__startswith="support")
        .get()
    )
    person = get("customer_detail", regular.id)
    notes = person.context["notes"]
    assert notes[0].pinned and len({note.author for note in notes}) == 2
    assert "Pinned" in person.content.decode() and "Note added" in person.content.decode()

    # The Mailchimp list was imported: its report says what it did.
    imports = get("customer_import").content.decode()
    assert "mailchimp-subscribed-members.csv" in imports and "8 new, 4 updated" in imports


def _the_demo_shops_have_past_and_open_orders():
    from hubtab.shop.models import OrderLine, OrderStatus
    from hubtab.shop.selectors import cycles_open, order_list

    green = Hub.objects.get(slug="green-valley")
    orders = order_list(hub=green)
    (open_cycle,) = cycles_open(hub=green)
    waiting = orders.filter(cycle=open_cycle)
    # Crew have packing to do this week, among it the demo customer login's order.
    assert waiting.count() >= 3 and not waiting.exclude(status=OrderStatus.PLACED).exists()
    assert waiting.filter(customer__user__email="customer@hubtab.example", held_minor__gt=0).exists()
    done = orders.filter(status=OrderStatus.COMPLETED)
    assert done.count() >= 10 and not done.filter(cycle=open_cycle).exists()
    weighed = OrderLine.objects.across_hubs().filter(order__in=done, by_weight=True)
    assert weighed.filter(packed_grams__gt=F("estimated_grams")).exists()
    assert weighed.filter(packed_grams__lt=F("estimated_grams")).exists()
    assert orders.filter(status=OrderStatus.CANCELLED).count() == 1
    assert orders.filter(refunded_minor__gt=0).count() == 1
    # The weighed total went past what one customer could pay: the rest rides on their open order.
    (owing,) = orders.filter(owed_minor__gt=0)
    carrying = orders.get(carries=owing)
    assert carrying.status == OrderStatus.PLACED and carrying.carried_minor == owing.owed_minor

    kai = Hub.objects.get(slug="kai-collective")
    (kai_cycle,) = cycles_open(hub=kai)
    kai_orders = order_list(hub=kai, cycle_id=kai_cycle.id, status=OrderStatus.PLACED)
    assert kai_orders.count() >= 2 and {order.unit for order in kai_orders} == {"KAI"}


def test_a_new_hub_invites_its_first_owner_who_accepts_by_the_emailed_link(capsys, client, smtp_server):
    from hubtab.core.models import Membership
    from hubtab.core.services import user_create

    call_command(
        "hub", "create", "--slug", "la-ruche", "--name", "La Ruche", "--currency", "EUR", "--locale", "fr",
        "--owner", "Anne@Example.org",
    )  # fmt: skip
    printed = capsys.readouterr().out
    link = printed.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/invitations/")
    assert len(smtp_server) == 1 and link in smtp_server[0].get_body().get_content()
    assert "Vous êtes invité à rejoindre La Ruche" in smtp_server[0]["Subject"]  # in the hub's language
    from hubtab.messaging.models import Delivery

    # Like every email Hubtab sends, it is on record: who got what, and whether it went.
    (sent,) = Delivery.objects.across_hubs().filter(kind="invitation")
    assert (sent.to_email, sent.status, sent.customer_id) == ("anne@example.org", "sent", None)
    anne = user_create(email="anne@example.org", password="pw-long-enough", email_verified=True)
    client.force_login(anne)
    client.post(link.removeprefix("http://127.0.0.1:8000"))
    hub = Hub.objects.get(slug="la-ruche")
    assert Membership.objects.across_hubs().filter(hub=hub, user=anne, role="owner").exists()


def test_hub_invite_adds_crew_and_refuses_an_unknown_hub_or_a_bad_address(capsys, smtp_server):
    with pytest.raises(CommandError, match="hub_not_found"):
        call_command("hub", "invite", "--hub", "nope", "--email", "a@example.org", "--role", "owner")
    call_command("hub", "create", "--slug", "la-ruche", "--name", "La Ruche", "--currency", "EUR")
    with pytest.raises(CommandError, match="validation_error"):
        call_command("hub", "invite", "--hub", "la-ruche", "--email", "not-an-address", "--role", "owner")
    call_command("hub", "invite", "--hub", "la-ruche", "--email", "sam@example.org", "--role", "finance")
    assert "Invited sam@example.org as finance" in capsys.readouterr().out
    assert [m["To"] for m in smtp_server] == ["sam@example.org"]
