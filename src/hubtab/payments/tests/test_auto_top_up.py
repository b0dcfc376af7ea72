"""Auto top-up from a saved card, off session, against localstripe: once per crossing or period;
a bank that wants the customer, or a decline, tells the customer and charges nothing twice."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hubtab.accounts.services import charge_post
from hubtab.crm.services import customer_create
from hubtab.ledger.selectors import account_state
from hubtab.ledger.verify import ledger_verify
from hubtab.messaging.models import Delivery
from hubtab.payments.models import Payment, SavedCard
from hubtab.payments.services import (
    auto_top_up_set,
    auto_top_ups_run,
    payment_refresh,
    topup_card_form,
    topup_charge,
    topup_start,
)
from hubtab.testing import stripe_card_entered, stripe_customer_authenticates

pytestmark = pytest.mark.django_db(transaction=True)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def marie(stripe_hub):
    return customer_create(hub=stripe_hub, email="marie@example.org", first_name="Marie", last_name="Dubois")


def _saved_card(hub, customer, localstripe_url, card="4242424242424242"):
    """A first top-up of 20.00 by card, kept for later."""
    payment = topup_start(hub=hub, customer=customer, actor=None, price_minor=2000, save_card=True)
    stripe_card_entered(localstripe_url, topup_card_form(hub=hub, payment=payment), card)
    payment, state = topup_charge(hub=hub, payment_id=payment.id)
    if payment.status == "requires_action":
        stripe_customer_authenticates(localstripe_url, state.client_secret)
        payment_refresh(hub=hub, payment=payment)
    return SavedCard.objects.across_hubs().get(account_id=customer.account_id)


def _spend(hub, customer, amount_minor, key):
    charge_post(hub=hub, account_id=customer.account_id, amount_minor=amount_minor, reference=key, description="",
                key=key)  # fmt: skip


def _balance(hub, customer):
    return account_state(hub_id=hub.id, account_id=customer.account_id).balance_minor


def test_a_threshold_rule_tops_up_to_the_target_once_per_crossing(stripe_hub, marie, localstripe_url):
    card = _saved_card(stripe_hub, marie, localstripe_url)
    auto_top_up_set(hub=stripe_hub, customer=marie, card_id=card.id, kind="threshold", threshold_minor=1000,
                    target_minor=3000)  # fmt: skip
    assert auto_top_ups_run() == {"charged": 0, "action_required": 0, "failed": 0}  # 20.00: above the line
    _spend(stripe_hub, marie, 1500, "order-1")  # 5.00 left
    assert auto_top_ups_run()["charged"] == 1
    assert _balance(stripe_hub, marie) == 3000
    assert auto_top_ups_run()["charged"] == 0  # the same crossing never charges twice
    _spend(stripe_hub, marie, 2500, "order-2")  # below again: a new crossing
    assert auto_top_ups_run()["charged"] == 1 and _balance(stripe_hub, marie) == 3000
    assert Payment.objects.across_hubs().filter(off_session=True, status="succeeded").count() == 2
    assert ledger_verify(hub_id=stripe_hub.id) == []


def test_an_interval_rule_charges_once_a_month_in_the_hubs_morning(stripe_hub, marie, localstripe_url):
    card = _saved_card(stripe_hub, marie, localstripe_url)
    auto_top_up_set(hub=stripe_hub, customer=marie, card_id=card.id, kind="interval", period="month",
                    amount_minor=1000)  # fmt: skip
    assert auto_top_ups_run(now=datetime(2026, 12, 1, 4, 30, tzinfo=PARIS))["charged"] == 0  # before 05:00
    assert auto_top_ups_run(now=datetime(2026, 12, 1, 5, 10, tzinfo=PARIS))["charged"] == 1  # the hub's morning
    assert auto_top_ups_run(now=datetime(2026, 12, 20, 9, 0, tzinfo=PARIS))["charged"] == 0
    assert auto_top_ups_run(now=datetime(2027, 1, 1, 7, 0, tzinfo=PARIS))["charged"] == 1
    assert _balance(stripe_hub, marie) == 2000 + 1000 + 1000


def test_a_bank_that_wants_the_customer_gets_an_email_with_a_link_and_credit_follows(
    client, stripe_hub, marie, localstripe_url
):
    card = _saved_card(stripe_hub, marie, localstripe_url, card="4000002760003184")
    auto_top_up_set(hub=stripe_hub, customer=marie, card_id=card.id, kind="interval", period="week",
                    amount_minor=1000)  # fmt: skip
    assert auto_top_ups_run(now=datetime(2026, 12, 2, 8, 0, tzinfo=PARIS))["action_required"] == 1
    notice = Delivery.objects.across_hubs().get(kind="auto_top_up_action")
    payment = Payment.objects.across_hubs().get(off_session=True)
    assert f"/me/{stripe_hub.slug}/top-up/{payment.id}/done/" in notice.body
    assert _balance(stripe_hub, marie) == 2000  # nothing before the customer confirms
    intent_secret = (
        __import__("stripe")
        .StripeClient("sk_test_hubtab", base_addresses={"api": localstripe_url})
        .v1.payment_intents.retrieve(payment.gateway_ref)
        .client_secret
    )
    stripe_customer_authenticates(localstripe_url, intent_secret)
    assert payment_refresh(hub=stripe_hub, payment=payment).status == "succeeded"
    assert _balance(stripe_hub, marie) == 3000
    assert auto_top_ups_run(now=datetime(2026, 12, 3, 8, 0, tzinfo=PARIS))["action_required"] == 0  # same week


def test_a_declined_card_tells_the_customer_once_and_is_not_retried_on_every_run(stripe_hub, marie, localstripe_url):
    card = _saved_card(stripe_hub, marie, localstripe_url)
    SavedCard.objects.across_hubs().filter(id=card.id).update(payment_method_ref=_declining_card(localstripe_url, card))
    auto_top_up_set(hub=stripe_hub, customer=marie, card_id=card.id, kind="threshold", threshold_minor=5000,
                    amount_minor=2000)  # fmt: skip
    assert auto_top_ups_run()["failed"] == 1
    assert auto_top_ups_run()["failed"] == 0  # disarmed until the balance is back above the line
    assert Delivery.objects.across_hubs().filter(kind="auto_top_up_failed").count() == 1
    assert _balance(stripe_hub, marie) == 2000


def _declining_card(localstripe_url, card):
    """A card attached to the same gateway customer that the bank declines when charged."""
    import stripe

    client = stripe.StripeClient("sk_test_hubtab", base_addresses={"api": localstripe_url})
    method = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
    )
    client.v1.payment_methods.attach(method.id, params={"customer": card.gateway_customer_ref})
    return method.id


def test_the_customer_sets_the_rule_on_their_page_and_bad_input_is_explained(client, stripe_hub, localstripe_url):
    from hubtab.core.models import Role
    from hubtab.core.services import membership_grant, user_create
    from hubtab.payments.models import AutoTopUp

    user = user_create(email="paul@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=stripe_hub, user=user, role=Role.CUSTOMER)
    paul = customer_create(hub=stripe_hub, email="paul@example.org", first_name="Paul")
    client.force_login(user)
    url = f"/me/{stripe_hub.slug}/auto-top-up/"
    assert "Save a card first" in client.get(url).content.decode()
    card = _saved_card(stripe_hub, paul, localstripe_url)
    page = client.get(url).content.decode()
    assert "Visa ending 4242, expires 12/2031" in page
    form = {"active": "on", "card": card.id, "kind": "threshold", "threshold": "10", "target": "5", "period": ""}
    assert "Top up to more than the line." in client.post(url, form).content.decode()
    assert AutoTopUp.objects.across_hubs().count() == 0
    assert client.post(url, {**form, "target": "30"}).status_code == 302
    rule = AutoTopUp.objects.across_hubs().get()
    assert (rule.threshold_minor, rule.target_minor, rule.amount_minor) == (1000, 3000, None)
