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


def test_the_demo_seeds_three_hubs_with_history_and_a_clean_ledger(capsys):
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
