"""Pages in English and in French: the person picks, and every amount and date on the page follows their language."""

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.urls import reverse

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"


@pytest.fixture
def owner_client(client, hub):
    user = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.OWNER)
    client.force_login(user)
    return client


def test_a_french_speaker_gets_french_pages(owner_client, hub):
    page = owner_client.get(reverse("dashboard", args=[hub.slug]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Crédit client détenu" in page and "Derniers mouvements" in page and 'lang="fr"' in page
    assert "Customer credit held" not in page


def test_the_language_switch_sticks_across_pages(owner_client, hub):
    response = owner_client.post(reverse("set_language"), {"language": "fr", "next": reverse("home")})
    assert response.status_code == 302
    page = owner_client.get(reverse("customer_index", args=[hub.slug]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Segments et effectifs" in page
    owner_client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert "Segments and counts" in owner_client.get(reverse("customer_index", args=[hub.slug])).content.decode()


def test_the_login_page_speaks_french_too(client):
    page = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Se connecter à Hubtab" in page and "Mot de passe oublié" in page


def test_every_message_is_translated_and_the_compiled_catalogue_is_current():
    for po_path in LOCALE_DIR.glob("*/LC_MESSAGES/django.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy or not all(m.string))]
        assert untranslated == [], f"{po_path}: untranslated {untranslated}"
        with po_path.with_suffix(".mo").open("rb") as mo_file:
            compiled = read_mo(mo_file)
        assert _messages(compiled) == _messages(catalog), f"{po_path.with_suffix('.mo')} is stale: run `make messages`"


def _messages(catalog) -> dict:
    """(context, id) -> translation, with plural forms as tuples so they compare (Babel reads a
    .mo file's contexts as bytes and a .po file's as text)."""
    return {
        (
            m.context.decode() if isinstance(m.context, bytes) else m.context,
            tuple(m.id) if isinstance(m.id, list | tuple) else m.id,
        ): tuple(m.string) if isinstance(m.string, list | tuple) else m.string
        for m in catalog
        if m.id
    }
