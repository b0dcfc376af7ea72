"""Billing speed with 10,000 customers in debt at one hub on PostgreSQL: "Bill customers" for all of
them, the morning run's own work per payment with the gateway left out, and card charges per second
through localstripe, each beside pgbench measured in the same run.

Run from the project root (about 7 minutes):
  make bench-billing
  .venv/bin/python bench/billing.py [--customers 10000] [--run-payments 1000] [--charges 200] [--profile] [--keep]
A quick check that it still runs (about 1 minute):
  .venv/bin/python bench/billing.py --customers 1000 --run-payments 100 --charges 20

What it does (see docs/performance.md, "Billing"; the data and the fake gateway: bench/billing_data.py):
  1. Starts localstripe on a free local port (as the tests' fixture does) and (re)creates its own
     database (`hubtab_bench_billing`, or --database hubtab_bench...) on 127.0.0.1:5432, migrated by
     `hubtab migrate`. One hub (EUR, Europe/Paris, morning hour 05:00) bills debt. Its customers,
     their ledger accounts (floor -200.00) and saved cards are written in bulk; each customer's debt
     (5.00 to 95.00) is posted through the ledger's service, 500 customers per transaction, so the
     ledger is a valid one. The first --charges customers save a real card in localstripe (the
     gateway's card form, as in the tests); the others get a card row whose references only the
     fake gateway of step 4 answers to.
  2. Reference: pgbench's TPC-B-like script, one client, 10 s, on a scratch pgbench database of the
     same server (`pgbench -n -c 1 -T 10`): its latency is one write transaction's cost here.
  3. (a) "Bill customers" for all of them: billing.scheduling.debt_bill with every customer's id, as
     the Customer Billing page calls it (chunks of 500, one payment, one activity and one notice
     each), timed; then the same call again (nothing changed: nothing written), and the preview
     of all of them (debt_preview, what the page shows before "Bill customers").
  4. (b) The morning run's own work per payment, the gateway left out: the gateway lookup
     (payments.keys.gateway_for, as payments.off_session and payments.topups import it) is replaced,
     in this process only, by an in-process object implementing payments.gateway.PaymentGateway
     that answers every charge at once as succeeded. Each of --run-payments payments is taken by
     billing.run.scheduled_payment_take (the guard, the amount decided under the payment's and the
     account's locks, the attempt and its payment committed as processing, the charge, the credit
     posted by payments' settle path, the receipt queued, the attempt and the payment closed), timed
     one by one. For as many more, the same steps are called one at a time to split the time:
     billing.run._attempt_start (decide and lock), payments.services.payment_charge (the charge and
     the credit) and billing.run.attempt_finish.
  5. (c) Real charges: the fake is removed, and the --charges payments of customers with a
     localstripe card are taken one after the other through the Stripe SDK: charges per second. As
     the gateway's own reference, as many PaymentIntents straight to localstripe through the SDK.
  6. Checks: ledger verify for the hub, every payment taken succeeded and posted its credit once;
     exits 1 otherwise. Results are printed and written to var/bench-billing.json. The databases
     are dropped and localstripe stopped at the end (the database is kept with --keep).
--profile writes cProfile figures of (a) and (b) to var/bench-billing-*.prof and prints the
functions where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from billing_data import GatewayPatch, InstantGateway, data_create, localstripe_start
from common import (  # bench/ is not a package: its scripts run from the project root
    HOST,
    OWN_PREFIXES,
    PORT,
    ROOT,
    USER,
    cpu_busy,
    database_drop,
    database_recreate,
    database_url,
    hubtab_migrate,
    percentile,
    pgbench_path,
    server_facts,
)

sys.path.insert(0, str(ROOT / "src"))

BENCH_DB = "hubtab_bench_billing"
JSON_PATH = ROOT / "var" / "bench-billing.json"
TARGET_BILL_S = 10  # "Bill customers" for 10,000
TARGET_RUN_MS = 2  # the run's own work per payment


# --- the reference ---------------------------------------------------------------------------------


def pgbench_tpcb(name: str, seconds: int) -> dict[str, Any]:
    """pgbench's TPC-B-like script, one client, on a fresh scale-1 database `name` of the same server."""
    database_recreate(name)
    base = [pgbench_path(), "-h", HOST, "-p", str(PORT), "-U", USER]
    subprocess.run([*base, "-i", "-s", "1", "-q", name], check=True, capture_output=True)
    subprocess.run([*base, "-n", "-c", "1", "-T", "2", name], check=True, capture_output=True)  # warm-up
    out = subprocess.run(
        [*base, "-n", "-c", "1", "-T", str(seconds), name], check=True, capture_output=True, text=True
    ).stdout
    latency = re.search(r"latency average = ([0-9.]+) ms", out)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    return {
        "latency_ms": float(latency.group(1)) if latency else None,
        "tps": float(tps.group(1)) if tps else None,
        "command": f"pgbench -n -c 1 -T {seconds} (TPC-B-like, scale 1)",
    }


