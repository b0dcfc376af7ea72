"""Helpers for Hubtab's tests: a hub's books, threads run at once, a logged-in browser, the local
SMTP and fake Stripe servers' ways, and every hub page with a real object for each of its ids.
The fixtures that use them are in `hubtab.testing.plugin`, loaded by the root conftest."""

from __future__ import annotations

from pathlib import Path

from hubtab.ledger import services
from hubtab.ledger.models import AccountKind
from hubtab.ledger.types import SystemAccount


class Books:
    """A hub and the accounts a test needs, with helpers that post through the services."""

    def __init__(self, hub):
        self.hub = hub
        self.unit = hub.currency
        self.clearing = services.account_system_get(hub_id=hub.id, code=SystemAccount.PAYMENTS_CLEARING, unit=self.unit)
        self.sales = services.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=self.unit)
        self.expense = services.account_system_get(
            hub_id=hub.id, code=SystemAccount.GRANTED_CREDIT_EXPENSE, unit=self.unit
        )
        self._n = 0

    def hub_timezone(self):
        import zoneinfo

        return zoneinfo.ZoneInfo(self.hub.timezone)

    def key(self, prefix: str = "t") -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    def customer(self, name: str = "Customer", floor_minor: int = 0):
        return services.account_open(
            hub_id=self.hub.id, kind=AccountKind.CUSTOMER, unit=self.unit, name=name, floor_minor=floor_minor
        )

    def top_up(self, account, amount_minor: int, **lot):
        from hubtab.ledger.types import Leg

        return services.transaction_post(
            hub_id=self.hub.id,
            key=self.key("topup"),
            kind="top_up",
            legs=[Leg(self.clearing.id, -amount_minor, self.unit), Leg(account.id, amount_minor, self.unit, **lot)],
        )

    def grant(self, account, amount_minor: int, expires_at=None):
        from hubtab.ledger.types import Leg

        return services.transaction_post(
            hub_id=self.hub.id,
            key=self.key("grant"),
            kind="grant",
            legs=[
                Leg(self.expense.id, -amount_minor, self.unit),
                Leg(account.id, amount_minor, self.unit, lot_kind="granted", lot_expires_at=expires_at),
            ],
        )

    def spend(self, account, amount_minor: int, key: str | None = None):
        from hubtab.ledger.types import Leg

        return services.transaction_post(
            hub_id=self.hub.id,
            key=key or self.key("spend"),
            kind="charge",
            legs=[Leg(account.id, -amount_minor, self.unit), Leg(self.sales.id, amount_minor, self.unit)],
        )


def run_in_threads(target, count: int) -> list[BaseException]:
    """Run target(n) for n in range(count), each in its own thread with its own database
    connection, all released together by a barrier; returns what they raised."""
    import threading

    from django.db import connections

    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(worker: int) -> None:
        try:
            barrier.wait()
            target(worker)
        except BaseException as exc:  # reported to the test
            errors.append(exc)
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"  # at the repository's root


def browser_login(page, base_url: str, email: str, password: str = "pw-long-enough") -> None:
    """Log in through the real login page, as a person would."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def screenshot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def mail_text(message) -> str:
    """The plain-text body of a received message."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


WEBHOOK_SECRET = "whsec_hubtab_tests"


def stripe_card_entered(localstripe_url: str, client_secret: str, card_number: str = "4242424242424242"):
    """What the customer's browser does with Stripe.js's card form (confirmCardSetup): the card goes
    to the gateway, never to Hubtab. Returns the gateway's answer (a declined card raises)."""
    import requests

    setup_ref = client_secret.split("_secret_")[0]
    card: dict[str, str | int] = {"number": card_number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    response = requests.post(
        f"{localstripe_url}/v1/setup_intents/{setup_ref}/confirm",
        json={"key": "pk_test_hubtab", "client_secret": client_secret, "use_stripe_sdk": True,
              "payment_method_data": {"type": "card", "card": card}},
        timeout=10,
    )  # fmt: skip
    answer = response.json()
    if answer.get("status") == "requires_action":  # the bank's check when saving: the customer passes it
        response = requests.post(
            f"{localstripe_url}/v1/setup_intents/{setup_ref}/confirm",
            json={"key": "pk_test_hubtab", "client_secret": client_secret, "use_stripe_sdk": True},
            timeout=10,
        )
        answer = response.json()
    return answer


def stripe_customer_authenticates(localstripe_url: str, client_secret: str, success: bool = True):
    """The customer answers their bank's check (3-D Secure), as Stripe.js's confirmCardPayment does."""
    import requests

    intent_ref = client_secret.split("_secret_")[0]
    response = requests.post(
        f"{localstripe_url}/v1/payment_intents/{intent_ref}/_authenticate?success={'true' if success else 'false'}",
        json={"key": "pk_test_hubtab", "client_secret": client_secret},
        timeout=10,
    )
    return response.json()


def stripe_signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header for `payload`, computed the way Stripe signs webhooks."""
    import hashlib
    import hmac
    import time

    timestamp = at or int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def hub_page_patterns():
    """Every URL pattern of a hub's pages (those taking the hub's slug), the admin's left out."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver, under_slug=False):
        # A hub's pages included under "hubs/<slug>/..." (billing's) take the slug from the include.
        for entry in resolver.url_patterns:
            takes_slug = under_slug or "slug" in entry.pattern.regex.groupindex
            if isinstance(entry, URLResolver):
                if entry.namespace != "admin":
                    yield from walk(entry, takes_slug)
            elif isinstance(entry, URLPattern) and takes_slug:
                yield entry

    return list(walk(get_resolver()))


def shop_objects(hub, customer):
    """A product, an open cycle and an order in it, paid from the customer's credit."""
    from datetime import timedelta

    from django.utils import timezone

    from hubtab.shop.services import checkout_key, cycle_save, order_place, product_save, variant_save

    product = product_save(hub=hub, actor=None, name="Eggs")
    variant = variant_save(hub=hub, actor=None, product=product, price_minor=300)
    now = timezone.now()
    cycle = cycle_save(
        hub=hub, actor=None, name="Week", opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
    )
    order = order_place(hub=hub, customer=customer, cycle_id=cycle.id, items={variant.id: 1}, option_id=None,
                        key=checkout_key())  # fmt: skip
    return {"product_id": product.id, "cycle_id": cycle.id, "order_id": order.id}
