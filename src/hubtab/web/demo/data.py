"""What the demo instance holds: its hubs, their settings, names to give customers, and each
shop's catalogue and orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