# --- measurements -----------------------------------------------------------------------------------


class Profiled:
    """cProfile around a block when asked; the top functions by own and cumulative time."""

    def __init__(self, enabled: bool, name: str) -> None:
        self.enabled, self.name = enabled, name
        self.profile = cProfile.Profile() if enabled else None
        self.top: dict[str, str] = {}

    def __enter__(self) -> Profiled:
        if self.profile:
            self.profile.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.profile:
            return
        self.profile.disable()
        path = ROOT / "var" / f"bench-billing-{self.name}.prof"
        self.profile.dump_stats(str(path))
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(self.profile, stream=out).strip_dirs().sort_stats(order).print_stats(25)
            self.top[order] = out.getvalue()


class Statements:
    """Counts the statements Django sends meanwhile (an execute wrapper: nothing kept, little cost)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self) -> Statements:
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._wrapper.__exit__(*exc)


def _warm_up(hub: Any) -> None:
    """As in a server that has answered a request: the URL map loaded (its first reverse() imports
    every view and builds the API's schema, seconds here) and the message templates compiled."""
    from django.urls import reverse

    from hubtab.messaging.services import message_render

    reverse("portal_hub", args=[hub.slug])
    context = {"name": "", "hub": "", "amount": "", "credits": "", "day": "", "card": "", "account_link": "",
               "card_link": "", "why": "", "retry_day": "", "confirm_link": ""}  # fmt: skip
    for template in ("scheduled", "failed", "action", "no_card"):
        message_render(template=f"billing/email/{template}", context=context, language=hub.locale)
    message_render(template="payments/email/receipt", context={}, language=hub.locale)


def bill_measure(data: dict[str, Any], now: datetime, profile: bool) -> dict[str, Any]:
    """(a) debt_bill for everyone; then again (nothing changes); and the preview of everyone."""
    from hubtab.billing.models import ScheduledPayment
    from hubtab.billing.scheduling import debt_bill, debt_preview
    from hubtab.messaging.models import Delivery

    hub, owner, ids = data["hub"], data["owner"], data["customer_ids"]
    _warm_up(hub)
    with Profiled(profile, "bill") as profiled, Statements() as statements:
        started, cpu = time.perf_counter(), time.process_time()
        result = debt_bill(hub=hub, actor=owner, customer_ids=ids, now=now)
        first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    again = debt_bill(hub=hub, actor=owner, customer_ids=ids, now=now)
    second = time.perf_counter() - started
    started = time.perf_counter()
    lines = debt_preview(hub=hub, customer_ids=ids, now=now)
    preview = time.perf_counter() - started
    scheduled = ScheduledPayment.objects.filter(hub=hub).count()
    notices = Delivery.objects.filter(hub=hub, kind="billing_scheduled").count()
    return {
        "customers": len(ids), "seconds": round(first, 2), "per_customer_ms": round(first * 1000 / len(ids), 3),
        "cpu_seconds": round(first_cpu, 2),
        "scheduled": result.scheduled, "skipped": len(result.skipped), "rows": scheduled, "notices": notices,
        "statements": statements.count,
        "again_seconds": round(second, 2), "again_unchanged": again.unchanged,
        "preview_seconds": round(preview, 2), "preview_lines": len(lines), "profile": profiled.top,
    }  # fmt: skip


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "mean_ms": round(statistics.fmean(values), 3),
        "median_ms": round(statistics.median(values), 3),
        "p95_ms": round(percentile(values, 0.95), 3),
    }


