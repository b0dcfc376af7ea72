"""Refunds to the card against localstripe: paid credit only, in proportion, once; a refusal by
the gateway gives the credit back."""

import uuid
from decimal import Decimal

import pytest

from hubtab.accounts.services import credit_settings_update, credit_unit_choose, unit_price_set
from hubtab.core.errors import DomainError
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.ledger.models import Lot
from hubtab.ledger.selectors import account_state
from hubtab.ledger.verify import ledger_verify
from hubtab.payments.models import Payment, PaymentRefund
from hubtab.payments.services import payment_refund, topup_card_form, topup_charge, topup_start
from hubtab.testing import stripe_card_entered

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finance(stripe_hub):
    user = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=stripe_hub, user=user, role=Role.FINANCE)
    return user


@pytest.fixture
def marie(stripe_hub):
    return customer_create(hub=stripe_hub, email="marie@example.org", first_name="Marie", last_name="Dubois")


def _paid_top_up(hub, customer, localstripe_url, price_minor=2000):
    payment = topup_start(hub=hub, customer=customer, actor=None, price_minor=price_minor)
    stripe_card_entered(localstripe_url, topup_card_form(hub=hub, payment=payment))
    payment, _state = topup_charge(hub=hub, payment_id=payment.id)
    assert payment.status == "succeeded"
    return payment


def _lots(customer):
    lots = Lot.objects.across_hubs().filter(account_id=customer.account_id)
    return dict(lots.values_list("kind", "remaining_minor"))


def _refund(hub, actor, payment, amount_minor, key=None):
    return payment_refund(hub=hub, actor=actor, payment_id=payment.id, amount_minor=amount_minor,
                          reason="Moved away", key=key or str(uuid.uuid4()))  # fmt: skip


def test_a_refund_takes_back_paid_credit_only_and_the_bonus_stays(stripe_hub, finance, marie, localstripe_url):
    credit_settings_update(hub=stripe_hub, actor=finance, topup_bonus_percent=Decimal(5))
    payment = _paid_top_up(stripe_hub, marie, localstripe_url)
    assert _lots(marie) == {"paid": 2000, "granted": 100}
    key = str(uuid.uuid4())
    refund = _refund(stripe_hub, finance, payment, 2000, key=key)
    assert refund.status == "succeeded" and refund.gateway_ref.startswith("re_")
    assert _refund(stripe_hub, finance, payment, 2000, key=key).id == refund.id  # the form sent twice
    assert _lots(marie) == {"paid": 0, "granted": 100}
    with pytest.raises(DomainError) as refused:
        _refund(stripe_hub, finance, payment, 1)
    assert "At most €0.00" in refused.value.message
    assert PaymentRefund.objects.across_hubs().count() == 1
    assert ledger_verify(hub_id=stripe_hub.id) == []


def test_a_partial_refund_in_named_credits_takes_back_their_share(stripe_hub, finance, marie, localstripe_url):
    credit_unit_choose(hub=stripe_hub, actor=finance, code="TOKEN", name="tokens")
    unit_price_set(hub=stripe_hub, actor=finance, currency="EUR", credits_minor=1000, price_minor=100)
    credit_settings_update(hub=stripe_hub, actor=finance, topup_min_minor=100, topup_max_minor=100000)
    payment = _paid_top_up(stripe_hub, marie, localstripe_url)  # 20 EUR: 200 tokens
    _refund(stripe_hub, finance, payment, 500)  # 5 EUR back: 50 tokens
    assert account_state(hub_id=stripe_hub.id, account_id=marie.account_id).balance_minor == 15000
    assert Payment.objects.across_hubs().get(id=payment.id).refunded_minor == 500
    assert ledger_verify(hub_id=stripe_hub.id) == []


def test_paid_credit_already_spent_is_not_refunded_and_nothing_is_written(stripe_hub, finance, marie, localstripe_url):
    from hubtab.accounts.services import charge_post

    payment = _paid_top_up(stripe_hub, marie, localstripe_url)
    charge_post(hub=stripe_hub, account_id=marie.account_id, amount_minor=1500, reference="order 1",
                description="", key="order-1")  # fmt: skip
    with pytest.raises(DomainError) as refused:
        _refund(stripe_hub, finance, payment, 2000)
    assert refused.value.code == "not_enough_paid_credit"
    assert PaymentRefund.objects.across_hubs().count() == 0
    assert account_state(hub_id=stripe_hub.id, account_id=marie.account_id).balance_minor == 500
    _refund(stripe_hub, finance, payment, 500)  # what is left can go back
    assert _lots(marie) == {"paid": 0}


