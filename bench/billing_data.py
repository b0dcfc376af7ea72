"""The billing benchmark's outside edges and data: localstripe started as the tests start it, the
in-process fake gateway that answers every charge at once (benchmark only), and one hub's customers
in debt with saved cards, written in bulk with their debts posted through the ledger's service."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Any

from common import ROOT

HUB_SLUG = "bench-billing"
CHUNK = 500  # customers per bulk write and per debt posting
GOOD_CARD = "4242424242424242"


# --- localstripe and the fake gateway -------------------------------------------------------------


def localstripe_start() -> tuple[subprocess.Popen[bytes], str, Any]:
    """localstripe on a free port, as the tests' fixture starts it; returns the process and its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / "localstripe-bench.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"], stdout=log, stderr=log
    )
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}", log
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                raise SystemExit("localstripe did not start: see var/localstripe-bench.log") from None
            time.sleep(0.1)


class InstantGateway:
    """Benchmark only: a payments.gateway.PaymentGateway that answers in-process, at once. Every
    charge succeeds; nothing else is asked of it on the run's path (a charge is answered, so never
    looked up; the card is known, so never fetched)."""

    def __init__(self) -> None:
        from hubtab.payments.gateway import CardFacts, IntentState

        self._card, self._state = CardFacts, IntentState
        self.charges = 0

    def customer_ensure(self, *, key: str, email: str, name: str) -> str:
        return f"cus_instant_{key}"

    def intent_create(
        self, *, key: str, amount_minor: int, currency: str, customer_ref: str, payment_method_ref: str,
        off_session: bool, description: str,
    ) -> Any:  # fmt: skip
        self.charges += 1
        return self._state(ref=f"pi_instant_{key}", status="succeeded", amount_minor=amount_minor,
                           currency=currency.upper(), payment_method_ref=payment_method_ref)  # fmt: skip

    def intent_get(self, ref: str) -> Any:
        raise AssertionError("not on the run's path: every charge is answered at once")

    def intent_find(self, *, key: str, customer_ref: str) -> Any:
        return None

    def intent_cancel(self, ref: str) -> Any:
        raise AssertionError("not on the run's path: no charge waits for the customer")

    def setup_create(self, *, key: str, customer_ref: str) -> tuple[str, str]:
        raise AssertionError("not on the run's path")

    def setup_get(self, ref: str) -> tuple[str, str]:
        raise AssertionError("not on the run's path")

    def card_get(self, payment_method_ref: str) -> Any:
        return self._card(payment_method_ref=payment_method_ref, brand="visa", last4="4242", exp_month=12,
                          exp_year=2031)  # fmt: skip

    def refund(self, *, key: str, intent_ref: str, amount_minor: int) -> str:
        raise AssertionError("not on the run's path")

    def event_parse(self, *, payload: bytes, signature: str) -> Any:
        raise AssertionError("not on the run's path")


class GatewayPatch:
    """Points payments' gateway lookup at `gateway` in this process, and back."""

    MODULES = ("hubtab.payments.off_session", "hubtab.payments.topups", "hubtab.payments.keys")

    def __init__(self, gateway: Any) -> None:
        self.gateway, self.saved = gateway, {}

    def __enter__(self) -> Any:
        for name in self.MODULES:
            module = sys.modules[name]
            self.saved[name] = module.gateway_for  # type: ignore[attr-defined]
            module.gateway_for = lambda hub: self.gateway  # type: ignore[attr-defined]
        return self.gateway

    def __exit__(self, *exc: object) -> None:
        for name, original in self.saved.items():
            sys.modules[name].gateway_for = original  # type: ignore[attr-defined]


# --- data ------------------------------------------------------------------------------------------


