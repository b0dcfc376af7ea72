"""The platform admin manages hubs and people and can read (never edit) the ledger."""

import pytest
from django.urls import reverse

from hubtab.core.models import User

pytestmark = pytest.mark.django_db

PAGES = [
    "core_hub",
    "core_user",
    "core_membership",
    "core_creditunit",
    "ledger_account",
    "ledger_transaction",
    "ledger_entry",
    "ledger_hold",
    "ledger_lot",
]


@pytest.fixture
def admin_client(client, books):
    alice = books.customer("Alice")
    books.top_up(alice, 500)
    client.force_login(User.objects.create_superuser("admin@example.org", "pw-long-enough"))
    return client


@pytest.mark.parametrize("page", PAGES)
def test_every_admin_list_opens(admin_client, page):
    assert admin_client.get(reverse(f"admin:{page}_changelist")).status_code == 200


def test_ledger_rows_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:ledger_entry_add")).status_code == 403


def test_a_customer_cannot_open_the_admin(client, db):
    client.force_login(User.objects.create_user("c@example.org", "pw-long-enough"))
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_admin_names_every_model_in_good_english():
    from django.contrib import admin

    plurals = [str(model._meta.verbose_name_plural) for model in admin.site._registry]
    assert not [name for name in plurals if name.endswith("ys") and not name.endswith(("ays", "eys", "oys"))], plurals
