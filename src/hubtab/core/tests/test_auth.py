"""Logins: sign-up with a proven address, password reset by email, and failed-login limits.

Emails go through a real SMTP server (aiosmtpd) started by the test.
"""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from hubtab.core.models import Membership, User
from hubtab.core.services import user_create
from hubtab.crm.models import Customer
from hubtab.crm.services import customer_create
from hubtab.testing import mail_text

pytestmark = pytest.mark.django_db

PASSWORD = "green-beans-2026"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # the failed-login counters live in the cache
    yield
    cache.clear()


def _link(message) -> str:
    match = re.search(r"https?://\S+", mail_text(message))
    assert match, mail_text(message)
    return match.group(0)


def test_a_customer_signs_up_proves_the_address_and_sees_the_account_the_hub_keeps(client, books, smtp_server):
    record = customer_create(hub=books.hub, email="marie@example.org", first_name="Marie", last_name="Dubois")
    books.top_up(record.account, 3000)

    response = client.post(
        reverse("account_signup"), {"email": "Marie@Example.org", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    # Not linked yet: anyone could type that address.
    record.refresh_from_db()
    assert record.user_id is None
    assert client.get(reverse("portal")).status_code == 302  # not logged in before the address is proven

    assert len(smtp_server) == 1
    assert smtp_server[0]["To"] == "marie@example.org"
    confirm_url = _link(smtp_server[0])
    path = confirm_url.split("testserver", 1)[-1]
    assert client.get(path).status_code == 200
    response = client.post(path, follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal")

    record.refresh_from_db()
    user = User.objects.get(email="marie@example.org")
    assert record.user_id == user.id
    assert Membership.objects.across_hubs().filter(hub=books.hub, user=user, role="customer").exists()
    portal = response.content.decode()
    assert books.hub.name in portal and "€30.00" in portal


def test_signing_up_with_an_address_already_taken_is_refused_without_saying_more(client, smtp_server):
    user_create(email="taken@example.org", password=PASSWORD, email_verified=True)
    response = client.post(
        reverse("account_signup"), {"email": "taken@example.org", "password1": PASSWORD, "password2": PASSWORD}
    )
    # allauth answers as for a new sign-up and mails the owner instead, so nobody learns who has a login.
    assert response.status_code == 302
    assert User.objects.filter(email="taken@example.org").count() == 1
    assert len(smtp_server) == 1 and smtp_server[0]["To"] == "taken@example.org"


def test_a_forgotten_password_is_reset_through_the_emailed_link(client, smtp_server):
    user_create(email="hugo@example.org", password=PASSWORD, email_verified=True)
    response = client.post(reverse("account_reset_password"), {"email": "hugo@example.org"})
    assert response.status_code == 302
    assert len(smtp_server) == 1
    reset_path = _link(smtp_server[0]).split("testserver", 1)[-1]
    form_page = client.get(reset_path, follow=True)
    assert form_page.status_code == 200
    set_path = form_page.redirect_chain[-1][0] if form_page.redirect_chain else reset_path
    response = client.post(set_path, {"password1": "new-carrots-2026", "password2": "new-carrots-2026"})
    assert response.status_code == 302
    client.logout()
    assert client.login(username="hugo@example.org", password="new-carrots-2026")
    assert not client.login(username="hugo@example.org", password=PASSWORD)


def test_repeated_wrong_passwords_are_stopped_even_when_the_right_one_follows(client):
    user_create(email="owner@example.org", password=PASSWORD, email_verified=True)
    url = reverse("account_login")
    for _ in range(5):
        response = client.post(url, {"login": "owner@example.org", "password": "guess"})
        assert response.status_code == 200 and "not correct" in response.content.decode()
    response = client.post(url, {"login": "owner@example.org", "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address from the same place is not locked out by them.
    user_create(email="finance@example.org", password=PASSWORD, email_verified=True)
    client.post(url, {"login": "finance@example.org", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(User.objects.get(email="finance@example.org").pk)


def test_an_unproven_address_cannot_log_in_and_is_sent_a_new_link(client, smtp_server):
    user_create(email="new@example.org", password=PASSWORD, email_verified=False)
    response = client.post(reverse("account_login"), {"login": "new@example.org", "password": PASSWORD})
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    assert "_auth_user_id" not in client.session
    assert len(smtp_server) == 1


def test_a_record_made_by_crew_for_a_proven_address_is_linked_at_once(books):
    user = user_create(email="lea@example.org", password=PASSWORD, email_verified=True)
    record = customer_create(hub=books.hub, email="LEA@example.org")
    assert Customer.objects.across_hubs().get(id=record.id).user_id == user.id


def test_a_shared_network_is_not_locked_out_by_others_typos(client):
    """A market hall's Wi-Fi: many people, one IP. Others' failures don't block a correct login."""
    url = reverse("account_login")
    for n in range(12):  # more than the old per-IP limit of 10 a minute, spread over addresses
        user_create(email=f"stall{n}@example.org", password=PASSWORD, email_verified=True)
        client.post(url, {"login": f"stall{n}@example.org", "password": "typo"})
    user_create(email="owner@example.org", password=PASSWORD, email_verified=True)
    client.post(url, {"login": "owner@example.org", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(User.objects.get(email="owner@example.org").pk)


def test_failures_from_elsewhere_do_not_lock_a_person_out(client):
    user_create(email="owner@example.org", password=PASSWORD, email_verified=True)
    url = reverse("account_login")
    for _ in range(6):  # a stranger, from another address
        client.post(url, {"login": "owner@example.org", "password": "guess"}, REMOTE_ADDR="203.0.113.9")
    stranger = client.post(url, {"login": "owner@example.org", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert "Too many failed login attempts" in stranger.content.decode()  # the stranger's place is stopped
    client.post(url, {"login": "owner@example.org", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert client.session["_auth_user_id"] == str(User.objects.get(email="owner@example.org").pk)


@pytest.mark.parametrize(("language", "words"), [("en", ["Hello,", "Hubtab: the credit account"]),
                                                 ("fr", ["Bonjour,", "Hubtab : le compte crédit"])])  # fmt: skip
def test_account_emails_speak_as_hubtab_in_the_readers_language(client, smtp_server, language, words):
    client.post(reverse("account_signup"), {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
                HTTP_ACCEPT_LANGUAGE=language)  # fmt: skip
    client.post(reverse("account_reset_password"), {"email": "new@example.org"}, HTTP_ACCEPT_LANGUAGE=language)
    assert len(smtp_server) == 2
    for message in smtp_server:
        text = mail_text(message)
        assert "Hello from" not in text and "example.com" not in text and "testserver!" not in text
        assert all(word in text for word in words), text
        assert message["Subject"].startswith("[Hubtab]")
