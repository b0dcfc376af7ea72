"""The pytest plugin of Hubtab's tests: markers set from the fixtures a test uses, the language
reset, a hub and its books, a browser, the local SMTP server, the local fake Stripe and its proxy."""

from __future__ import annotations

import pytest

from hubtab.core.services import hub_create
from hubtab.testing import (
    ARTIFACTS,
    WEBHOOK_SECRET,
    Books,
    _free_port,
    shop_objects,
)


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


@pytest.fixture
def stripe_hub(hub, settings, localstripe_url):
    """The hub, taking card payments through localstripe with test keys."""
    return _stripe_hub(hub, settings, localstripe_url)


@pytest.fixture(scope="session")
def stripe_proxy(localstripe_url):
    """A proxy in front of localstripe that answers as real Stripe does where localstripe does not
    (payments listed by customer, banks' decline codes, idempotent replays) and can lose answers:
    `.url`, `.decline(payment_method_ref, code)`, `.lose_answers(n)`, `.reset()`."""
    from hubtab.testing.stripe_proxy import StripeProxy

    with StripeProxy(localstripe_url) as proxy:
        yield proxy


@pytest.fixture
def stripe_proxy_hub(hub, settings, stripe_proxy):
    """The hub, taking card payments through the Stripe proxy (declines and lost answers reset)."""
    stripe_proxy.reset()
    yield _stripe_hub(hub, settings, stripe_proxy.url)
    stripe_proxy.reset()


def _stripe_hub(hub, settings, api_base):
    from hubtab.payments.services import gateway_account_set

    settings.HUBTAB_STRIPE_API_BASE = api_base
    settings.HUBTAB_STRIPE_RETRIES = 0
    # As HUBTAB_STRIPE_API_BASE in the environment does: pages may load Stripe.js from there.
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "script-src": ["'self'", api_base],
        "connect-src": ["'self'", api_base],
    }
    gateway_account_set(
        hub=hub, actor=None, publishable_key="pk_test_hubtab", secret_key="sk_test_hubtab",
        webhook_secret=WEBHOOK_SECRET,
    )  # fmt: skip
    return hub


@pytest.fixture
def hub_page_url(hub):
    """The URL of a hub page, with a real object of this hub for each extra parameter."""
    from datetime import date

    from django.urls import reverse

    from hubtab.accounts.services import bundle_create, organisation_create
    from hubtab.api.services import token_create
    from hubtab.core.models import Role, User
    from hubtab.core.services import invitation_create, membership_grant
    from hubtab.crm.filters import Condition, PeopleFilter
    from hubtab.crm.imports import customer_import_create
    from hubtab.crm.notes import note_add
    from hubtab.crm.segments import segment_save
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
        # an import's dry run of one new lead: its review, apply and progress pages
        "import_id": customer_import_create(
            hub=hub, actor=second_owner, filename="people.csv", raw=b"email\nnew-lead@example.org\n"
        ).id,
        # written by another owner: the owner may delete it, support may pin it but not change it
        "note_id": note_add(
            hub=hub, customer=customer, author=second_owner, body="Asks for the school box", follow_up_on=date.today()
        ).id,
        "segment_id": segment_save(
            hub=hub,
            actor=second_owner,
            name="Lapsed",
            people=PeopleFilter((Condition("status", "lapsed"),)),
            columns=[],
            order="",
        ).id,
    }

    # a payment of the customer's (they hold credit: no debt needed to show its page)
    from hubtab.billing.models import ScheduledPayment

    objects["scheduled_id"] = ScheduledPayment.objects.create(
        hub=hub,
        customer=customer,
        account_id=customer.account_id,
        due_on=date.today(),
        run_on=date.today(),
        credits_minor=500,
        unit=hub.currency,
        price_minor=500,
        currency=hub.currency,
    ).id

    def build(pattern, slug):
        extra = {name: objects[name] for name in pattern.pattern.regex.groupindex if name != "slug"}
        return reverse(pattern.name, kwargs={"slug": slug, **extra})

    return build