def run_measure(data: dict[str, Any], ids: list[int], phased_ids: list[int], now: datetime, profile: bool) -> dict:
    """(b) each payment taken by scheduled_payment_take, the gateway answered in-process; then the
    same steps one at a time for another set, to split the time."""
    from hubtab.accounts.selectors import credit_settings_of
    from hubtab.billing.run import _attempt_start, attempt_finish, scheduled_payment_take
    from hubtab.payments.services import payment_charge

    hub = data["hub"]
    morning = credit_settings_of(hub=hub).morning_hour
    gateway = InstantGateway()
    outcomes: dict[str, int] = {}
    with GatewayPatch(gateway):
        with Statements() as statements:  # the first: warms up, and counts the statements of one payment
            outcomes[scheduled_payment_take(hub=hub, scheduled_id=ids[0], now=now, morning_hour=morning)] = 1
        queries = statements.count
        times: list[float] = []
        with Profiled(profile, "run") as profiled:
            cpu = time.process_time()
            for scheduled_id in ids[1:]:
                started = time.perf_counter()
                outcome = scheduled_payment_take(hub=hub, scheduled_id=scheduled_id, now=now, morning_hour=morning)
                times.append((time.perf_counter() - started) * 1000)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            cpu_ms = (time.process_time() - cpu) * 1000 / max(1, len(ids) - 1)
        phases: dict[str, list[float]] = {"attempt_start": [], "charge_and_credit": [], "attempt_finish": []}
        counted = {name: Statements() for name in phases}
        cpu_of = dict.fromkeys(phases, 0.0)
        own: list[float] = []  # the run's own: deciding and locking, then recording the outcome

        def timed(name: str, call: Any) -> Any:
            with counted[name]:
                wall, cpu = time.perf_counter(), time.process_time()
                out = call()
                phases[name].append((time.perf_counter() - wall) * 1000)
                cpu_of[name] += time.process_time() - cpu
            return out

        for scheduled_id in phased_ids:
            attempt = timed("attempt_start", lambda sid=scheduled_id: _attempt_start(hub, sid, now, morning))
            assert not isinstance(attempt, str), attempt
            timed("charge_and_credit", lambda a=attempt: payment_charge(hub=hub, payment_id=a.payment_id))
            outcome = timed("attempt_finish", lambda a=attempt: attempt_finish(hub=hub, attempt_id=a.id, now=now))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            own.append(phases["attempt_start"][-1] + phases["attempt_finish"][-1])
    return {
        "payments": len(ids), "take": _ms(times), "cpu_ms_per_take": round(cpu_ms, 3), "queries_per_take": queries,
        "outcomes": outcomes,
        "gateway_charges": gateway.charges, "phased_payments": len(phased_ids),
        "own": {**_ms(own), "cpu_ms": round((cpu_of["attempt_start"] + cpu_of["attempt_finish"]) * 1000 / len(own), 3),
                "statements": (counted["attempt_start"].count + counted["attempt_finish"].count) / len(own)}
        if own else None,
        "phases": {name: {**_ms(values), "statements": counted[name].count / len(values),
                          "cpu_ms": round(cpu_of[name] * 1000 / len(values), 3)}
                   for name, values in phases.items() if values},
        "profile": profiled.top,
    }  # fmt: skip


