"""The console commands a hub operator types."""

import pytest
from django.core.management import CommandError, call_command

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


def test_tenant_rows_cannot_be_queried_without_a_hub_scope(hub):
    from django_scopes import ScopeError, scope

    from hubtab.core.models import Membership

    with scope():
        with pytest.raises(ScopeError):
            list(Membership.objects.all())
        with scope(hub=hub):
            assert list(Membership.objects.all()) == []


def test_the_demo_seeds_two_hubs_with_history_and_a_clean_ledger(capsys):
    from hubtab.ledger.verify import ledger_verify

    call_command("demo")
    assert set(Hub.objects.values_list("slug", "currency")) == {("green-valley", "EUR"), ("riverside", "GBP")}
    assert ledger_verify() == []
    out = capsys.readouterr().out
    assert "owner@green-valley.example" in out and "hubtab-demo" in out
    call_command("demo")  # a second run keeps what is there
    assert Hub.objects.count() == 2
