"""`hubtab demo`: seed a believable demo instance (once) and print how to log in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from itertools import cycle as repeat
from typing import Any
from zoneinfo import ZoneInfo

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
from hubtab.ledger.selectors import account_state
from hubtab.ledger.services import SystemAccount
from hubtab.ledger.types import Leg
from hubtab.payments.services import gateway_account_set
from hubtab.shop.models import FulfilmentOption, Order, OrderCycle, Variant
from hubtab.shop.selectors import checkout_quote, order_lines
from hubtab.shop.services import (
    cycle_save,
    fulfilment_add,
    order_cancel,
    order_complete,
    order_pack,
    order_place,
    order_refund,
    product_save,
    tier_save,
    variant_save,
)

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

# The demo hubs' shops. Orders name the customer by their place in the hub's list (0 is the demo
# customer login) and what they buy by variant key; "weeks_ago" 0 is the cycle open now, the
# others are closed, packed and picked up. "grams" are what crew weighed (else the estimate give
# or take a few percent), "packed" a quantity packed short; "cancel" and "refund" say why.
SHOPS: dict[str, dict[str, Any]] = {
    "green-valley": {
        "weeks": 3,  # closed weekly cycles before the open one
        "tiers": {"Bronze": 450, "Silver": 750, "Gold": 1200},
        "options": [("pickup", "Market hall pickup", 0), ("delivery", "Home delivery (valley villages)", 450)],
        "products": [
            {
                "name": "Free-range eggs",
                "producer": "Ferme des Trois Chênes",
                "description": "From hens that roam the orchard. Counted: the farm brings what it has each week.",
                "variants": {
                    "eggs6": {"name": "box of 6", "price_minor": 390, "stock": 48},
                    "eggs12": {"name": "box of 12", "price_minor": 720, "stock": 24},
                },
                "restock": True,
            },
            {
                "name": "Whole chicken",
                "producer": "Volailles Moreau",
                "description": "Free-range, slow-grown. Priced by weight: you pay what your bird weighs.",
                "variants": {
                    "chicken": {
                        "name": "(about 1.8 kg)",
                        "price_minor": 1290,
                        "by_weight": True,
                        "estimated_grams": 1800,
                    }
                },
            },
            {
                "name": "Comté, 18 months",
                "producer": "Fromagerie du Haut-Jura",
                "description": "Cut to order; priced by weight.",
                "variants": {
                    "comte": {
                        "name": "(a piece of about 300 g)",
                        "price_minor": 2690,
                        "by_weight": True,
                        "estimated_grams": 300,
                    }
                },
            },
            {
                "name": "Sourdough loaf",
                "producer": "Boulangerie Petit",
                "description": "Baked on Friday night with organic wheat and rye.",
                "variants": {"bread": {"name": "800 g", "tier": "Bronze"}},
            },
            {
                "name": "Seasonal vegetable box",
                "producer": "Les Jardins de la Vallée",
                "description": "What the garden gives this week, washed and boxed.",
                "variants": {
                    "veg_small": {"name": "small, for one or two", "price_minor": 1500},
                    "veg_family": {"name": "family size", "price_minor": 2400},
                },
            },
            {
                "name": "Wildflower honey",
                "producer": "Rucher des Coteaux",
                "description": "This summer's harvest: when the jars are gone, they are gone.",
                "variants": {
                    "honey250": {"name": "250 g jar", "tier": "Silver", "stock": 40},
                    "honey500": {"name": "500 g jar", "tier": "Gold", "stock": 20},
                },
            },
        ],
        "newcomers": [10],  # joined for the shop: no credit history before it
        "orders": [
            {"weeks_ago": 3, "customer": 1, "items": {"eggs6": 1, "veg_small": 1, "bread": 1}},
            {"weeks_ago": 3, "customer": 2, "items": {"chicken": 1, "veg_family": 1, "eggs12": 1}, "delivery": True},
            {"weeks_ago": 3, "customer": 3, "items": {"comte": 1, "bread": 2, "honey250": 1}},
            {
                "weeks_ago": 3,
                "customer": 5,
                "items": {"veg_small": 1, "eggs6": 1},
                "cancel": "Away this weekend, rang to cancel.",
            },
            {"weeks_ago": 3, "customer": 0, "items": {"chicken": 1, "comte": 1, "bread": 1}},
            {"weeks_ago": 3, "customer": 6, "items": {"veg_family": 1, "honey500": 1}, "delivery": True},
            {"weeks_ago": 2, "customer": 1, "items": {"eggs6": 2, "veg_small": 1}},
            {"weeks_ago": 2, "customer": 7, "items": {"chicken": 1, "bread": 2}, "packed": {"bread": 1}},
            {"weeks_ago": 2, "customer": 9, "items": {"comte": 2, "honey250": 1}},
            {
                "weeks_ago": 2,
                "customer": 2,
                "items": {"veg_family": 1, "eggs12": 1, "bread": 1},
                "delivery": True,
                "refund": (360, "Half of the eggs arrived broken."),
            },
            # Tops up just what checkout asks; the chicken and the cheese then weigh more than
            # estimated, past what the credit (no debt allowed) can pay: the rest is owed, and
            # collected with this customer's next order, the one open this week.
            {
                "weeks_ago": 2,
                "customer": 10,
                "items": {"chicken": 1, "comte": 1},
                "exact_topup": True,
                "grams": {"chicken": 1970, "comte": 285},
            },
            {"weeks_ago": 2, "customer": 0, "items": {"eggs6": 1, "veg_small": 1, "honey500": 1}},
            {"weeks_ago": 1, "customer": 1, "items": {"eggs6": 1, "veg_family": 1}},
            {"weeks_ago": 1, "customer": 3, "items": {"chicken": 1, "eggs6": 1, "bread": 1}},
            {"weeks_ago": 1, "customer": 5, "items": {"comte": 1, "veg_small": 1, "honey250": 1}},
            {"weeks_ago": 1, "customer": 6, "items": {"veg_family": 1, "eggs12": 1, "bread": 1}, "delivery": True},
            {"weeks_ago": 1, "customer": 0, "items": {"chicken": 1, "veg_small": 1}},
            {"weeks_ago": 1, "customer": 9, "items": {"eggs6": 1, "bread": 1}},
            {"weeks_ago": 0, "customer": 0, "items": {"eggs6": 1, "chicken": 1, "bread": 1, "honey250": 1}},
            {"weeks_ago": 0, "customer": 10, "items": {"veg_small": 1, "eggs6": 1}},
            {"weeks_ago": 0, "customer": 3, "items": {"veg_family": 1, "comte": 1}, "delivery": True},
            {"weeks_ago": 0, "customer": 7, "items": {"eggs12": 1, "bread": 2}},
            {"weeks_ago": 0, "customer": 5, "items": {"chicken": 1}},
        ],
    },
    "kai-collective": {
        "weeks": 0,
        "tiers": {"Small": 25, "Medium": 60, "Large": 150},  # kai credits, 10 for NZ$1
        "options": [("pickup", "Marae kitchen pickup", 0)],
        "products": [
            {
                "name": "Kūmara",
                "producer": "Te Awa Gardens",
                "variants": {"kumara": {"name": "1 kg bag", "tier": "Small"}},
            },
            {
                "name": "Free-range eggs",
                "producer": "Kōwhai Farm",
                "variants": {"eggs": {"name": "dozen", "tier": "Medium", "stock": 30}},
            },
            {
                "name": "Rēwena bread",
                "producer": "Marae kitchen",
                "variants": {"rewena": {"tier": "Small"}},
            },
            {
                "name": "Vegetable bag",
                "producer": "Te Awa Gardens",
                "description": "Enough for a whānau of four for the week.",
                "variants": {"veg_bag": {"name": "whānau size", "tier": "Large"}},
            },
            {
                "name": "Kahawai",
                "producer": "Ōhiwa fishers",
                "description": "Whole fish, caught on Thursday; priced per kg.",
                "variants": {
                    "kahawai": {"name": "(about 1.2 kg)", "tier": "Medium", "by_weight": True, "estimated_grams": 1200}
                },
            },
        ],
        "orders": [
            {"weeks_ago": 0, "customer": 0, "items": {"veg_bag": 1, "eggs": 1}},
            {"weeks_ago": 0, "customer": 1, "items": {"kumara": 2, "rewena": 1, "kahawai": 1}},
            {"weeks_ago": 0, "customer": 2, "items": {"veg_bag": 1, "rewena": 2}},
        ],
    },
}
# What crew weigh against the estimate, in turn: some items come out heavier, some lighter.
WEIGHED = (1.07, 0.94, 1.11, 0.9, 1.03, 0.96)


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
            "The shop: customers at /me/green-valley/shop/ (this week's cycle is open); crew under Orders, where\n"
            "  this week's orders wait to be weighed and completed.\n"
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
            customers = self.seed_accounts(hub, spec["customers"], rng, crew=user, shoppers=shoppers)
            self.link_demo_customer(hub)
            summary = ""
            if shop:
                self.seed_shop(hub, shop, cycles, customers, owner=owner, crew=user)
                summary = f" and a shop of {len(shop['products'])} products with {len(shop['orders'])} orders"
            self.stdout.write(f"Seeded {hub.name} with {spec['customers']} customer accounts{summary}.")

    def link_demo_customer(self, hub: Hub) -> None:
        """The demo customer login is the hub's first customer record, at both hubs."""
        user = User.objects.filter(email=CUSTOMER_LOGIN).first() or user_create(
            email=CUSTOMER_LOGIN, password=PASSWORD, email_verified=True, first_name="Marie"
        )
        first = Customer.objects.with_scopes_disabled().filter(hub=hub).order_by("id").first()
        assert first is not None
        Customer.objects.with_scopes_disabled().filter(id=first.id).update(user=user)
        membership_grant(hub=hub, user=user, role=Role.CUSTOMER)

    def seed_accounts(
        self, hub: Hub, count: int, rng: random.Random, crew: User, shoppers: dict[int, datetime]
    ) -> list[Customer]:
        """Eight weeks of a hub's life, played in time order: customers join, top up, order
        most weeks, top up again when they run short; a few get welcome credit. The clock is
        moved to each moment (time-machine), so the history carries real dates. `shoppers`: the
        customers (by place in the list) whose history stops at a moment, the shop's from then on."""
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
        customers: list[Customer] = []
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
                customers.append(customer)

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
            if at >= shoppers.get(index, now):
                continue
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
            # A shop customer's open order is in the shop.
            if index % 5 == 0 and index not in shoppers and balances[index] - floor > in_unit(1500):
                services.hold_place(
                    hub_id=hub.id,
                    key=f"demo-{account_id}-open-order",
                    account_id=account_id,
                    amount_minor=in_unit(1500),
                    reference="Open order, pickup Saturday",
                    expires_at=now + timedelta(days=5),
                )
        return customers

    def seed_shop(
        self, hub: Hub, shop: dict[str, Any], cycles: list[tuple[datetime, datetime]], customers: list[Customer],
        owner: User, crew: User,
    ) -> None:  # fmt: skip
        """The hub's catalogue and its weekly order cycles, played in time order through the shop's
        services: customers order while a cycle is open, crew weigh and pack the day after it
        closes and complete the orders at pickup; a cancel, a refund and a small debt carried
        into the next order happen along the way. The last cycle is open now, its orders placed."""
        tz = ZoneInfo(hub.timezone)
        first_opens = cycles[0][0]
        variants: dict[str, Variant] = {}
        restocked: list[tuple[Variant, int]] = []
        with time_machine.travel(first_opens - timedelta(days=3), tick=False):
            tiers = {
                name: tier_save(hub=hub, actor=owner, name=name, credits_minor=credits).id
                for name, credits in shop["tiers"].items()
            }
            for spec in shop["products"]:
                product = product_save(hub=hub, actor=owner, name=spec["name"], producer=spec["producer"],
                                        description=spec.get("description", ""))  # fmt: skip
                for key, fields in spec["variants"].items():
                    fields = dict(fields)
                    tier = fields.pop("tier", None)
                    variants[key] = variant_save(
                        hub=hub, actor=owner, product=product, tier_id=tiers[tier] if tier else None, **fields
                    )
                    if spec.get("restock"):
                        restocked.append((variants[key], fields["stock"]))
        weighed = repeat(WEIGHED)
        for weeks_ago, (opens, closes) in zip(range(len(cycles) - 1, -1, -1), cycles, strict=True):
            with time_machine.travel(opens - timedelta(hours=1), tick=False):
                cycle = cycle_save(hub=hub, actor=owner, name=f"Week {opens.isocalendar().week}", opens_at=opens,
                                   closes_at=closes)  # fmt: skip
                options = [
                    fulfilment_add(hub=hub, actor=owner, cycle=cycle, kind=kind, name=name, fee_minor=fee)
                    for kind, name, fee in shop["options"]
                ]
                for variant, stock in restocked:  # this week's delivery from the farm
                    self.restock(hub, owner, variant, stock)
            specs = [spec for spec in shop["orders"] if spec["weeks_ago"] == weeks_ago]
            placed: list[tuple[dict[str, Any], Order]] = []
            for n, spec in enumerate(specs):
                # Through the open days, at daytime hours; the open cycle's orders are all in its
                # first two days, so in the past whatever the time of day now.
                days = n % 2 if weeks_ago == 0 else n % 4
                at = opens + timedelta(days=days, hours=1 + (5 * n) % 12)
                placed.append((spec, self.shop_order(hub, cycle, options, customers[spec["customer"]], spec,
                                                     variants, at)))  # fmt: skip
            if weeks_ago == 0:
                continue
            for spec, order in placed:
                if "cancel" in spec:
                    with time_machine.travel(order.placed_at + timedelta(days=1), tick=False):
                        order_cancel(hub=hub, actor=crew, order_id=order.id, reason=spec["cancel"])
            packing_day = datetime.combine(closes.astimezone(tz).date() + timedelta(days=1), time(9), tzinfo=tz)
            kept = [(spec, order) for spec, order in placed if "cancel" not in spec]
            with time_machine.travel(packing_day, tick=False):
                for spec, order in kept:
                    packed = {}
                    for line in order_lines(order=order):
                        key = next(k for k, v in variants.items() if v.id == line.variant_id)
                        grams = None
                        if line.by_weight:
                            estimated = line.estimated_grams or 0
                            grams = spec.get("grams", {}).get(key) or round(estimated * next(weighed))
                        packed[line.id] = (spec.get("packed", {}).get(key, line.quantity), grams)
                    order_pack(hub=hub, actor=crew, order_id=order.id, packed=packed)
            with time_machine.travel(packing_day + timedelta(hours=8), tick=False):  # pickup, late afternoon
                for _spec, order in kept:
                    order_complete(hub=hub, actor=crew, order_id=order.id)
            with time_machine.travel(packing_day + timedelta(hours=10), tick=False):
                for spec, order in kept:
                    if "refund" in spec:
                        amount, reason = spec["refund"]
                        order_refund(hub=hub, actor=crew, order_id=order.id, amount_minor=amount, reason=reason,
                                     key=order.key)  # fmt: skip

    def shop_order(
        self, hub: Hub, cycle: OrderCycle, options: list[FulfilmentOption], customer: Customer, spec: dict[str, Any],
        variants: dict[str, Variant], at: datetime,
    ) -> Order:  # fmt: skip
        """A customer's checkout: first a card top-up when their credit can't cover the order with
        room for the weighed items coming out heavier (or, with `exact_topup`, just what is
        missing, as checkout offers), then the order, placed at `at`."""
        items = {variants[key].id: quantity for key, quantity in spec["items"].items()}
        option = options[-1] if spec.get("delivery") else options[0]
        total = checkout_quote(hub=hub, account_id=customer.account_id, items=items, option=option).total_minor
        need = total if spec.get("exact_topup") else total + total // 5
        short = need - (account_state(hub_id=hub.id, account_id=customer.account_id).spendable_minor or 0)
        key = f"demo-{cycle.id}-{customer.code}"
        if short > 0:
            quote = topup_quote(hub=hub, currency=hub.currency, credits_minor=short)
            if not spec.get("exact_topup"):  # people top up round amounts
                rounded = (topup_quote(hub=hub, currency=hub.currency, price_minor=p) for p in (2000, 5000, 10000))
                quote = next((q for q in rounded if q.total_minor >= short), quote)
            legs = purchase_legs(hub=hub, account=customer.account, quote=quote,
                                 source_code=SystemAccount.PAYMENTS_CLEARING)  # fmt: skip
            with time_machine.travel(at - timedelta(minutes=20), tick=False):
                services.transaction_post(hub_id=hub.id, key=f"{key}-topup", kind="top_up", memo="Card top-up",
                                          legs=legs)  # fmt: skip
        with time_machine.travel(at, tick=False):
            return order_place(hub=hub, customer=customer, cycle_id=cycle.id, items=items, option_id=option.id,
                               key=key)  # fmt: skip

    def restock(self, hub: Hub, actor: User, variant: Variant, stock: int) -> None:
        variant_save(
            hub=hub, actor=actor, product=variant.product, name=variant.name, price_minor=variant.price_minor,
            tier_id=variant.tier_id, by_weight=variant.by_weight, estimated_grams=variant.estimated_grams,
            stock=stock, variant=variant,
        )  # fmt: skip


def shop_cycles(hub: Hub, weeks: int) -> list[tuple[datetime, datetime]]:
    """(opens, closes) of the shop's weekly cycles, oldest first: `weeks` closed ones, then the one
    open now, opened two days ago at 8:00 and closing in three days at 20:00, the hub's time."""
    tz = ZoneInfo(hub.timezone)
    today = timezone.now().astimezone(tz).date()
    opens = datetime.combine(today - timedelta(days=2), time(8), tzinfo=tz)
    closes = datetime.combine(today + timedelta(days=3), time(20), tzinfo=tz)
    # Aware arithmetic on the same zone keeps the wall-clock time across a change of summer time.
    return [(opens - timedelta(weeks=k), closes - timedelta(weeks=k)) for k in range(weeks, -1, -1)]