def charges_measure(data: dict[str, Any], ids: list[int], now: datetime, stripe_url: str) -> dict[str, Any]:
    """(c) real charges through localstripe, one after the other; then as many PaymentIntents sent
    straight to localstripe through the SDK, the gateway's own pace."""
    from hubtab.accounts.selectors import credit_settings_of
    from hubtab.billing.run import scheduled_payment_take
    from hubtab.payments.gateway import StripeGateway
    from hubtab.payments.models import GatewayCustomer, SavedCard

    hub = data["hub"]
    morning = credit_settings_of(hub=hub).morning_hour
    outcomes: dict[str, int] = {}
    times: list[float] = []
    started = time.perf_counter()
    for scheduled_id in ids:
        t0 = time.perf_counter()
        outcome = scheduled_payment_take(hub=hub, scheduled_id=scheduled_id, now=now, morning_hour=morning)
        times.append((time.perf_counter() - t0) * 1000)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    seconds = time.perf_counter() - started

    gateway = StripeGateway(secret_key="sk_test_bench", api_base=stripe_url)
    cards = {c.account_id: c for c in SavedCard.objects.filter(hub=hub, payment_method_ref__startswith="pm_")}
    refs = {g.account_id: g.ref for g in GatewayCustomer.objects.filter(hub=hub)}
    pairs = [(refs[a], cards[a].payment_method_ref) for a in cards if not cards[a].payment_method_ref.startswith(
        "pm_bench_") and a in refs][: len(ids)]  # fmt: skip
    raw_times: list[float] = []
    raw_started = time.perf_counter()
    for n, (customer_ref, method_ref) in enumerate(pairs):
        t0 = time.perf_counter()
        state = gateway.intent_create(key=f"bench-raw-{n}", amount_minor=1000, currency="EUR",
                                      customer_ref=customer_ref, payment_method_ref=method_ref, off_session=True,
                                      description="bench")  # fmt: skip
        raw_times.append((time.perf_counter() - t0) * 1000)
        assert state.status == "succeeded", state
    raw_seconds = time.perf_counter() - raw_started
    return {
        "charges": len(ids), "seconds": round(seconds, 2), "per_second": round(len(ids) / seconds, 1),
        "take": _ms(times), "outcomes": outcomes,
        "raw_intents": len(pairs), "raw_per_second": round(len(pairs) / raw_seconds, 1) if pairs else None,
        "raw": _ms(raw_times) if raw_times else None,
    }  # fmt: skip


def checks(data: dict[str, Any], taken: list[int]) -> list[str]:
    """What must hold after the run: every payment taken is paid once, for what was owed, and the
    ledger verifies."""
    from hubtab.billing.models import ScheduledPayment
    from hubtab.ledger.selectors import balances_of
    from hubtab.ledger.verify import ledger_verify
    from hubtab.payments.models import Payment

    hub = data["hub"]
    problems = [f"ledger verify: {breach}" for breach in ledger_verify(hub_id=hub.id)]
    rows = list(ScheduledPayment.objects.filter(hub=hub, id__in=taken))
    not_paid = [row.id for row in rows if row.status != "succeeded"]
    if not_paid:
        problems.append(f"{len(not_paid)} payments taken but not paid, e.g. {not_paid[:5]}")
    charges = Payment.objects.filter(hub=hub, off_session=True, status="succeeded").count()
    if charges != len(taken):
        problems.append(f"{charges} successful charges for {len(taken)} payments taken")
    balances = balances_of(hub_id=hub.id, account_ids=[row.account_id for row in rows])
    unpaid = [row.id for row in rows if balances.get(row.account_id, 0) != 0]
    if unpaid:
        problems.append(f"{len(unpaid)} accounts still in debt after their payment, e.g. {unpaid[:5]}")
    return problems


# --- the report -------------------------------------------------------------------------------------


