"""No page is wider than the window: every crew page (as the owner, who sees them all) and every
customer page, in English and in French, on a laptop (1280 px) and a phone (390 px), in Chromium.
A page that scrolls sideways hides its buttons and its last columns."""

import pytest
from django.urls import reverse

from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.testing import browser_login, hub_page_patterns, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CUSTOMER_PAGES = ["portal", "portal_hub", "topup", "auto_top_up", "shop", "shop_cart", "shop_checkout", "my_orders",
                  "my_order"]  # fmt: skip

# Finds what sticks out, for the failure message.
WIDEST = """() => {
  const width = window.innerWidth;
  const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return true; } return false; };
  const out = [...document.querySelectorAll('body *')].filter(e => {
      const box = e.getBoundingClientRect();
      return box.width > 0 && box.right > width + 1 && !clipped(e); });
  const past = out.map(e => e.getBoundingClientRect().right - width);
  return {overflow: Math.max(document.documentElement.scrollWidth - width, ...past, 0),
    culprits: out.slice(-3).map(e => `${e.tagName}.${e.className}: ${(e.textContent || '').trim().slice(0, 30)}`)};
}"""


def _pages_wider_than_the_window(page, base, paths):
    wide, seen = [], 0
    for path in paths:
        # Asked first with the page's cookies: action pages (POST only) and redirects are not pages.
        answer = page.request.get(base + path, max_redirects=0)
        if answer.status != 200:
            continue
        seen += 1
        page.goto(base + path)
        found = page.evaluate(WIDEST)
        if found["overflow"] > 1:
            wide.append((path, round(found["overflow"]), found["culprits"]))
    assert seen >= len(paths) // 2, f"only {seen} of {len(paths)} pages could be opened"
    return wide


@pytest.fixture
def people(hub, hub_page_url):
    from hubtab.crm.models import Customer
    from hubtab.shop.services import cart_save

    owner = user_create(email="owner@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=owner, role=Role.OWNER)
    customer = Customer.objects.across_hubs().get(hub=hub, email="someone@example.org")
    user = user_create(email="someone@example.org", password="pw-long-enough", email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.CUSTOMER)
    Customer.objects.across_hubs().filter(id=customer.id).update(user=user)
    from hubtab.shop.models import Variant

    cart_save(customer=customer, items={Variant.objects.across_hubs().get(hub=hub).id: 2})
    return {"owner": owner, "customer": customer}


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_page_scrolls_sideways(live_server, browser, hub, hub_page_url, people, language, width):
    from hubtab.shop.models import Order

    crew_paths = [hub_page_url(pattern, hub.slug) for pattern in hub_page_patterns()]
    crew_paths = [path for path in crew_paths if not path.endswith((".csv", ".pdf"))]  # files, not pages
    order_id = Order.objects.across_hubs().get(hub=hub).id
    customer_paths = [
        reverse(name, kwargs={"hub_slug": hub.slug} | ({"order_id": order_id} if name == "my_order" else {}))
        if name != "portal" else reverse(name)
        for name in CUSTOMER_PAGES
    ]  # fmt: skip
    wide = []
    for email, paths in (("owner@example.org", crew_paths), ("someone@example.org", customer_paths)):
        context = browser.new_context(viewport=WIDTHS[width], locale={"en": "en-GB", "fr": "fr-FR"}[language])
        page = context.new_page()
        browser_login(page, live_server.url, email) if language == "en" else _login_fr(page, live_server.url, email)
        page.wait_for_url(lambda url: "/accounts/" not in url)
        wide += _pages_wider_than_the_window(page, live_server.url, paths)
        if wide:
            screenshot(page, f"too-wide-{language}-{width}")
        context.close()
    assert wide == [], "\n".join(f"{path}: {px} px too wide; {culprits}" for path, px, culprits in wide)


def _login_fr(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill("pw-long-enough")
    page.get_by_role("button", name="Se connecter").click()