def data_create(customers: int, real_cards: int, stripe_url: str) -> dict[str, Any]:
    """The hub, its owner and customers in debt with saved cards; returns what the steps need."""
    from django.db import transaction

    from hubtab.billing.billing_settings import billing_settings_update
    from hubtab.core.models import Role
    from hubtab.core.services import hub_create, membership_grant, user_create
    from hubtab.crm.models import Customer
    from hubtab.ledger.models import Account, Balance
    from hubtab.ledger.services import account_system_get, transaction_post
    from hubtab.ledger.types import Leg, SystemAccount
    from hubtab.payments.models import GatewayCustomer, SavedCard
    from hubtab.payments.services import card_setup_finish, card_setup_start, gateway_account_set
    from hubtab.testing import stripe_card_entered

    steps: dict[str, float] = {}
    started = time.perf_counter()
    hub = hub_create(slug=HUB_SLUG, name="Bench billing hub", currency="EUR", timezone="Europe/Paris", locale="fr")
    owner = user_create(email="owner@bench-billing.example", password=None, email_verified=True)
    membership_grant(hub=hub, user=owner, role=Role.OWNER)
    billing_settings_update(hub=hub, actor=owner, debt_billing=True)
    gateway_account_set(hub=hub, actor=None, publishable_key="pk_test_bench", secret_key="sk_test_bench")
    sales = account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit="EUR")

    # Accounts, their balance rows and the customers, in bulk, as account_open and customer_create
    # leave them (no activity: the benchmark reads none).
    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            [Account(hub=hub, kind="customer", name=f"Customer {n}", unit="EUR", floor_minor=-20000)
             for n in range(customers)], batch_size=2000,
        )  # fmt: skip
        Balance.objects.bulk_create(
            [Balance(hub=hub, account=a, shard=0, floor_minor=-20000) for a in accounts], batch_size=2000
        )
        people = Customer.objects.bulk_create(
            [Customer(hub=hub, email=f"customer{n}@bench-billing.example", first_name=f"Customer{n}",
                      last_name="Bench", account=account, search_text=f"customer{n} bench")
             for n, account in enumerate(accounts)], batch_size=2000,
        )  # fmt: skip
    steps["customers"] = time.perf_counter() - started

    started = time.perf_counter()
    owed: dict[int, int] = {}
    for start in range(0, customers, CHUNK):
        chunk = people[start : start + CHUNK]
        amounts = [500 + (start + i) * 7919 % 9001 for i in range(len(chunk))]  # 5.00 to 95.00, the same each run
        legs = [Leg(c.account_id, -amount, "EUR") for c, amount in zip(chunk, amounts, strict=True)]
        transaction_post(hub_id=hub.id, key=f"bench-debt-{start}", kind="charge", memo="bench orders",
                         legs=[*legs, Leg(sales.id, sum(amounts), "EUR")])  # fmt: skip
        owed.update({c.id: amount for c, amount in zip(chunk, amounts, strict=True)})
    steps["debts"] = time.perf_counter() - started

    started = time.perf_counter()
    fake = people[real_cards:]
    with transaction.atomic():
        GatewayCustomer.objects.bulk_create(
            [GatewayCustomer(hub=hub, account_id=c.account_id, ref=f"cus_bench_{c.id}") for c in fake],
            batch_size=2000,
        )
        SavedCard.objects.bulk_create(
            [SavedCard(hub=hub, account_id=c.account_id, gateway_customer_ref=f"cus_bench_{c.id}",
                       payment_method_ref=f"pm_bench_{c.id}", brand="visa", last4=f"{c.id % 10000:04d}",
                       exp_month=12, exp_year=2031) for c in fake], batch_size=2000,
        )  # fmt: skip
    for person in people[:real_cards]:  # the gateway's card form, as a customer fills it in
        setup_ref, client_secret = card_setup_start(hub=hub, customer=person)
        stripe_card_entered(stripe_url, client_secret, GOOD_CARD)
        card_setup_finish(hub=hub, customer=person, setup_ref=setup_ref, actor=None)
    steps["cards"] = time.perf_counter() - started
    return {
        "hub": hub, "owner": owner, "customer_ids": [c.id for c in people], "owed": owed,
        "real_card_ids": [c.id for c in people[:real_cards]], "steps": {k: round(v, 1) for k, v in steps.items()},
    }  # fmt: skip
