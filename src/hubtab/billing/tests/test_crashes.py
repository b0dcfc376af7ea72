"""Exactly once under crashes and concurrency, on PostgreSQL: the morning run killed (SIGKILL) at
many points across a run of many payments, then run again; two workers running at the same
moment; crew changing a payment while the run takes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
import stripe
from django.db import connection

from hubtab.billing.changes import scheduled_payment_cancel, scheduled_payment_date_change
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.run import billing_run
from hubtab.billing.scheduling import debt_bill
from hubtab.billing.tests.conftest import DECLINING_CARD, paris
from hubtab.core.errors import DomainError
from hubtab.ledger.verify import ledger_verify
from hubtab.messaging.models import Delivery
from hubtab.payments.models import GatewayCustomer, Payment
from hubtab.testing import run_in_threads

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BILLED_AT = paris(2026, 12, 7, 14, 0)
RUN_AT = paris(2026, 12, 9, 5, 1)
# Where a run may die: before and after each commit and each gateway call of a payment.
CRASH_POINTS = [
    "billing.attempt_committed",  # the attempt is processing; the gateway not asked yet
    "payment.before_charge",  # the charge is marked as sent; not sent
    "payment.after_charge",  # charged at the gateway; its answer not kept
    "payment.crediting",  # inside the credit's transaction
    "billing.charged",  # credited; the attempt's outcome not recorded
    "billing.finishing",  # a decline's outcome and notice, before their commit
    "billing.finished",  # all done for this payment; the next not begun
]


def _run_process(stripe_url: str, crash_at: str = "") -> subprocess.Popen:
    """`hubtab billing run` in a process of its own, on the test database, maybe set to die."""
    db = connection.settings_dict
    env = dict(os.environ, HUBTAB_STRIPE_API_BASE=stripe_url, HUBTAB_STRIPE_RETRIES="0",
               DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")  # fmt: skip
    env.pop("HUBTAB_CRASH_AT", None)
    if crash_at:
        env["HUBTAB_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "hubtab", "billing", "run", "--now", RUN_AT.isoformat()],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _gateway_charges(hub, proxy) -> Counter[str]:
    """Successful charges at the gateway, per scheduled payment (from the key each carries)."""
    client = stripe.StripeClient("sk_test_hubtab", base_addresses={"api": proxy.url})
    found: Counter[str] = Counter()
    for customer_ref in GatewayCustomer.objects.filter(hub=hub).values_list("ref", flat=True):
        for intent in client.v1.payment_intents.list(
            params={"customer": customer_ref, "limit": 100}
        ).auto_paging_iter():
            key = str((intent.metadata.to_dict() if intent.metadata else {}).get("hubtab_key", ""))
            if intent.status == "succeeded" and key.startswith("bill-"):
                found[key.split("-")[1]] += 1
    return found


def test_a_run_killed_at_any_point_then_run_again_charges_credits_and_tells_each_customer_once(billing):
    # Every third customer's card is declined: the run meets declines all along, not only at its end.
    everyone = [billing.customer(f"Decliner{n}", card=DECLINING_CARD, owes_minor=700) if n % 3 == 2
                else billing.customer(f"Payer{n}", owes_minor=1000 + n) for n in range(48)]  # fmt: skip
    payers = [p for p in everyone if p.first_name.startswith("Payer")]
    decliners = [p for p in everyone if p.first_name.startswith("Decliner")]
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[p.id for p in everyone], now=BILLED_AT)

    killed = 0
    for nth in (1, 2, 1):
        for point in CRASH_POINTS:
            process = _run_process(billing.proxy.url, f"{point}#{nth}")
            output, _ = process.communicate(timeout=120)
            if process.returncode == -signal.SIGKILL:
                killed += 1
            else:
                assert process.returncode == 0, output
    final = _run_process(billing.proxy.url)
    output, _ = final.communicate(timeout=300)
    assert final.returncode == 0, output
    assert killed >= 20  # the run really died that often, at each point

    scheduled = {s.customer_id: s for s in ScheduledPayment.objects.filter(hub=billing.hub)}
    charges = _gateway_charges(billing.hub, billing.proxy)
    for payer in payers:
        row = scheduled[payer.id]
        assert row.status == ScheduledPaymentStatus.SUCCEEDED, (payer.first_name, row.status)
        assert charges[str(row.id)] == 1  # one successful charge at the gateway
        assert Payment.objects.filter(customer=payer, off_session=True, status="succeeded").count() == 1
        assert billing.balance(payer) == 0  # credited once: the debt is zero, not above
    for decliner in decliners:
        row = scheduled[decliner.id]
        assert row.status == ScheduledPaymentStatus.RETRYING and charges[str(row.id)] == 0
        assert billing.balance(decliner) == -700
    kinds = Counter(Delivery.objects.filter(hub=billing.hub).values_list("customer_id", "kind"))
    assert all(n == 1 for n in kinds.values())  # each notice once
    assert {kind for (_c, kind) in kinds} == {
        "billing_scheduled",
        "payment_receipt",
        "billing_failed",
        "billing_summary",
    }  # the summary too: once, to the owner
    assert ledger_verify(hub_id=billing.hub.id) == []


def test_two_workers_running_at_the_same_moment_never_charge_a_payment_twice(billing):
    people = [billing.customer(f"Person{n}", owes_minor=500 + n) for n in range(16)]
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[p.id for p in people], now=BILLED_AT)
    workers = [_run_process(billing.proxy.url) for _ in range(2)]
    for worker in workers:
        output, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0, output
    charges = _gateway_charges(billing.hub, billing.proxy)
    assert sorted(charges.values()) == [1] * len(people)
    assert all(billing.balance(p) == 0 for p in people)
    assert ledger_verify(hub_id=billing.hub.id) == []


def test_crew_moving_or_cancelling_while_the_run_takes_the_payment_ends_one_way_with_a_clear_message(billing):
    people = [billing.customer(f"Person{n}", owes_minor=800) for n in range(6)]
    debt_bill(hub=billing.hub, actor=billing.owner, customer_ids=[p.id for p in people], now=BILLED_AT)
    rows = list(ScheduledPayment.objects.filter(hub=billing.hub).order_by("id"))
    refusals: list[str] = []

    def race(worker: int) -> None:
        if worker == 0:
            billing_run(now=RUN_AT)
            return
        for n, row in enumerate(rows):
            try:
                if n % 2:
                    scheduled_payment_cancel(hub=billing.hub, actor=billing.owner, scheduled_id=row.id, reason="moved")
                else:
                    scheduled_payment_date_change(hub=billing.hub, actor=billing.owner, scheduled_id=row.id,
                                                  run_on=paris(2026, 12, 20).date(), now=RUN_AT)  # fmt: skip
            except DomainError as exc:
                refusals.append(exc.code)

    assert run_in_threads(race, 2) == []
    assert set(refusals) <= {"payment_processing", "payment_closed"}  # refused in words, never half-done
    for row in ScheduledPayment.objects.filter(hub=billing.hub):
        paid = Payment.objects.filter(customer=row.customer, off_session=True, status="succeeded").count()
        if row.status == ScheduledPaymentStatus.SUCCEEDED:
            assert paid == 1 and billing.balance(row.customer) == 0
        else:  # cancelled, or moved to the 20th: nothing taken
            assert row.status in (ScheduledPaymentStatus.CANCELLED, ScheduledPaymentStatus.SCHEDULED)
            assert paid == 0 and billing.balance(row.customer) == -800
    # Each payment the run took refused the crew's change; each the crew changed first was left alone.
    assert len(refusals) == ScheduledPayment.objects.filter(hub=billing.hub, status="succeeded").count()
    assert ledger_verify(hub_id=billing.hub.id) == []
