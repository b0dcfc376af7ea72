"""`hubtab demo`: seed a believable demo instance (once) and print how to log in."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import time_machine
from django.core.management.base import BaseCommand
from django.utils import timezone

from hubtab.accounts.selectors import credit_unit_of, topup_quote
from hubtab.accounts.services import (
    bundle_create,
    credit_settings_update,
    credit_unit_choose,
    purchase_legs,
    unit_price_set,
)
from hubtab.core.models import Hub, Role, User
from hubtab.core.services import hub_create, membership_grant, user_create
from hubtab.crm.models import Customer
from hubtab.crm.services import customer_create
from hubtab.ledger import services
from hubtab.ledger.models import Account
from hubtab.ledger.services import SystemAccount
from hubtab.ledger.types import Leg
from hubtab.payments.services import gateway_account_set

PASSWORD = "hubtab-demo"
DEMO_WEBHOOK_SECRET = "whsec_hubtab_demo"  # scripts/demo-run registers it with localstripe
HISTORY_WEEKS = 8
CUSTOMER_LOGIN = "customer@hubtab.example"
FIRST = [
    "Marie",
    "Lucas",
    "Emma",
    "Hugo",
    "Léa",
    "Louis",
    "Chloé",
    "Gabriel",
    "Inès",
    "Jules",
    "Manon",
    "Arthur",
    "Olivia",
    "Noah",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Oscar",
    "Freya",
    "Jack",
    "Mia",
    "Leo",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Evans",
    "Walker",
    "Hughes",
]

TAGS = ["veg box", "weekly", "school", "volunteer", "producer", "new"]
HUBS: list[dict[str, Any]] = [
    {
        "slug": "green-valley",
        "name": "Green Valley Food Hub",
        "currency": "EUR",
        "timezone": "Europe/Paris",
        "locale": "fr",
        "customers": 150,
        "credit": {
            "payment_policy": "credit_first",
            "topup_presets_minor": [2000, 5000, 10000],
            "low_balance_minor": 1000,
        },
    },
    {
        "slug": "riverside",
        "name": "Riverside Co-op",
        "currency": "GBP",
        "timezone": "Europe/London",
        "locale": "en",
        "customers": 150,
        "credit": {
            "payment_policy": "credit_only",
            "topup_presets_minor": [1000, 2000, 5000],
            "topup_bonus_percent": Decimal(5),
        },
    },
    {
        # A hub counting in named credits: 10 credits for NZ$1, with a bundle.
        "slug": "kai-collective",
        "name": "Kai Collective",
        "currency": "NZD",
        "timezone": "Pacific/Auckland",
        "locale": "en_NZ",
        "customers": 60,
        "unit": {"code": "KAI", "name": "kai credits", "decimals": 0},
        "price": {"currency": "NZD", "credits_minor": 10, "price_minor": 100},
        "bundles": [{"name": "Whānau pack", "currency": "NZD", "price_minor": 5000, "credits_minor": 550}],
        "credit": {
            "payment_policy": "credit_only",
            "topup_min_minor": 100,
            "topup_max_minor": 5000,
            "topup_presets_minor": [200, 500, 1000],
            "low_balance_minor": 100,
        },
    },
]


class Command(BaseCommand):
    help = "Create the demo hubs, crew and customers with account history (skipped if they exist)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not Hub.objects.filter(slug=HUBS[0]["slug"]).exists():
            self.seed()
        self.stdout.write(
            "\nHubtab demo is ready. Log in at http://127.0.0.1:8000/accounts/login/ with password "
            f"'{PASSWORD}' as:\n"
            "  owner@green-valley.example    hub owner, Green Valley Food Hub (EUR, fr)\n"
            "  finance@green-valley.example  finance crew\n"
            "  support@green-valley.example  support crew\n"
            "  owner@riverside.example       hub owner, Riverside Co-op (GBP, en)\n"
            "  owner@kai-collective.example  hub owner, Kai Collective (kai credits, 10 for NZ$1)\n"
            f"  {CUSTOMER_LOGIN}       a customer of every demo hub (their accounts at /me/)\n"
            "  admin@hubtab.example          platform admin (Django admin at /admin/)\n"
            "Emails the app sends (sign-up confirmations, password resets, invitations, receipts) land in var/mail/.\n"
            "Card top-ups (My accounts → Top up) go to localstripe, a local fake Stripe: no real money moves.\n"
            "  Card 4242 4242 4242 4242 pays; 4000 0027 6000 3184 asks for the bank's check; 4000 0000 0000 0341\n"
            "  is declined. Any future expiry date and any CVC.\n"
        )

    def seed(self) -> None:
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
                    email=f"{role}@{spec['slug']}.example",
                    password=PASSWORD,
                    email_verified=True,
                    first_name=role.label,
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
            self.seed_accounts(hub, spec["customers"], rng, crew=user)  # the last crew member entered them
            self.link_demo_customer(hub)
            self.stdout.write(f"Seeded {hub.name} with {spec['customers']} customer accounts.")

    def link_demo_customer(self, hub: Hub) -> None:
        """The demo customer login is the hub's first customer record, at both hubs."""
        user = User.objects.filter(email=CUSTOMER_LOGIN).first() or user_create(
            email=CUSTOMER_LOGIN, password=PASSWORD, email_verified=True, first_name="Marie"
        )
        first = Customer.objects.with_scopes_disabled().filter(hub=hub).order_by("id").first()
        assert first is not None
        Customer.objects.with_scopes_disabled().filter(id=first.id).update(user=user)
        membership_grant(hub=hub, user=user, role=Role.CUSTOMER)

    def seed_accounts(self, hub: Hub, count: int, rng: random.Random, crew: User) -> None:
        """Eight weeks of a hub's life, played in time order: customers join, top up, order
        most weeks, top up again when they run short; a few get welcome credit. The clock is
        moved to each moment (time-machine), so the history carries real dates."""
        unit = credit_unit_of(hub=hub).code

        def in_unit(cents: int) -> int:
            """An amount in the hub's currency, as the credit it buys at the hub's price."""
            return topup_quote(hub=hub, currency=hub.currency, price_minor=cents).paid_minor

        sales = services.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=unit)
        goodwill = services.account_system_get(hub_id=hub.id, code=SystemAccount.GRANTED_CREDIT_EXPENSE, unit=unit)
        now = timezone.now()
        start = now - timedelta(weeks=HISTORY_WEEKS)
        accounts: list[tuple[int, int]] = []  # (account id, floor)
        holders: dict[int, Account] = {}
        with time_machine.travel(start, tick=False):
            for n in range(count):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                customer = customer_create(
                    hub=hub,
                    email=f"{first}.{last}.{n}@example.org".lower().replace("é", "e").replace("è", "e"),
                    first_name=first,
                    last_name=last,
                    phone=f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {n:02d}",
                    code=f"C{n + 1:04d}",
                    tags=rng.sample(TAGS, rng.randint(0, 2)),
                    actor=crew,
                )
                floor = -in_unit(5000) if n % 4 == 0 else 0
                if floor:
                    services.account_floor_set(hub_id=hub.id, account_id=customer.account_id, floor_minor=floor)
                accounts.append((customer.account_id, floor))
                holders[customer.account_id] = customer.account

        # Every customer's week: maybe an order, on a random day and hour; played in time order.
        moments = []
        for index in range(len(accounts)):
            for week in range(HISTORY_WEEKS):
                if week == 0 or rng.random() < 0.7:
                    at = start + timedelta(weeks=week, days=rng.randint(0, 6), hours=rng.randint(7, 20))
                    moments.append((min(at, now - timedelta(hours=1)), index, week))
        moments.sort()
        balances = [0] * len(accounts)

        def post(at: datetime, key: str, kind: str, memo: str, legs: list[Leg]) -> None:
            with time_machine.travel(at, tick=False):
                services.transaction_post(hub_id=hub.id, key=key, kind=kind, memo=memo, legs=legs)

        for at, index, week in moments:
            account_id, floor = accounts[index]
            key = f"demo-{account_id}-w{week}"
            spend = in_unit(rng.randint(800, 4500))
            if week == 0 or balances[index] - spend < floor:
                quote = topup_quote(hub=hub, currency=hub.currency, price_minor=rng.choice([2000, 3000, 5000, 10000]))
                account = holders[account_id]
                legs = purchase_legs(hub=hub, account=account, quote=quote, source_code=SystemAccount.PAYMENTS_CLEARING)
                post(at - timedelta(minutes=30), f"{key}-topup", "top_up", "Card top-up", legs)
                balances[index] += quote.total_minor
            if week == 0 and index % 3 == 0:
                welcome = in_unit(500)
                legs = [
                    Leg(goodwill.id, -welcome, unit),
                    Leg(account_id, welcome, unit, lot_kind="granted", lot_expires_at=at + timedelta(days=60)),
                ]
                post(at - timedelta(minutes=20), f"{key}-welcome", "grant", "Welcome credit", legs)
                balances[index] += welcome
            if balances[index] - spend >= floor:
                legs = [Leg(account_id, -spend, unit), Leg(sales.id, spend, unit)]
                post(at, f"{key}-order", "charge", "Weekly order", legs)
                balances[index] -= spend

        for index, (account_id, floor) in enumerate(accounts):
            if index % 5 == 0 and balances[index] - floor > in_unit(1500):
                services.hold_place(
                    hub_id=hub.id,
                    key=f"demo-{account_id}-open-order",
                    account_id=account_id,
                    amount_minor=in_unit(1500),
                    reference="Open order, pickup Saturday",
                    expires_at=now + timedelta(days=5),
                )
