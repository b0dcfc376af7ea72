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

# --- The CRM: people beyond the account holders, the crew's notes and the hubs' saved segments --------
# Every demo hub gets them (crm.py plays them): leads who signed up at the shop, a mailing list
# imported from Mailchimp, people crew met at the market, and customers who stopped ordering.
# "days_ago" / "weeks_ago" say when each thing happened.

# Signed up at the hub's shop (a login of their own), never ordered; "consent": ticked "send me news".
REGISTERED_LEADS: list[dict[str, Any]] = [
    {"first": "Camille", "last": "Girard", "days_ago": 41, "consent": True},
    {"first": "Nathan", "last": "Faure", "days_ago": 33, "consent": False},
    {"first": "Zoé", "last": "Lambert", "days_ago": 22, "consent": True},
    {"first": "Ethan", "last": "Rousseau", "days_ago": 12, "consent": False},
    {"first": "Sophie", "last": "Clarke", "days_ago": 4, "consent": True},
    {"first": "Tom", "last": "Baker", "days_ago": 2, "consent": False},
]
# Added by crew, who met them at the market stall or the school fair.
CREW_LEADS: list[dict[str, Any]] = [
    {"first": "Élise", "last": "Garnier", "days_ago": 9, "tags": ["market stall"], "phone": "+33 6 41 22 18 09"},
    {"first": "Paul", "last": "Henry", "days_ago": 19, "tags": ["school"], "phone": ""},
    {"first": "Nina", "last": "Fournier", "days_ago": 15, "tags": ["restaurant"], "phone": "+33 4 75 31 62 40"},
    {"first": "Malik", "last": "Benali", "days_ago": 6, "tags": ["volunteer", "market stall"], "phone": ""},
]
# The hub's old mailing list, exported from Mailchimp ("subscribed" members) and imported 3 weeks ago:
# new people become leads with consent; the customers already here on it get its tags and consent.
MAILCHIMP_IMPORT: dict[str, Any] = {
    "filename": "mailchimp-subscribed-members.csv",
    "weeks_ago": 3,
    "new": [
        ("Alice", "Morel", "newsletter"),
        ("Bruno", "Lefebvre", "newsletter"),
        ("Claire", "Fontaine", "newsletter, farm visit"),
        ("Daniel", "Green", "newsletter"),
        ("Eva", "Müller", "newsletter, farm visit"),
        ("Félix", "Bonnet", "newsletter"),
        ("Grace", "Hall", "newsletter"),
        ("Hannah", "Wright", "newsletter, farm visit"),
    ],
    "customers": [4, 8, 12, 16],  # account holders (by place in the hub's list) also on the list
}
# Customers who stopped ordering: weekly orders for `orders` weeks, the last `last_order_weeks_ago`
# weeks ago (the hub counts them lapsed after 8 weeks); "consent": agreed to news when they joined;
# "archived": moved away, archived that many weeks ago.
LAPSED: list[dict[str, Any]] = [
    {
        "first": "Julie",
        "last": "Caron",
        "tags": ["veg box", "weekly"],
        "orders": 8,
        "last_order_weeks_ago": 10,
        "consent": True,
    },
    {"first": "Antoine", "last": "Mercier", "tags": ["veg box"], "orders": 5, "last_order_weeks_ago": 12},
    {
        "first": "Laura",
        "last": "Chevalier",
        "tags": ["veg box", "school"],
        "orders": 9,
        "last_order_weeks_ago": 9,
        "consent": True,
    },
    {"first": "Simon", "last": "Blanc", "tags": ["weekly"], "orders": 4, "last_order_weeks_ago": 11},
    {"first": "Rose", "last": "Turner", "tags": ["veg box", "volunteer"], "orders": 5, "last_order_weeks_ago": 9},
    {"first": "Kevin", "last": "Moore", "tags": ["producer"], "orders": 3, "last_order_weeks_ago": 13},
    {"first": "Victor", "last": "Marchand", "tags": [], "orders": 2, "last_order_weeks_ago": 10},
    {"first": "Heidi", "last": "Roux", "tags": ["veg box"], "orders": 6, "last_order_weeks_ago": 15, "archived": 8},
]
# Every third account holder agreed to news when they joined (the paper form's box, entered by crew).
CONSENT_EVERY = 3
# What crew wrote. "about": ("lapsed" | "registered" | "crew" | "customer", place in its list);
# "by": "owner" or "crew" (the support crew where the hub has one); "follow_up": days from today
# (negative: overdue), "done": followed up already.
NOTES: list[dict[str, Any]] = [
    {"about": ("customer", 1), "by": "crew", "days_ago": 30, "pinned": True,
     "body": "Allergic to nuts: check the honey and bread labels when packing the box."},
    {"about": ("customer", 1), "by": "owner", "days_ago": 10,
     "body": "Happy with the boxes; asks whether the veg box could have more leafy greens in winter."},
    {"about": ("customer", 2), "by": "crew", "days_ago": 12, "pinned": True,
     "body": "Delivery after 6 pm only. If nobody answers, leave the box in the shed by the garage."},
    {"about": ("customer", 4), "by": "owner", "days_ago": 6, "follow_up": -2,
     "body": "Card declined at the stall, paid cash instead. Ask for a top-up before Friday's cycle."},
    {"about": ("customer", 7), "by": "crew", "days_ago": 40,
     "body": "Volunteers at the packing table on Saturday mornings."},
    {"about": ("customer", 7), "by": "owner", "days_ago": 25, "follow_up": -14, "done": True,
     "body": "Needs a receipt of this year's boxes for the works council: send it from the statement page."},
    {"about": ("lapsed", 0), "by": "owner", "days_ago": 20, "follow_up": -3,
     "body": "Stopped the family veg box after the school term. Said she would be back in the autumn: "
             "call to offer the small box."},
    {"about": ("lapsed", 1), "by": "crew", "days_ago": 9, "follow_up": -1,
     "body": "Unhappy about two late deliveries in a row. Call back to see whether he wants to start again."},
    {"about": ("lapsed", 2), "by": "owner", "days_ago": 16, "follow_up": 21,
     "body": "The children changed school; she may come back for the summer boxes."},
    {"about": ("lapsed", 7), "by": "owner", "days_ago": 56, "pinned": True,
     "body": "Moved away; asked us to close her account after her last box. Archived."},
    {"about": ("crew", 0), "by": "crew", "days_ago": 9, "follow_up": 0,
     "body": "Met at the Saturday market stall. Interested in the small veg box and eggs; wants the pickup "
             "times. Call her today."},
    {"about": ("crew", 2), "by": "owner", "days_ago": 14, "pinned": True, "follow_up": 9,
     "body": "Runs the café on the square: asks for about 10 kg of vegetables a week. Agree wholesale prices "
             "with the growers first."},
    {"about": ("registered", 0), "by": "owner", "days_ago": 5, "follow_up": 4,
     "body": "Signed up but has not ordered yet. Sent her the pickup map; ask again after this week's cycle."},
    {"about": ("registered", 5), "by": "crew", "days_ago": 1,
     "body": "Asked whether we deliver to Riverside Road: not yet. Pickup at the market hall suits him."},
]  # fmt: skip
# The hubs' saved segments: (name, conditions as [kind, value, join], columns, order). Amounts in
# conditions are in minor units of the hub's credit.
SEGMENTS: list[tuple[str, list[list[str]], list[str], str]] = [
    (
        "Regulars running low",
        [["orders_min", "4", "and"], ["last_within", "4", "and"], ["running_low", "", "and"]],
        ["name", "email", "phone", "tags", "last_purchase", "orders", "balance"],
        "balance",
    ),
    (
        "Lapsed veg-box customers",
        [["tags_any", "veg box", "and"], ["status", "lapsed", "and"]],
        ["name", "email", "phone", "last_purchase", "orders", "spent", "balance", "notes"],
        "-last_purchase",
    ),
    (
        "Leads who never ordered",
        [["status", "lead", "and"]],
        ["name", "email", "tags", "source", "created", "consent", "notes"],
        "-created",
    ),
    (
        # An "or" group: leads or lapsed customers, and (in both cases) agreed to news.
        "Win back: leads and lapsed who agreed to news",
        [["status", "lead", "and"], ["status", "lapsed", "or"], ["consent", "yes", "and"]],
        ["name", "email", "status", "source", "last_purchase", "consent"],
        "name",
    ),
]
# Only where the hub has a shop: its regulars who have not ordered in the cycle open now.
SHOP_SEGMENT = (
    "Regulars missing from this week's cycle",
    [["last_within", "3", "and"], ["not_in_cycle", "", "and"], ["consent", "yes", "and"]],
    ["name", "email", "phone", "tags", "last_purchase", "balance"],
    "-last_purchase",
)
