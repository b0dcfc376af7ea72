"""Top-ups by bank transfer: the payment waits until finance sees the money arrive, and is
credited once."""

import pytest

from hubtab.accounts.services import credit_settings_update
from hubtab.core.errors import DomainError
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.models import Customer
from hubtab.crm.services import customer_create
from hubtab.ledger.models import Transaction
from hubtab.ledger.selectors import account_state
from hubtab.payments.models import Payment
from hubtab.payments.services import topup_start, transfer_confirm

pytestmark = pytest.mark.django_db

DETAILS = "Green Valley Food Hub\nIBAN FR76 3000 6000 0112 3456 7890 189\nBIC AGRIFRPP"


@pytest.fixture
def marie_user(hub):
    credit_settings_update(hub=hub, actor=None, bank_transfer_details=DETAILS)
    user = user_create(email="marie@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.CUSTOMER)
    customer_create(hub=hub, email="marie@example.org", first_name="Marie", last_name="Dubois")
    return user


@pytest.fixture
def finance(hub):
    user = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.FINANCE)
    return user


def test_a_customer_announces_a_transfer_and_finance_confirms_it_once(client, hub, marie_user, finance):
    client.force_login(marie_user)
    response = client.post(f"/me/{hub.slug}/top-up/", {"choice": "other", "other": "30", "method": "bank_transfer"})
    payment = Payment.objects.across_hubs().get()
    assert response.status_code == 302 and (payment.status, payment.method) == ("pending", "bank_transfer")
    page = client.get(response["Location"]).content.decode()
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in page and f"HT-{hub.id}-{payment.id}" in page
    marie = payment.customer
    assert account_state(hub_id=hub.id, account_id=marie.account_id).balance_minor == 0

    client.force_login(finance)
    assert f"HT-{hub.id}-{payment.id}" in client.get(f"/hubs/{hub.slug}/transfers/").content.decode()
    for _ in range(2):  # a double click
        client.post(f"/hubs/{hub.slug}/transfers/", {"payment": payment.id, "do": "confirm"})
    assert account_state(hub_id=hub.id, account_id=marie.account_id).balance_minor == 3000
    assert Transaction.objects.across_hubs().filter(kind="top_up").count() == 1
    assert "No transfer is waiting." in client.get(f"/hubs/{hub.slug}/transfers/").content.decode()


def test_a_cancelled_transfer_is_never_credited(client, hub, marie_user, finance):
    marie = Customer.objects.across_hubs().get(email="marie@example.org")
    payment = topup_start(hub=hub, customer=marie, actor=None, price_minor=2000, method="bank_transfer")
    client.force_login(finance)
    client.post(f"/hubs/{hub.slug}/transfers/", {"payment": payment.id, "do": "cancel"})
    with pytest.raises(DomainError):
        transfer_confirm(hub=hub, actor=finance, payment_id=payment.id)
    assert Transaction.objects.across_hubs().filter(kind="top_up").count() == 0


def test_a_hub_without_bank_details_takes_no_transfers(hub):
    paul = customer_create(hub=hub, email="paul@example.org", first_name="Paul")
    with pytest.raises(DomainError) as refused:
        topup_start(hub=hub, customer=paul, actor=None, price_minor=2000, method="bank_transfer")
    assert "does not take bank transfers" in refused.value.message
