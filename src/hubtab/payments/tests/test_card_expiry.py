"""Cards that expire: a hub that backs debt with cards drops the limit to 0, once, and gives the
hub's default back when a new card is saved and the balance is back at or above 0."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hubtab.accounts.services import charge_post, credit_settings_update
from hubtab.core.models import AuditEvent
from hubtab.crm.services import customer_create
from hubtab.ledger.models import Account
from hubtab.payments.models import CardLimitSuspension, SavedCard
from hubtab.payments.services import cards_expiry_run, topup_card_form, topup_charge, topup_start
from hubtab.testing import stripe_card_entered

pytestmark = pytest.mark.django_db(transaction=True)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def marie(stripe_hub):
    credit_settings_update(hub=stripe_hub, actor=None, card_backed_floor=True, default_floor_minor=-5000)
    return customer_create(hub=stripe_hub, email="marie@example.org", first_name="Marie", last_name="Dubois")


def _card_saved(hub, customer, localstripe_url, price_minor=2000):
    payment = topup_start(hub=hub, customer=customer, actor=None, price_minor=price_minor, save_card=True)
    stripe_card_entered(localstripe_url, topup_card_form(hub=hub, payment=payment))
    topup_charge(hub=hub, payment_id=payment.id)


def _floor(customer):
    return Account.objects.across_hubs().get(id=customer.account_id).floor_minor


def test_an_expired_card_drops_the_limit_to_zero_once_and_a_new_card_brings_it_back(stripe_hub, marie, localstripe_url):
    _card_saved(stripe_hub, marie, localstripe_url)  # the card expires at the end of 12/2031
    charge_post(
        hub=stripe_hub, account_id=marie.account_id, amount_minor=3000, reference="order", description="", key="order-1"
    )  # fmt: skip  (20.00 - 30.00: 10.00 of debt, within the -50.00 limit)
    assert _floor(marie) == -5000
    assert cards_expiry_run(now=datetime(2031, 12, 31, 23, 0, tzinfo=PARIS))["expired"] == 0  # still good
    january = datetime(2032, 1, 1, 9, 0, tzinfo=PARIS)
    assert cards_expiry_run(now=january) == {"expired": 1, "limits_dropped": 1, "limits_restored": 0}
    assert _floor(marie) == 0 and cards_expiry_run(now=january)["expired"] == 0  # once
    assert AuditEvent.objects.across_hubs().filter(action="account.floor").count() == 1

    # A new card while still in debt: the limit stays at 0 until the balance is back at 0 or above.
    SavedCard.objects.across_hubs().update(exp_year=2035)  # (the same card, renewed)
    assert cards_expiry_run(now=january)["limits_restored"] == 0
    _card_saved(stripe_hub, marie, localstripe_url, price_minor=1000)  # pays the 10.00 of debt
    assert _floor(marie) == -5000 and CardLimitSuspension.objects.across_hubs().count() == 0


def test_hubs_that_do_not_back_debt_with_cards_keep_the_limit(stripe_hub, marie, localstripe_url):
    credit_settings_update(hub=stripe_hub, actor=None, card_backed_floor=False)
    _card_saved(stripe_hub, marie, localstripe_url)
    assert cards_expiry_run(now=datetime(2032, 1, 5, tzinfo=PARIS)) == {
        "expired": 1, "limits_dropped": 0, "limits_restored": 0,
    }  # fmt: skip
    assert _floor(marie) == -5000


def test_finance_saves_a_new_card_for_a_customer_on_the_phone_and_the_limit_returns(
    client, stripe_hub, marie, localstripe_url
):
    import re

    from hubtab.core.models import Role
    from hubtab.core.services import membership_grant, user_create

    _card_saved(stripe_hub, marie, localstripe_url)
    cards_expiry_run(now=datetime(2032, 1, 2, 9, 0, tzinfo=PARIS))
    assert _floor(marie) == 0
    finance = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=stripe_hub, user=finance, role=Role.FINANCE)
    client.force_login(finance)
    url = f"/hubs/{stripe_hub.slug}/customers/{marie.id}/payments/card/"
    page = client.get(url).content.decode()
    secret = re.search(r'data-secret="([^"]+)"', page).group(1)
    setup_ref = re.search(r'name="setup" value="([^"]+)"', page).group(1)
    stripe_card_entered(localstripe_url, secret, "5555555555554444")  # what Stripe.js does in the page
    assert client.post(url, {"setup": setup_ref}).status_code == 302
    assert SavedCard.objects.across_hubs().filter(last4="4444", removed_at__isnull=True).exists()
    assert _floor(marie) == -5000  # balance at 20.00 and a valid card: the hub's default is back
    assert AuditEvent.objects.across_hubs().filter(action="payment.card_saved", actor=finance).exists()
