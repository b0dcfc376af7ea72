"""A hub's credit in named units with a price per currency, bundles ("pay X, get Y") and the
top-up bonus: money becomes credit once, at the hub's price, and the ledger records the rate."""

from decimal import Decimal
from uuid import uuid4

import pytest

from hubtab.accounts.selectors import bundle_list, credit_unit_of, topup_quote
from hubtab.accounts.services import (
    CreditAction,
    bundle_archive,
    bundle_create,
    credit_apply,
    credit_settings_update,
    credit_unit_choose,
    organisation_create,
    unit_price_set,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import AuditEvent, Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.ledger.models import Account, Entry, Lot
from hubtab.ledger.selectors import account_state
from hubtab.ledger.verify import ledger_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(hub):
    user = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def marie(hub):
    return customer_create(hub=hub, email="marie@example.org", first_name="Marie", last_name="Dubois")


@pytest.fixture
def tokens(hub, owner, marie):
    """Green Valley counts in tokens, sold at 10 tokens for 1 EUR."""
    credit_unit_choose(hub=hub, actor=owner, code="TOKEN", name="tokens", decimals=2)
    unit_price_set(hub=hub, actor=owner, currency="EUR", credits_minor=1000, price_minor=100)
    return credit_unit_of(hub=hub)


def _pay_by_hand(hub, owner, customer, amount_minor, key="k1"):
    return credit_apply(
        hub=hub, actor=owner, account_id=customer.account_id, action=CreditAction.EXTERNAL_PAYMENT,
        amount_minor=amount_minor, comment="at the till", key=key, method="cash",
    )  # fmt: skip


def _lots(customer):
    lots = Lot.objects.across_hubs().filter(account_id=customer.account_id)
    return dict(lots.values_list("kind", "amount_minor"))


def _legs(posted):
    return sorted(
        (entry.account.code or "customer", entry.unit, entry.amount_minor)
        for entry in Entry.objects.across_hubs().filter(transaction_id=posted.transaction_id).select_related("account")
    )


def test_a_hub_that_counts_in_named_credits_moves_its_customers_and_new_ones_to_them(hub, owner, marie, tokens):
    assert (tokens.code, tokens.name, tokens.is_currency) == ("TOKEN", "tokens", False)
    assert Account.objects.across_hubs().get(id=marie.account_id).unit == "TOKEN"
    paul = customer_create(hub=hub, email="paul@example.org", first_name="Paul")
    school = organisation_create(hub=hub, actor=owner, name="School")
    units = Account.objects.across_hubs().filter(id__in=[paul.account_id, school.account_id])
    assert set(units.values_list("unit", flat=True)) == {"TOKEN"}
    assert AuditEvent.objects.across_hubs().filter(action="credit_settings.unit", actor=owner).count() == 1


def test_the_unit_cannot_change_once_credit_has_moved_and_nothing_changes(hub, owner, marie, tokens):
    _pay_by_hand(hub, owner, marie, 500)
    with pytest.raises(DomainError) as refused:
        credit_unit_choose(hub=hub, actor=owner)  # back to EUR
    assert refused.value.code == "unit_locked"
    assert credit_unit_of(hub=hub).code == "TOKEN"
    assert Account.objects.across_hubs().get(id=marie.account_id).unit == "TOKEN"
    # Renaming the unit is always possible; its decimals are not.
    assert credit_unit_choose(hub=hub, actor=owner, code="TOKEN", name="jetons", decimals=2).name == "jetons"
    with pytest.raises(DomainError):
        credit_unit_choose(hub=hub, actor=owner, code="TOKEN", name="jetons", decimals=0)


def test_a_named_unit_may_not_take_a_currency_code(hub, owner, marie):
    with pytest.raises(DomainError) as refused:
        credit_unit_choose(hub=hub, actor=owner, code="GBP", name="pounds")
    assert "currency code" in refused.value.message
    assert credit_unit_of(hub=hub).code == "EUR"


def test_money_received_by_hand_buys_credits_at_the_hubs_price_and_the_legs_record_the_rate(hub, owner, marie, tokens):
    posted = _pay_by_hand(hub, owner, marie, 500)  # 5.00 EUR
    assert account_state(hub_id=hub.id, account_id=marie.account_id).balance_minor == 5000  # 50.00 tokens
    assert _legs(posted) == [
        ("credit_issued", "TOKEN", -5000),
        ("credit_sales", "EUR", 500),
        ("customer", "TOKEN", 5000),
        ("external_payments", "EUR", -500),
    ]
    assert Lot.objects.across_hubs().get(account_id=marie.account_id).kind == "paid"
    assert ledger_verify(hub_id=hub.id) == []


def test_paying_a_bundles_price_buys_the_bundle_and_its_bonus_is_granted_credit(hub, owner, marie, tokens):
    bundle_create(hub=hub, actor=owner, name="Family pack", currency="EUR", price_minor=2000, credits_minor=22000)
    _pay_by_hand(hub, owner, marie, 2000)
    lots = _lots(marie)
    assert lots == {"paid": 20000, "granted": 2000}
    # Any other amount is plain credit at the price.
    _pay_by_hand(hub, owner, marie, 1900, key="k2")
    assert account_state(hub_id=hub.id, account_id=marie.account_id).balance_minor == 22000 + 19000
    assert ledger_verify(hub_id=hub.id) == []


def test_a_bundle_gives_more_than_its_price_buys_and_one_price_has_one_bundle(hub, owner, tokens):
    with pytest.raises(DomainError) as refused:
        bundle_create(hub=hub, actor=owner, name="No deal", currency="EUR", price_minor=2000, credits_minor=20000)
    assert "more than the price buys" in refused.value.message
    bundle = bundle_create(hub=hub, actor=owner, name="Pack", currency="EUR", price_minor=2000, credits_minor=21000)
    with pytest.raises(DomainError):
        bundle_create(hub=hub, actor=owner, name="Pack 2", currency="EUR", price_minor=2000, credits_minor=25000)
    bundle_archive(hub=hub, actor=owner, bundle_id=bundle.id)
    assert list(bundle_list(hub=hub, unit=tokens)) == []
    bundle_create(hub=hub, actor=owner, name="Pack 2", currency="EUR", price_minor=2000, credits_minor=25000)


def test_credits_bought_are_rounded_down_and_prices_rounded_up(hub, owner, marie):
    credit_unit_choose(hub=hub, actor=owner, code="CREDIT", name="credits", decimals=0)
    unit_price_set(hub=hub, actor=owner, currency="EUR", credits_minor=3, price_minor=100)  # 3 credits for 1 EUR
    assert topup_quote(hub=hub, currency="EUR", price_minor=50).paid_minor == 1  # 1.5 credits: 1 is issued
    quote = topup_quote(hub=hub, currency="EUR", credits_minor=10)
    assert (quote.price_minor, quote.paid_minor) == (334, 10)  # 3.34 EUR buys at least the 10 asked for
    with pytest.raises(DomainError) as refused:
        topup_quote(hub=hub, currency="EUR", price_minor=33)
    assert refused.value.code == "invalid_amount"


def test_credit_not_priced_in_a_currency_cannot_be_bought_in_it(hub, owner, marie):
    credit_unit_choose(hub=hub, actor=owner, code="TOKEN", name="tokens")
    with pytest.raises(DomainError) as refused:
        _pay_by_hand(hub, owner, marie, 500)
    assert refused.value.code == "unit_not_sold"
    assert account_state(hub_id=hub.id, account_id=marie.account_id).balance_minor == 0


def test_the_top_up_bonus_is_granted_on_a_payment_received_in_the_hubs_currency(hub, owner, marie):
    credit_settings_update(hub=hub, actor=owner, topup_bonus_percent=Decimal(5))
    posted = _pay_by_hand(hub, owner, marie, 2000)
    assert _legs(posted) == [
        ("customer", "EUR", 100),
        ("customer", "EUR", 2000),
        ("external_payments", "EUR", -2000),
        ("granted_credit_expense", "EUR", -100),
    ]
    lots = _lots(marie)
    assert lots == {"paid": 2000, "granted": 100}
    assert ledger_verify(hub_id=hub.id) == []


# --- the settings page ---------------------------------------------------------------------------------


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_the_owner_switches_to_tokens_prices_them_and_adds_a_bundle_from_the_settings_page(owner_client, hub, marie):
    from django.urls import reverse

    settings_url = reverse("credit_settings", args=[hub.slug])
    response = owner_client.post(
        reverse("credit_unit", args=[hub.slug]),
        {"unit-named": "yes", "unit-code": "token", "unit-name": "jetons", "unit-decimals": "2"},
    )
    assert response.status_code == 302
    page = owner_client.get(settings_url).content.decode()
    assert "jetons have no price yet" in page
    owner_client.post(
        reverse("unit_price", args=[hub.slug]), {"price-credits": "10", "price-price": "1", "price-currency": "eur"}
    )
    response = owner_client.post(
        reverse("bundle_create", args=[hub.slug]),
        {"bundle-name": "Panier famille", "bundle-price": "20", "bundle-currency": "EUR", "bundle-credits": "220"},
    )
    assert response.status_code == 302
    page = owner_client.get(settings_url).content.decode()
    assert "10.00 jetons for €1.00" in page
    assert "pay €20.00, get 220.00 jetons" in page and "20.00 jetons bonus" in page
    # The customer's credit form takes a payment received in euros and turns it into tokens.
    owner_client.post(
        reverse("customer_credit", args=[hub.slug, marie.id]),
        {"action": "external_payment", "amount": "20", "method": "cash", "comment": "till", "key": str(uuid4())},
    )
    assert _lots(marie) == {"paid": 20000, "granted": 2000}


def test_bad_unit_price_and_bundle_input_is_shown_and_changes_nothing(owner_client, hub, tokens):
    from django.urls import reverse

    response = owner_client.post(
        reverse("unit_price", args=[hub.slug]), {"price-credits": "10", "price-price": "1.005", "price-currency": "EUR"}
    )
    assert response.status_code == 200 and "at most 2 decimals" in response.content.decode()
    response = owner_client.post(
        reverse("unit_price", args=[hub.slug]), {"price-credits": "10", "price-price": "1", "price-currency": "XYZ"}
    )
    assert "not an ISO 4217 currency" in response.content.decode()
    response = owner_client.post(
        reverse("bundle_create", args=[hub.slug]),
        {"bundle-name": "Pack", "bundle-price": "10", "bundle-currency": "EUR", "bundle-credits": "50"},
    )
    assert "more than the price buys on its own (100.00 tokens)" in response.content.decode()
    response = owner_client.post(
        reverse("credit_unit", args=[hub.slug]),
        {"unit-named": "yes", "unit-code": "", "unit-name": "", "unit-decimals": "2"},
    )
    assert "need a code and a name" in response.content.decode()
    assert list(bundle_list(hub=hub, unit=tokens)) == []
    assert topup_quote(hub=hub, currency="EUR", price_minor=100).paid_minor == 1000  # the price stayed
