"""The pages the money-bug issue fixed, in a real Chromium, in English and French, on a laptop and
a phone: a big amount asks first, bulk credit shows who and how much, removing a role asks first,
an order's posting is not reversed by hand, a weight is asked before completing, and a refusal
page has the layout. Screenshots go to test-artifacts/ (money-fixes-*)."""

import pytest

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.services import customer_create
from hubtab.testing import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"laptop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
WORDS = {
    "en": {"login": ("Email", "Password", "Log in"), "ask": "is more than this hub", "who": "customers get",
           "remove": "will no longer be", "via": "via the order", "weigh": "Weigh Whole chicken",
           "complete": "Complete the order",
           "role": "This page is not for your role"},
    "fr": {"login": ("E-mail", "Mot de passe", "Se connecter"), "ask": "dépasse le plus gros rechargement",
           "who": "clients reçoivent", "remove": "ne sera plus", "via": "via la commande",
           "weigh": "Pesez Whole chicken", "complete": "Terminer la commande",
           "role": "Cette page n\u2019est pas pour votre rôle"},
}  # fmt: skip


@pytest.fixture
def scene(shop):
    owner = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=shop.hub, user=owner, role=Role.OWNER)
    support = user_create(email="support@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=shop.hub, user=support, role=Role.SUPPORT)
    for first in ("Marie", "Hugo", "Lea"):
        customer_create(hub=shop.hub, email=f"{first.lower()}@example.org", first_name=first, last_name="Dupont",
                        tags=["box"])  # fmt: skip
    from hubtab.shop.services import order_complete

    buyer = shop.customer("buyer@example.org", credit_minor=5000)
    done = order_complete(hub=shop.hub, actor=None, order_id=shop.place(buyer, {shop.eggs.id: 1}).id)
    open_order = shop.place(buyer, {shop.chicken.id: 1})
    return {"shop": shop, "buyer": buyer, "done": done, "open": open_order, "support": support}


def _log_in(browser, base, email, size, language):
    context = browser.new_context(viewport=SIZES[size], locale={"en": "en-GB", "fr": "fr-FR"}[language])
    page = context.new_page()
    label_email, label_password, button = WORDS[language]["login"]
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(label_email).fill(email)
    page.get_by_label(label_password).fill("pw-long-enough")
    page.get_by_role("button", name=button).click()
    page.wait_for_url(lambda url: "/accounts/" not in url)
    return context, page


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_fixed_pages_in_both_languages_and_sizes(live_server, browser, scene, language, size):
    hub, base, words = scene["shop"].hub, live_server.url, WORDS[language]
    context, page = _log_in(browser, base, "owner@example.org", size, language)
    name = f"money-fixes-{language}-{size}"

    page.goto(f"{base}/hubs/{hub.slug}/customers/{scene['buyer'].id}/credit/")
    page.locator("input[name=action][value=add_paid]").check()
    page.locator("input[name=amount]").fill("1,500" if language == "en" else "1 500")
    page.locator("textarea[name=comment]").fill("Goodwill")
    page.locator("form.card.form button.primary").first.click()
    page.get_by_text(words["ask"]).wait_for()
    screenshot(page, f"{name}-large-amount")

    page.goto(f"{base}/hubs/{hub.slug}/customers/credit/")
    page.locator("select[name=tag]").select_option("box")
    page.locator("input[name=action][value=add_granted]").check()
    page.locator("input[name=amount]").fill("5")
    page.locator("textarea[name=comment]").fill("Late boxes")
    page.locator("form.card.form button.primary").click()
    page.get_by_text(words["who"]).wait_for()
    screenshot(page, f"{name}-bulk-preview")

    page.goto(f"{base}/hubs/{hub.slug}/customers/{scene['buyer'].id}/")
    assert page.get_by_text(words["via"]).first.is_visible()
    screenshot(page, f"{name}-customer-history")

    page.goto(f"{base}/hubs/{hub.slug}/team/")
    page.locator("form.inline button.link").first.click()
    page.get_by_text(words["remove"]).wait_for()
    screenshot(page, f"{name}-team-remove")

    page.goto(f"{base}/hubs/{hub.slug}/shop/orders/{scene['open'].id}/")
    page.get_by_role("button", name=words["complete"]).click()
    page.get_by_text(words["weigh"]).wait_for()
    screenshot(page, f"{name}-weigh-first")
    context.close()

    context, page = _log_in(browser, base, "support@example.org", size, language)
    response = page.goto(f"{base}/hubs/{hub.slug}/settings/credit/")
    assert response.status == 403 and page.get_by_text(words["role"]).is_visible()
    screenshot(page, f"{name}-forbidden")
    context.close()
