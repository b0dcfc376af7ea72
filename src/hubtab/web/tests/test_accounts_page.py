"""The hub's accounts page: crew see balances in the hub's locale; nobody else sees the hub at all."""

import pytest
from django.urls import reverse

from hubtab.core.models import Role, User
from hubtab.core.services import membership_grant, user_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(hub):
    user = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.OWNER)
    return user


def test_the_accounts_page_needs_a_login(client, hub):
    response = client.get(reverse("hub_accounts", args=[hub.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(("language", "balance", "limit"), [("en", "-€7.50", "-€50.00"),
                                                             ("fr", "-7,50\u00a0€", "-50,00\u00a0€")])  # fmt: skip
def test_crew_see_each_account_with_its_balance_in_their_own_language(client, books, owner, language, balance, limit):
    alice = books.customer("Alice Martin", floor_minor=-5000)
    books.top_up(alice, 1250)
    books.spend(alice, 2000)
    client.force_login(owner)
    page = client.get(reverse("hub_accounts", args=[books.hub.slug]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert "Alice Martin" in page
    assert balance in page  # one way of writing numbers on a page: the reader's, whatever the hub's
    assert limit in page  # the account's spending limit
    assert page.index("Alice Martin") < page.index("Hub books" if language == "en" else "Comptes du comptoir")


def test_login_with_email_and_password_lands_on_the_hub(client, hub, owner):
    response = client.post(
        reverse("account_login"), {"login": "Owner@Example.org", "password": "pw-long-enough"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard", args=[hub.slug])


def test_a_customer_of_the_hub_is_refused_the_crew_page(client, hub):
    user = User.objects.create_user("someone@example.org", "pw-long-enough")
    membership_grant(hub=hub, user=user, role=Role.CUSTOMER)
    client.force_login(user)
    assert client.get(reverse("hub_accounts", args=[hub.slug])).status_code == 403


def test_pages_carry_a_content_security_policy(client):
    policy = client.get(reverse("account_login"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