def _report(args: argparse.Namespace, facts: dict[str, str], out: dict[str, Any]) -> None:
    ref = out["pgbench"]
    pg_ms = ref["latency_ms"] or 0.0
    bill, run, charges = out.get("bill"), out.get("run"), out.get("charges")
    print()
    print(f"Billing, {args.customers:,} customers in debt at one hub, {out['date'][:16]} UTC, PostgreSQL"
          f" {facts['version']}, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"reference, same run: {ref['command']}: {pg_ms} ms per transaction ({ref['tps']:.0f} tps)")
    if bill:
        met = "met" if bill["seconds"] < TARGET_BILL_S else "NOT met"
        print(f"(a) Bill customers, {bill['customers']:,}: {bill['seconds']} s (target < {TARGET_BILL_S} s: {met});"
              f" {bill['per_customer_ms']} ms per customer = {bill['per_customer_ms'] / (pg_ms or 1):.1f} pgbench"
              f" transactions; {bill['scheduled']:,} scheduled, {bill['notices']:,} notices queued,"
              f" {bill['statements']:,} statements; this process's CPU {bill['cpu_seconds']} s")  # fmt: skip
        print(f"    again, nothing changed: {bill['again_seconds']} s ({bill['again_unchanged']:,} unchanged);"
              f" preview of all: {bill['preview_seconds']} s")  # fmt: skip
    if run and run["own"]:
        own, take = run["own"], run["take"]
        met = "met" if own["mean_ms"] < TARGET_RUN_MS else "NOT met"
        print(f"(b) the run's own work per payment (_attempt_start + attempt_finish; gateway answered in-process),"
              f" {run['phased_payments']:,} payments: mean {own['mean_ms']} ms, median {own['median_ms']} ms, p95"
              f" {own['p95_ms']} ms (target < {TARGET_RUN_MS} ms: {met}) = {own['mean_ms'] / (pg_ms or 1):.1f}"
              f" pgbench transactions; {own['statements']:.0f} statements, CPU {own['cpu_ms']} ms")  # fmt: skip
        parts = ", ".join(f"{name} {figures['mean_ms']} ms ({figures['statements']:.0f} statements, CPU"
                          f" {figures['cpu_ms']} ms)" for name, figures in run["phases"].items())  # fmt: skip
        print(f"    by step (mean): {parts}")
        print(f"    the whole take (scheduled_payment_take: the guard, the steps above, payments' charge, credit and"
              f" receipt, billing's receiver), {run['payments']:,} more payments: mean {take['mean_ms']} ms, median"
              f" {take['median_ms']} ms, p95 {take['p95_ms']} ms = {take['mean_ms'] / (pg_ms or 1):.1f} pgbench"
              f" transactions; {run['queries_per_take']} statements, CPU {run['cpu_ms_per_take']} ms")  # fmt: skip
    if charges:
        raw = f"{charges['raw_per_second']}/s ({charges['raw']['mean_ms']} ms each)" if charges["raw"] else "-"
        print(f"(c) charges through localstripe: {charges['charges']} in {charges['seconds']} s ="
              f" {charges['per_second']} charges/s (mean {charges['take']['mean_ms']} ms each);"
              f" localstripe alone (SDK, PaymentIntent create): {raw}")  # fmt: skip
    for name in ("bill", "run"):
        top = (out.get(name) or {}).get("profile") or {}
        if top:
            print(f"\nprofile of {name}, by own time (var/bench-billing-{name}.prof):")
            print("\n".join(top["tottime"].splitlines()[:40]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--run-payments", type=int, default=1000, help="payments taken with the fake gateway")
    parser.add_argument("--charges", type=int, default=200, help="real charges through localstripe")
    parser.add_argument("--database", default=BENCH_DB, help="its own database: a name starting hubtab_bench")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--profile", action="store_true", help="cProfile (a) and (b); prints where the time goes")
    parser.add_argument("--json", type=Path, default=JSON_PATH)
    args = parser.parse_args()
    if not args.database.startswith(OWN_PREFIXES[0]):
        raise SystemExit(f"--database must start with {OWN_PREFIXES[0]!r}")
    if args.customers < args.charges + 2 * args.run_payments:
        raise SystemExit("--customers must be at least --charges + 2 x --run-payments")
    pgbench_db = args.database.replace("hubtab_bench", "hubtab_pgbench", 1)
    started_at = datetime.now(UTC)
    facts = server_facts()
    busy = cpu_busy()
    print(f"PostgreSQL {facts['version']} at {HOST}:{PORT}; {os.cpu_count()} CPUs, {busy:.0%} busy", flush=True)
    if busy is not None and busy > 0.25:
        print("  warning: the machine is busy; figures (pgbench's too) will be lower than on an idle one")

    stripe, stripe_url, stripe_log = localstripe_start()
    os.environ["DATABASE_URL"] = database_url(args.database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubtab.settings"
    os.environ["HUBTAB_STRIPE_API_BASE"] = stripe_url
    os.environ.setdefault("HUBTAB_LOG_LEVEL", "WARNING")
    problems: list[str] = []
    try:
        print(f"setup: {args.database} (migrate), localstripe at {stripe_url} ...", flush=True)
        database_recreate(args.database)
        hubtab_migrate(args.database)
        import django

        django.setup()
        import logging

        logging.getLogger("stripe").setLevel(logging.WARNING)  # the SDK logs every request at INFO
        from django.utils import timezone

        from hubtab.billing.dates import charge_moment
        from hubtab.billing.models import ScheduledPayment

        data = data_create(args.customers, args.charges, stripe_url)
        print(f"  {args.customers:,} customers in debt, {args.charges} with a localstripe card: {data['steps']} s",
              flush=True)  # fmt: skip
        print("reference: pgbench TPC-B-like, 1 client ...", flush=True)
        out: dict[str, Any] = {
            "date": started_at.isoformat(timespec="seconds"), "customers": args.customers, "cpus": os.cpu_count(),
            "cpu_busy_before": busy, "postgres": facts, "setup_s": data["steps"],
            "pgbench": pgbench_tpcb(pgbench_db, 10),
        }  # fmt: skip

        print("(a) Bill customers ...", flush=True)
        now = timezone.now()
        out["bill"] = bill_measure(data, now, args.profile)
        print(f"  {out['bill']['seconds']} s", flush=True)

        by_customer = dict(ScheduledPayment.objects.filter(hub=data["hub"]).values_list("customer_id", "id"))
        run_on = ScheduledPayment.objects.filter(hub=data["hub"]).order_by("run_on").values_list("run_on", flat=True)
        morning = charge_moment(hub=data["hub"], day=run_on.first()) + timedelta(minutes=1)
        real = [by_customer[c] for c in data["real_card_ids"]]
        rest = [by_customer[c] for c in data["customer_ids"][args.charges :]]
        whole, phased = rest[: args.run_payments], rest[args.run_payments : 2 * args.run_payments]
        print(f"(b) the morning run, {len(whole) + len(phased):,} payments, gateway in-process ...", flush=True)
        out["run"] = run_measure(data, whole, phased, morning, args.profile)
        print(f"  mean {out['run']['take']['mean_ms']} ms per payment", flush=True)
        print(f"(c) {len(real)} charges through localstripe ...", flush=True)
        out["charges"] = charges_measure(data, real, morning, stripe_url)
        print(f"  {out['charges']['per_second']} charges/s", flush=True)
        problems = checks(data, [*real, *whole, *phased])
        out["problems"] = problems
        from django.db import connection

        connection.close()
        _report(args, facts, out)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
        print(f"results written to {args.json}")
    finally:
        stripe.terminate()
        stripe.wait(timeout=10)
        stripe_log.close()
        if not args.keep:
            database_drop(args.database)
        database_drop(pgbench_db)
    for problem in problems:
        print(f"CHECK FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