def test_a_refund_the_gateway_refuses_gives_the_credit_back_once(stripe_hub, finance, marie, localstripe_url):
    payment = _paid_top_up(stripe_hub, marie, localstripe_url)
    # The gateway no longer knows the charge (refused with an error, as for a disputed payment).
    Payment.objects.across_hubs().filter(id=payment.id).update(gateway_ref="pi_gone")
    refund = _refund(stripe_hub, finance, payment, 2000)
    assert refund.status == "failed" and refund.reversal_transaction_id
    assert _lots(marie) == {"paid": 2000}
    assert Payment.objects.across_hubs().get(id=payment.id).refunded_minor == 0
    assert ledger_verify(hub_id=stripe_hub.id) == []


def test_finance_refunds_from_the_customers_payments_page_and_support_only_looks(
    client, stripe_hub, finance, marie, localstripe_url
):
    payment = _paid_top_up(stripe_hub, marie, localstripe_url)
    url = f"/hubs/{stripe_hub.slug}/customers/{marie.id}/payments/"
    client.force_login(finance)
    page = client.get(url).content.decode()
    assert "€20.00" in page and "Refund to the card" in page
    form = {"payment": payment.id, f"p{payment.id}-amount": "7.50", f"p{payment.id}-reason": "Short delivery",
            f"p{payment.id}-key": str(uuid.uuid4())}  # fmt: skip
    too_much = client.post(url, {**form, f"p{payment.id}-amount": "25"})
    assert "At most €20.00" in too_much.content.decode()
    assert client.post(url, form).status_code == 302
    assert account_state(hub_id=stripe_hub.id, account_id=marie.account_id).balance_minor == 1250
    assert "€7.50 refunded" in client.get(url).content.decode()

    support = user_create(email="support@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=stripe_hub, user=support, role=Role.SUPPORT)
    client.force_login(support)
    page = client.get(url).content.decode()
    assert "Refund to the card" not in page
    assert client.post(url, {**form, f"p{payment.id}-key": str(uuid.uuid4())}).status_code == 403
    assert account_state(hub_id=stripe_hub.id, account_id=marie.account_id).balance_minor == 1250


def test_a_card_top_up_is_not_reversed_by_hand_so_its_refund_takes_the_credit_once(
    stripe_hub, finance, marie, localstripe_url
):
    from hubtab.accounts.services import transaction_correct

    payment = _paid_top_up(stripe_hub, marie, localstripe_url)
    with pytest.raises(DomainError) as refused:
        transaction_correct(hub=stripe_hub, actor=finance, transaction_id=payment.transaction_id, reason="Oops",
                            key=str(uuid.uuid4()))  # fmt: skip
    assert refused.value.code == "reverse_refused_payment" and "Card payments" in refused.value.message
    assert account_state(hub_id=stripe_hub.id, account_id=marie.account_id).balance_minor == 2000
    assert _refund(stripe_hub, finance, payment, 2000).status == "succeeded"
    assert account_state(hub_id=stripe_hub.id, account_id=marie.account_id).balance_minor == 0  # taken once
    assert ledger_verify(hub_id=stripe_hub.id) == []


def test_a_refund_to_the_card_and_its_top_up_cannot_be_reversed_after_it(stripe_hub, finance, marie, localstripe_url):
    from hubtab.accounts.services import transaction_correct

    payment = _paid_top_up(stripe_hub, marie, localstripe_url)
    refund = _refund(stripe_hub, finance, payment, 2000)
    for transaction_id, code in ((refund.transaction_id, "reverse_refused_refund"),
                                 (payment.transaction_id, "reverse_refused_payment")):  # fmt: skip
        with pytest.raises(DomainError) as refused:
            transaction_correct(hub=stripe_hub, actor=finance, transaction_id=transaction_id, reason="Oops",
                                key=str(uuid.uuid4()))  # fmt: skip
        assert refused.value.code == code
    assert account_state(hub_id=stripe_hub.id, account_id=marie.account_id).balance_minor == 0
    assert ledger_verify(hub_id=stripe_hub.id) == []
