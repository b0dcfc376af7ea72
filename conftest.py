"""Shared fixtures: a hub with customer accounts and the hub's system accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubtab.core.services import hub_create
from hubtab.ledger import services
from hubtab.ledger.models import AccountKind
from hubtab.ledger.types import SystemAccount


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    # Markers for a quick pass (`pytest -m "not slow"`), set from the fixtures a test uses.
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "localstripe_url" in fixtures:
            item.add_marker(pytest.mark.stripe)
        if fixtures & {"browser", "localstripe_url"} or item.module.__name__.endswith("test_permissions"):
            item.add_marker(pytest.mark.slow)
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test`")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def language_reset():
    """Each test starts in the default language: a page asked for in French leaves French active
    in the thread, and a later test's messages would follow it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


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


@pytest.fixture
def hub(db):
    return hub_create(
        slug="green-valley", name="Green Valley Food Hub", currency="EUR", timezone="Europe/Paris", locale="fr"
    )


@pytest.fixture
def other_hub(db):
    return hub_create(slug="riverside", name="Riverside Co-op", currency="GBP", timezone="Europe/London")


@pytest.fixture
def books(hub):
    return Books(hub)


ARTIFACTS = Path(__file__).parent / "test-artifacts"


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium driven by Playwright; screenshots go to test-artifacts/."""
    import os
    import shutil

    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("HUBTAB_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (HUBTAB_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium not installed: `make test` installs Debian's chromium when run as root")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


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


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free local port; Django's mailer sends to it.

    Yields the list of received messages, parsed (email.message.EmailMessage).
    """
    import socket
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    try:
        yield received
    finally:
        controller.stop()


def mail_text(message) -> str:
    """The plain-text body of a received message."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_url():
    """A local fake Stripe (localstripe, from PyPI) that the official SDK and Stripe.js talk to,
    started once for the test run."""
    import socket
    import subprocess
    import sys
    import time

    port = _free_port()
    (ARTIFACTS.parent / "var").mkdir(exist_ok=True)
    log = open(ARTIFACTS.parent / "var" / "localstripe-tests.log", "w")  # closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"], stdout=log, stderr=log
    )
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                pytest.fail("localstripe did not start: see var/localstripe-tests.log")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()


WEBHOOK_SECRET = "whsec_hubtab_tests"


@pytest.fixture
def stripe_hub(hub, settings, localstripe_url):
    """The hub, taking card payments through localstripe with test keys."""
    from hubtab.payments.services import gateway_account_set

    settings.HUBTAB_STRIPE_API_BASE = localstripe_url
    settings.HUBTAB_STRIPE_RETRIES = 0
    # As HUBTAB_STRIPE_API_BASE in the environment does: pages may load Stripe.js from localstripe.
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "script-src": ["'self'", localstripe_url],
        "connect-src": ["'self'", localstripe_url],
    }
    gateway_account_set(
        hub=hub, actor=None, publishable_key="pk_test_hubtab", secret_key="sk_test_hubtab",
        webhook_secret=WEBHOOK_SECRET,
    )  # fmt: skip
    return hub


def stripe_card_entered(localstripe_url: str, client_secret: str, card_number: str = "4242424242424242"):
    """What the customer's browser does with Stripe.js's card form (confirmCardSetup): the card goes
    to the gateway, never to Hubtab. Returns the gateway's answer (a declined card raises)."""
    import requests

    setup_ref = client_secret.split("_secret_")[0]
    card = {"number": card_number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
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

    def walk(resolver):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace != "admin":
                    yield from walk(entry)
            elif isinstance(entry, URLPattern):
                yield entry

    return [p for p in walk(get_resolver()) if "slug" in p.pattern.regex.groupindex]


@pytest.fixture
def hub_page_url(hub):
    """The URL of a hub page, with a real object of this hub for each extra parameter."""
    from django.urls import reverse

    from hubtab.accounts.services import bundle_create, organisation_create
    from hubtab.api.services import token_create
    from hubtab.core.models import Role, User
    from hubtab.core.services import invitation_create, membership_grant
    from hubtab.crm.services import customer_create

    customer = customer_create(hub=hub, email="someone@example.org", first_name="Some", last_name="One")
    second_owner = User.objects.create_user("second-owner@example.org", "pw-long-enough")
    invitation, _ = invitation_create(hub=hub, email="new@example.org", role="support", invited_by=second_owner)
    topped_up = Books(hub).top_up(customer.account, 1000)
    objects = {
        "customer_id": customer.id,
        "transaction_id": topped_up.transaction_id,
        # a second owner's role: removing it leaves the hub an owner
        "membership_id": membership_grant(hub=hub, user=second_owner, role=Role.OWNER).id,
        "invitation_id": invitation.id,
        "token_id": token_create(hub=hub, name="t", scopes=["customers:read"], created_by=None)[0].id,
        "organisation_id": organisation_create(hub=hub, actor=second_owner, name="School").id,
        **shop_objects(hub, customer),
        "bundle_id": bundle_create(
            hub=hub, actor=second_owner, name="Pack", currency=hub.currency, price_minor=2000, credits_minor=2200
        ).id,
    }

    def build(pattern, slug):
        extra = {name: objects[name] for name in pattern.pattern.regex.groupindex if name != "slug"}
        return reverse(pattern.name, kwargs={"slug": slug, **extra})

    return build


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
