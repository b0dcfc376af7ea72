"""In a real Chromium, in French: an owner sets the hub's credit rules, switches to named tokens
with a price and a bundle, and records a customer's cash payment, which buys tokens."""

import pytest

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.ledger.models import Lot
from hubtab.testing import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner(hub):
    user = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True, first_name="Anne")
    membership_grant(hub=hub, user=user, role=Role.OWNER)
    return user


def _log_in_in_french(browser, base_url, viewport):
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill("owner@example.org")
    page.get_by_label("Mot de passe").fill("pw-long-enough")
    page.get_by_role("button", name="Se connecter").click()
    return context, page


def test_an_owner_sets_the_credit_rules_and_sells_tokens_with_a_bundle_in_french(live_server, browser, hub, owner):
    marie = customer_create(hub=hub, email="marie@example.org", first_name="Marie", last_name="Dubois")
    context, page = _log_in_in_french(browser, live_server.url, {"width": 1280, "height": 900})
    page.get_by_role("link", name="Réglages du crédit").click()

    page.get_by_label("Comment les clients peuvent payer").select_option("credit_only")
    page.get_by_label("Limite de dépense").fill("-20")
    page.get_by_label("Montants de rechargement proposés").fill("10 20 50")
    page.get_by_label("Bonus de rechargement (%)").fill("2,5")
    page.get_by_role("button", name="Enregistrer les réglages").click()
    assert page.get_by_text("Réglages du crédit enregistrés.").is_visible()
    assert page.get_by_label("Bonus de rechargement (%)").input_value() == "2,50"

    page.get_by_label("Crédits nommés, par ex. jetons").check()
    page.get_by_label("Nom", exact=True).first.fill("jetons")
    page.get_by_label("Code", exact=True).fill("JETON")
    page.get_by_role("button", name="Enregistrer l'unité").click()
    assert page.get_by_text("Le crédit des clients se compte en jetons.").is_visible()
    assert page.get_by_text("Les jetons n'ont pas encore de prix").is_visible()

    page.get_by_label("Crédits", exact=True).fill("10")
    page.get_by_label("Prix", exact=True).fill("1")
    page.get_by_role("button", name="Enregistrer le prix").click()
    assert page.get_by_text("10,00 jetons pour 1,00\u00a0€").is_visible()

    page.get_by_label("Nom", exact=True).last.fill("Panier famille")
    page.get_by_label("Le client paie").fill("20")
    page.get_by_label("Le client reçoit (jetons)").fill("220")
    page.get_by_role("button", name="Ajouter l'offre").click()
    assert page.get_by_text("payez 20,00\u00a0€, recevez 220,00 jetons").is_visible()
    screenshot(page, "credit-settings-tokens-fr-laptop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "credit-settings-tokens-fr-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Marie pays 20 € in cash at the till: the bundle's 220 tokens, 20 of them a bonus.
    page.goto(f"{live_server.url}/hubs/{hub.slug}/customers/{marie.id}/credit/")
    page.get_by_label("Enregistrer un paiement reçu (espèces, virement, caisse)").check()
    page.get_by_label("Montant").fill("20")
    page.get_by_label("Payé par").select_option("cash")
    page.get_by_label("Pourquoi").fill("Marché du samedi")
    page.get_by_role("button", name="Enregistrer l'opération").click()
    assert "220,00 jetons" in page.locator(".card.figure").first.inner_text()
    screenshot(page, "customer-tokens-fr-laptop")
    lots = Lot.objects.across_hubs().filter(account_id=marie.account_id)
    assert dict(lots.values_list("kind", "amount_minor")) == {"paid": 20000, "granted": 2000}

    # Credit has moved: the unit stays, and the page says so.
    page.get_by_role("link", name="Réglages du crédit").click()
    assert page.get_by_text("Des clients détiennent déjà du crédit en jetons").is_visible()
    assert page.get_by_label("Code", exact=True).is_disabled()
    context.close()
