"""The demo instance: three hubs with crew, customers, eight weeks of account history and a shop,
all made through the services, as the hubs' people would have made them."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from hubtab.accounts.services import bundle_create, credit_settings_update, credit_unit_choose, unit_price_set
from hubtab.core.models import Hub, Role, User
from hubtab.core.services import hub_create, membership_grant, user_create
from hubtab.payments.services import gateway_account_set
from hubtab.web.demo.crm import crm_seed
from hubtab.web.demo.data import CUSTOMER_LOGIN, DEMO_WEBHOOK_SECRET, HUBS, PASSWORD, SHOPS
from hubtab.web.demo.history import accounts_seed, demo_customer_link
from hubtab.web.demo.shop import shop_cycles, shop_seed

LOGIN_HELP = (
    "\nHubtab demo is ready. Log in at http://127.0.0.1:8000/accounts/login/ with password "
    f"'{PASSWORD}' as:\n"
    "  owner@green-valley.example    hub owner, Green Valley Food Hub (EUR, fr)\n"
    "  finance@green-valley.example  finance crew\n"
    "  support@green-valley.example  support crew\n"
    "  owner@riverside.example       hub owner, Riverside Co-op (GBP, en)\n"
    "  owner@kai-collective.example  hub owner, Kai Collective (kai credits, 10 for NZ$1)\n"
    f"  {CUSTOMER_LOGIN}       a customer of every demo hub (their accounts at /me/)\n"
    "  admin@hubtab.example          platform admin (Django admin at /admin/)\n"
    "People (the CRM): under Customers, leads who never ordered, lapsed customers and saved segments\n"
    "  (Segments and counts); notes with follow-ups due on the overview; the Mailchimp import under Import.\n"
    "The shop: customers at /me/green-valley/shop/ (this week's cycle is open); crew under Orders, where\n"
    "  this week's orders wait to be weighed and completed.\n"
    "Emails the app sends (sign-up confirmations, password resets, invitations, receipts) land in var/mail/.\n"
    "Card top-ups (My accounts → Top up) go to localstripe, a local fake Stripe: no real money moves.\n"
    "  Card 4242 4242 4242 4242 pays; 4000 0027 6000 3184 asks for the bank's check; 4000 0000 0000 0341\n"
    "  is declined. Any future expiry date and any CVC.\n"
)


def demo_exists() -> bool:
    return Hub.objects.filter(slug=HUBS[0]["slug"]).exists()


def demo_seed(say: Callable[[str], object]) -> None:
    """Create the demo hubs, played in time order; `say` hears one line per hub."""
    rng = random.Random(7)
    if not User.objects.filter(email="admin@hubtab.example").exists():
        user_create(
            email="admin@hubtab.example", password=PASSWORD, email_verified=True, is_staff=True, is_superuser=True
        )
    for spec in HUBS:
        hub = hub_create(**{k: spec[k] for k in ("slug", "name", "currency", "timezone", "locale")})
        roles = [Role.OWNER, Role.FINANCE, Role.SUPPORT] if spec["slug"] == "green-valley" else [Role.OWNER]
        for role in roles:
            user = user_create(
                email=f"{role}@{spec['slug']}.example", password=PASSWORD, email_verified=True, first_name=role.label
            )
            membership_grant(hub=hub, user=user, role=role)
        owner = User.objects.get(email=f"owner@{spec['slug']}.example")
        if "unit" in spec:
            credit_unit_choose(hub=hub, actor=owner, **spec["unit"])
            unit_price_set(hub=hub, actor=owner, **spec["price"])
        credit_settings_update(hub=hub, actor=owner, **spec["credit"])
        for bundle in spec.get("bundles", []):
            bundle_create(hub=hub, actor=owner, **bundle)
        # Card payments go to localstripe, the local fake Stripe that scripts/demo-run starts.
        gateway_account_set(
            hub=hub, actor=owner, publishable_key="pk_test_demo", secret_key="sk_test_demo",
            webhook_secret=DEMO_WEBHOOK_SECRET,
        )  # fmt: skip
        shop = SHOPS.get(spec["slug"])
        cycles = shop_cycles(hub, shop["weeks"]) if shop else []
        shoppers: dict[int, datetime] = {}
        if shop:
            # The shop's customers stop their plain weekly charges when its first week opens (a
            # newcomer's never start): their orders are the shop's from then on, played after
            # the history, so each account's entries still come in time order.
            shoppers = {order["customer"]: cycles[0][0] for order in shop["orders"]}
            shoppers.update({index: datetime.min.replace(tzinfo=UTC) for index in shop.get("newcomers", [])})
        # The last crew member entered the customers.
        customers = accounts_seed(hub, spec["customers"], rng, crew=user, shoppers=shoppers)
        demo_customer_link(hub)
        summary = ""
        if shop:
            shop_seed(hub, shop, cycles, customers, owner=owner, crew=user)
            summary = f", a shop of {len(shop['products'])} products with {len(shop['orders'])} orders"
        people = crm_seed(hub, customers, owner=owner, crew=user, has_shop=bool(shop))
        leads = len(people.registered) + len(people.crew)
        say(
            f"Seeded {hub.name} with {spec['customers']} customer accounts{summary}, {leads} leads and a "
            f"mailing list imported, {len(people.lapsed)} lapsed customers, notes and saved segments."
        )
