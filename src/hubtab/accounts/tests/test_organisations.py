"""Organisations: one balance that members spend from, each within an optional monthly limit."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hubtab.accounts.services import (
    organisation_charge,
    organisation_create,
    organisation_member_remove,
    organisation_member_set,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.ledger.models import Account
from hubtab.ledger.selectors import account_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(hub):
    user = user_create(email="finance@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.FINANCE)
    return user


@pytest.fixture
def school(books, finance):
    organisation = organisation_create(hub=books.hub, actor=finance, name="École Jules Ferry")
    account = Account.objects.across_hubs().get(id=organisation.account_id)
    books.top_up(account, 10000)  # the school pays 100.00 in
    return organisation


def _balance(hub, account_id):
    return account_state(hub_id=hub.id, account_id=account_id).balance_minor


def test_members_spend_from_the_shared_balance_within_their_monthly_limit(books, finance, school):
    ana = customer_create(hub=books.hub, email="ana@example.org")
    organisation_member_set(hub=books.hub, actor=finance, organisation=school, member_account_id=ana.account_id,
                            monthly_limit_minor=3000)  # fmt: skip
    organisation_charge(hub=books.hub, organisation=school, member_account_id=ana.account_id, amount_minor=2000,
                        reference="lunch-1", key="k1")  # fmt: skip
    assert _balance(books.hub, school.account_id) == 8000
    assert _balance(books.hub, ana.account_id) == 0  # her own account is untouched
    with pytest.raises(DomainError) as refused:
        organisation_charge(hub=books.hub, organisation=school, member_account_id=ana.account_id,
                            amount_minor=1001, reference="lunch-2", key="k2")  # fmt: skip
    assert refused.value.code == "member_limit_reached"
    next_month = timezone.now() + timedelta(days=32)
    organisation_charge(hub=books.hub, organisation=school, member_account_id=ana.account_id, amount_minor=3000,
                        reference="lunch-3", key="k3", now=next_month)  # fmt: skip
    assert _balance(books.hub, school.account_id) == 5000


def test_the_organisations_own_limit_holds_and_non_members_cannot_spend(books, finance, school):
    ben = customer_create(hub=books.hub, email="ben@example.org")
    with pytest.raises(DomainError) as refused:
        organisation_charge(hub=books.hub, organisation=school, member_account_id=ben.account_id, amount_minor=100,
                            reference="x", key="k1")  # fmt: skip
    assert refused.value.code == "not_a_member"
    organisation_member_set(hub=books.hub, actor=finance, organisation=school, member_account_id=ben.account_id,
                            monthly_limit_minor=None)  # fmt: skip
    with pytest.raises(DomainError) as refused:
        organisation_charge(hub=books.hub, organisation=school, member_account_id=ben.account_id,
                            amount_minor=10001, reference="x", key="k2")  # fmt: skip
    assert refused.value.code == "insufficient_funds"
    organisation_member_remove(hub=books.hub, actor=finance, organisation=school, member_account_id=ben.account_id)
    with pytest.raises(DomainError):
        organisation_charge(hub=books.hub, organisation=school, member_account_id=ben.account_id, amount_minor=1,
                            reference="x", key="k3")  # fmt: skip
    assert _balance(books.hub, school.account_id) == 10000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_orders_at_once_cannot_both_slip_under_a_members_limit(books, finance, school):
    ana = customer_create(hub=books.hub, email="ana@example.org")
    organisation_member_set(hub=books.hub, actor=finance, organisation=school, member_account_id=ana.account_id,
                            monthly_limit_minor=3000)  # fmt: skip
    outcomes = []
    barrier = threading.Barrier(4)

    def order(n):
        try:
            barrier.wait()
            organisation_charge(hub=books.hub, organisation=school, member_account_id=ana.account_id,
                                amount_minor=2000, reference=f"o{n}", key=f"o{n}")  # fmt: skip
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=order, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["member_limit_reached"] * 3 + ["ok"]
    assert _balance(books.hub, school.account_id) == 8000


def test_finance_runs_an_organisation_from_its_page_and_support_only_looks(client, books, finance, school):
    from django.urls import reverse

    ana = customer_create(hub=books.hub, email="ana@example.org", first_name="Ana", last_name="Lopez")
    client.force_login(finance)
    url = reverse("organisation_detail", args=[books.hub.slug, school.id])
    credit = reverse("organisation_credit", args=[books.hub.slug, school.id])
    client.post(credit, {"action": "external_payment", "method": "bank_transfer", "amount": "25",
                         "comment": "Term fees", "key": "00000000-0000-0000-0000-000000000001"})  # fmt: skip
    assert _balance(books.hub, school.account_id) == 12500
    response = client.post(url, {"email": "ANA@example.org", "limit": "30"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Ana Lopez" in page and "€30.00" in page and "€125.00" in page
    assert "Bank transfer: Term fees" in page  # in the organisation's history, in the reader's language
    assert "No customer of this hub has the email" in client.post(url, {"email": "who@example.org"}).content.decode()
    client.post(url, {"remove": str(ana.account_id)})
    assert "Ana Lopez" not in client.get(url).content.decode()

    support = user_create(email="support@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=books.hub, user=support, role=Role.SUPPORT)
    client.force_login(support)
    assert client.get(url).status_code == 200
    assert client.post(url, {"email": "ana@example.org"}).status_code == 403
    assert client.post(reverse("organisation_index", args=[books.hub.slug]), {"name": "X"}).status_code == 403
