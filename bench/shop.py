"""Shop throughput: orders placed and completed per second through hubtab.shop.services, beside
pgbench's TPC-B-like script at the same client count on the same server, in the same run.

Run from the project root:  .venv/bin/python bench/shop.py [--customers 200] [--rounds 3] [--workers 4,8]

What it does (see docs/performance.md):
  1. (Re)creates two databases of its own on 127.0.0.1:5432 -- hubtab_bench_shop, migrated with
     `hubtab migrate`, and hubtab_pgbench_shop, initialised with `pgbench -i` -- and nothing else.
  2. Opens one hub (credit only) with N customers, each funded with 10^9 minor units, an open
     order cycle with a pickup point, and seven products: bread, apples and a credit-tier veg box
     (stock not counted), a chicken sold by weight, and eggs, cheese and honey with counted stock.
  3. For each worker count: that many worker processes (spawn, each with django.setup() and its
     own connection) place `rounds` orders for every customer through
     hubtab.shop.services.order_place (2 to 4 lines each, one of them with counted stock; every
     order held on the customer's credit), released together after a warm-up; then complete every
     one of those orders through order_complete (the hold captured into the hub's sales). Each
     figure is operations / (last worker's finish - common start), with per-call p50/p99.
     As a diagnostic, one more order per customer with apples instead of the counted product
     (the same lines, no stock row to lock), placed and completed the same way.
  4. Runs `pgbench -n -c N -j min(N,2) -T <duration>` (built-in TPC-B-like script) at each worker
     count, after a short warm-up.
  5. Checks that every order was placed, held, completed and captured, that the hub's sales got
     the sum of the orders, and runs ledger verify; exits 1 on any failure. Drops both databases
     at the end unless --keep. Results are printed and written to var/bench-shop.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # bench/ is not a package: its scripts run from the project root
    ROOT,
    LockSampler,
    WorkerPool,
    cpu_busy,
    database_drop,
    database_recreate,
    database_url,
    django_worker_loop,
    error_name,
    hubtab_migrate,
    percentile,
    pgbench_command,
    pgbench_init,
    pgbench_run,
    server_facts,
)

sys.path.insert(0, str(ROOT / "src"))

BENCH_DB = "hubtab_bench_shop"
PGBENCH_DB = "hubtab_pgbench_shop"
BENCH_URL = database_url(BENCH_DB)
JSON_PATH = ROOT / "var" / "bench-shop.json"
UNIT = "EUR"
FUNDING_MINOR = 10**9  # per customer: no order ever meets the spending limit
COUNTED_STOCK = 10**6  # counted, and never runs out during the run
WARMUP_ORDERS = 5  # per worker, placed and completed before each measurement
KINDS = {
    "place": "orders placed",
    "complete": "orders completed",
    "place_uncounted": "placed, no counted stock (diagnostic)",
    "complete_uncounted": "completed, no counted stock (diagnostic)",
}


# --- fixtures -------------------------------------------------------------------------------------


def fixtures_create(customers: int) -> dict[str, Any]:
    """One hub selling on credit only, its customers funded, an open cycle and six products."""
    from django.utils import timezone

    from hubtab.accounts.services import credit_settings_update
    from hubtab.core.services import hub_create
    from hubtab.crm.services import customer_create
    from hubtab.ledger import services as ledger
    from hubtab.ledger.services import SystemAccount
    from hubtab.ledger.types import Leg
    from hubtab.shop.models import FulfilmentKind
    from hubtab.shop.services import cycle_save, fulfilment_add, product_save, tier_save, variant_save

    hub = hub_create(slug="bench-shop", name="Bench food hub", currency=UNIT)
    credit_settings_update(hub=hub, actor=None, payment_policy="credit_only")
    now = timezone.now()
    cycle = cycle_save(hub=hub, actor=None, name="Bench week", opens_at=now - timedelta(days=1),
                       closes_at=now + timedelta(days=7))  # fmt: skip
    pickup = fulfilment_add(hub=hub, actor=None, cycle=cycle, kind=FulfilmentKind.PICKUP, name="Market hall")
    silver = tier_save(hub=hub, actor=None, name="Silver", credits_minor=1500)

    def variant(product_name: str, **fields: Any) -> int:
        product = product_save(hub=hub, actor=None, name=product_name)
        return variant_save(hub=hub, actor=None, product=product, **fields).id

    variants = {
        "bread": variant("Sourdough", price_minor=320),
        "veg_box": variant("Veg box", tier_id=silver.id),
        "chicken": variant("Whole chicken", price_minor=1200, by_weight=True, estimated_grams=1500),
        "apples": variant("Apples", name="1 kg", price_minor=450),
        "counted": [
            variant("Eggs", name="box of 6", price_minor=450, stock=COUNTED_STOCK),
            variant("Cheese", price_minor=780, stock=COUNTED_STOCK),
            variant("Honey", price_minor=900, stock=COUNTED_STOCK),
        ],
    }
    clearing = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.PAYMENTS_CLEARING, unit=UNIT)
    sales = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=UNIT)
    customer_ids = []
    for n in range(customers):
        customer = customer_create(hub=hub, email=f"bench{n}@example.org", first_name="Bench", last_name=str(n))
        ledger.transaction_post(
            hub_id=hub.id,
            key=f"bench-funding-{customer.account_id}",
            kind="funding",
            legs=[Leg(clearing.id, -FUNDING_MINOR, UNIT), Leg(customer.account_id, FUNDING_MINOR, UNIT)],
        )
        customer_ids.append(customer.id)
    return {
        "hub_id": hub.id,
        "cycle_id": cycle.id,
        "option_id": pickup.id,
        "variants": variants,
        "customers": customer_ids,
        "sales_id": sales.id,
    }


def basket(variants: dict[str, Any], n: int, counted: bool = True) -> dict[int, int]:
    """The n-th order's lines: bread, one of the three counted products (or apples), a veg box
    every other order and a chicken every fourth (7.70 to 51.60)."""
    items = {variants["bread"]: 1 + n % 3, variants["counted"][n % 3] if counted else variants["apples"]: 1}
    if n % 2 == 0:
        items[variants["veg_box"]] = 1
    if n % 4 == 0:
        items[variants["chicken"]] = 1
    return items


# --- worker processes -----------------------------------------------------------------------------


def _place(index: int, task: dict[str, Any]) -> dict[str, Any]:
    from hubtab.core.models import Hub
    from hubtab.crm.models import Customer
    from hubtab.shop.services import order_place

    ctx = task["ctx"]
    hub = Hub.objects.get(id=ctx["hub_id"])
    jobs = task["jobs"]
    customers = Customer.objects.filter(hub=hub).in_bulk([customer_id for customer_id, _ in jobs])
    order_ids, latencies, errors = [], [], Counter()
    time.sleep(max(0.0, task["start"] - time.time()))
    cpu_from = time.process_time()
    for i, (customer_id, n) in enumerate(jobs):
        started = time.perf_counter()
        try:
            order = order_place(
                hub=hub, customer=customers[customer_id], cycle_id=ctx["cycle_id"],
                items=basket(ctx["variants"], n, task["counted"]), option_id=ctx["option_id"],
                key=f"bench-{task['run']}-{index}-{i}",
            )  # fmt: skip
        except Exception as exc:  # counted and reported; any failure fails the benchmark
            errors[error_name(exc)] += 1
            continue
        latencies.append(time.perf_counter() - started)
        order_ids.append(order.id)
    return {
        "order_ids": order_ids,
        "latencies": latencies,
        "finished": time.time(),
        "cpu": time.process_time() - cpu_from,
        "errors": dict(errors),
    }


def _complete(index: int, task: dict[str, Any]) -> dict[str, Any]:
    from hubtab.core.models import Hub
    from hubtab.shop.services import order_complete

    hub = Hub.objects.get(id=task["ctx"]["hub_id"])
    done, latencies, errors = [], [], Counter()
    time.sleep(max(0.0, task["start"] - time.time()))
    cpu_from = time.process_time()
    for order_id in task["order_ids"]:
        started = time.perf_counter()
        try:
            order_complete(hub=hub, actor=None, order_id=order_id)
        except Exception as exc:
            errors[error_name(exc)] += 1
            continue
        latencies.append(time.perf_counter() - started)
        done.append(order_id)
    return {
        "order_ids": done,
        "latencies": latencies,
        "finished": time.time(),
        "cpu": time.process_time() - cpu_from,
        "errors": dict(errors),
    }


def _handle(index: int, task: dict[str, Any]) -> dict[str, Any]:
    return _place(index, task) if task["kind"] == "place" else _complete(index, task)


def _worker_main(index: int, tasks: Any, results: Any) -> None:
    django_worker_loop(BENCH_URL, index, tasks, results, _handle)


# --- measurements ---------------------------------------------------------------------------------


def _measure(pool: WorkerPool, kind: str, share: Any) -> dict[str, Any]:
    """Every worker does its share of `kind` from a common start; the figure is operations done
    over the time until the last worker finished. Backends waiting on a lock are sampled meanwhile."""
    start = time.time() + 0.5
    run = uuid.uuid4().hex[:10]
    sampler = LockSampler(BENCH_DB, start, start + 3600)

    def task(index: int) -> dict[str, Any]:
        return {"kind": kind, "start": start, "run": run, **share(index)}

    outs = pool.run(task, deadline=start + 3600, sampler=sampler)
    latencies = [x for out in outs for x in out["latencies"]]
    errors: Counter[str] = Counter()
    for out in outs:
        errors.update(out["errors"])
    count = sum(len(out["order_ids"]) for out in outs)
    elapsed = max(out["finished"] for out in outs) - start
    return {
        "operations": count,
        "elapsed_s": round(elapsed, 2),
        "per_s": round(count / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "client_cpu_ms": round(1000 * sum(out["cpu"] for out in outs) / count, 2) if count else None,
        "errors": dict(errors),
        **sampler.summary(),
        "order_ids": [order_id for out in outs for order_id in out["order_ids"]],
    }


def _place_and_complete(pool: WorkerPool, ctx: dict[str, Any], jobs: list, counted: bool) -> tuple[dict, dict]:
    placed = _measure(pool, "place", lambda i: {"ctx": ctx, "jobs": jobs[i :: pool.size], "counted": counted})
    order_ids = sorted(placed["order_ids"])
    completed = _measure(pool, "complete", lambda i: {"ctx": ctx, "order_ids": order_ids[i :: pool.size]})
    return placed, completed


def measure_workers(ctx: dict[str, Any], workers: int, rounds: int) -> dict[str, Any]:
    """Place `rounds` orders per customer from `workers` processes, then complete them all; then
    the diagnostic round without counted stock."""
    pool = WorkerPool(workers, _worker_main)
    try:
        # Warm-up: each process places and completes a few orders (connections, caches, imports).
        _place_and_complete(pool, ctx, [(ctx["customers"][i], i) for i in range(workers)] * WARMUP_ORDERS, True)
        # Customer-major order: the same customer comes back only after all the others.
        jobs = [(customer_id, n) for n, customer_id in enumerate(ctx["customers"] * rounds)]
        placed, completed = _place_and_complete(pool, ctx, jobs, counted=True)
        uncounted = [(customer_id, n) for n, customer_id in enumerate(ctx["customers"])]
        placed_uncounted, completed_uncounted = _place_and_complete(pool, ctx, uncounted, counted=False)
    finally:
        pool.close()
    return {
        "workers": workers,
        "place": placed,
        "complete": completed,
        "place_uncounted": placed_uncounted,
        "complete_uncounted": completed_uncounted,
        "expected": len(jobs) + len(uncounted) + workers * WARMUP_ORDERS,
    }


def queries_per_operation(ctx: dict[str, Any]) -> dict[str, int]:
    """How many SQL statements one order_place and one order_complete send (a diagnostic)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hubtab.core.models import Hub
    from hubtab.crm.models import Customer
    from hubtab.shop.services import checkout_key, order_complete, order_place

    hub = Hub.objects.get(id=ctx["hub_id"])
    customer = Customer.objects.get(hub=hub, id=ctx["customers"][0])
    with CaptureQueriesContext(connection) as placing:
        order = order_place(hub=hub, customer=customer, cycle_id=ctx["cycle_id"], items=basket(ctx["variants"], 0),
                            option_id=ctx["option_id"], key=checkout_key())  # fmt: skip
    with CaptureQueriesContext(connection) as completing:
        order_complete(hub=hub, actor=None, order_id=order.id)
    return {"place": len(placing.captured_queries), "complete": len(completing.captured_queries)}


# --- checks ---------------------------------------------------------------------------------------


def check(ctx: dict[str, Any], expected_orders: int) -> dict[str, Any]:
    """Every order completed and captured, nothing left held, the hub's sales equal to what the
    orders took, and the ledger's invariants."""
    from django.db.models import Count, Sum

    from hubtab.ledger.models import Hold
    from hubtab.ledger.selectors import account_state
    from hubtab.ledger.verify import ledger_verify
    from hubtab.shop.models import Order

    orders = Order.objects.filter(hub_id=ctx["hub_id"])
    by_status = dict(orders.values_list("status").annotate(n=Count("id")).order_by())
    totals = orders.aggregate(captured=Sum("captured_minor"), final=Sum("final_minor"), owed=Sum("owed_minor"))
    held = Hold.objects.filter(hub_id=ctx["hub_id"], status="held").count()
    sales = account_state(hub_id=ctx["hub_id"], account_id=ctx["sales_id"]).balance_minor
    started = time.time()
    breaches = ledger_verify(hub_id=ctx["hub_id"])
    problems = []
    if by_status != {"completed": expected_orders}:
        problems.append(f"orders by status {by_status}, expected {expected_orders} completed")
    if totals["captured"] != totals["final"] or totals["owed"]:
        problems.append(f"captured {totals['captured']} of final totals {totals['final']}, owed {totals['owed']}")
    if held:
        problems.append(f"{held} holds still held")
    if sales != totals["captured"]:
        problems.append(f"hub sales {sales} != captured {totals['captured']}")
    problems += [f"ledger verify: {b.check}: {b.detail}" for b in breaches[:20]]
    return {
        "ok": not problems,
        "problems": problems,
        "orders": by_status,
        "sales_minor": sales,
        "verify_s": round(time.time() - started, 1),
    }


# --- report ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="orders per customer at each worker count (default 3)")
    parser.add_argument("--workers", default="4,8", help="worker / pgbench client counts (default 4,8)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each pgbench figure (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--json", type=Path, default=JSON_PATH, help=f"result file (default {JSON_PATH})")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the finally below drops the databases
    worker_counts = [int(n) for n in args.workers.split(",")]
    started_at = datetime.now(UTC)

    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubtab.settings"
    os.environ.setdefault("HUBTAB_LOG_LEVEL", "WARNING")
    facts = server_facts()
    busy_before = cpu_busy()
    if busy_before is not None and busy_before > 0.25:
        print(f"warning: the CPUs are {busy_before:.0%} busy before starting: other work lowers the figures")
    print(
        f"PostgreSQL {facts['version']} at 127.0.0.1; synchronous_commit={facts['synchronous_commit']},"
        f" fsync={facts['fsync']}; {os.cpu_count()} CPUs",
        flush=True,
    )
    try:
        print(f"setup: {BENCH_DB} (migrate), {PGBENCH_DB} (pgbench -i -s {max(worker_counts)}) ...", flush=True)
        database_recreate(BENCH_DB)
        hubtab_migrate(BENCH_DB)
        pgbench_init(PGBENCH_DB, max(worker_counts))
        import django

        django.setup()
        from django.db import connection

        ctx = fixtures_create(args.customers)
        queries = queries_per_operation(ctx)
        connection.close()
        expected = 1  # the order queries_per_operation placed
        rows = []
        for workers in worker_counts:
            print(f"{workers} workers: {args.customers * args.rounds} orders ...", flush=True)
            row = measure_workers(ctx, workers, args.rounds)
            expected += row["expected"]
            subprocess.run(pgbench_command(PGBENCH_DB, workers, 2), check=True, capture_output=True)  # warm-up
            row["pgbench"] = pgbench_run(PGBENCH_DB, workers, args.duration)
            for kind in KINDS:
                row[kind]["ratio"] = round(row[kind]["per_s"] / row["pgbench"]["tps"], 3)
            print(
                f"  placed {row['place']['per_s']:.0f}/s, completed {row['complete']['per_s']:.0f}/s,"
                f" pgbench {row['pgbench']['tps']:.0f} tps",
                flush=True,
            )
            rows.append(row)
        print("checks and ledger verify ...", flush=True)
        result = check(ctx, expected)
        connection.close()

        print()
        print(
            f"Hubtab shop benchmark, {started_at:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, PostgreSQL"
            f" {facts['version']}, one hub, {args.customers} customers, {args.rounds} orders each per worker count"
        )
        errors: Counter[str] = Counter()
        for row in rows:
            tps, n = row["pgbench"]["tps"], row["workers"]
            for kind in ("place", "complete"):
                figure = row[kind]
                print(
                    f"{KINDS[kind] + ',':<18} {n} workers: {figure['per_s']:>6.0f}/s  p50 {figure['p50_ms']:>5.1f} ms"
                    f"  p99 {figure['p99_ms']:>6.1f} ms  | pgbench TPC-B-like, {n} clients: {tps:>5.0f} tps"
                    f"  | ratio {figure['ratio']:.3f}"
                )
        print("diagnostics:")
        for row in rows:
            for kind in KINDS:
                figure = row[kind]
                errors.update(figure["errors"])
                print(
                    f"  {KINDS[kind]:<40} {row['workers']} workers: {figure['per_s']:>4.0f}/s,"
                    f" p50 {figure['p50_ms']:>5.1f} ms, p99 {figure['p99_ms']:>6.1f} ms ({figure['operations']} in"
                    f" {figure['elapsed_s']} s), client CPU {figure['client_cpu_ms']} ms each, backends waiting on"
                    f" a lock {figure['lock_waiting_avg']} of {figure['active_avg']} active"
                )
        print(
            f"  SQL statements through Django: {queries['place']} per order placed, {queries['complete']} per order"
            " completed (each also calls one ledger function on the raw connection)"
        )
        if errors:
            print(f"FAILED OPERATIONS: {dict(errors)}")
        if result["ok"]:
            print(f"checks: all {expected} orders completed and captured, hub sales match; ledger verify: no breach")
        else:
            print("CHECKS FAILED:")
            for problem in result["problems"]:
                print(f"  {problem}")
        for row in rows:
            for kind in KINDS:
                row[kind].pop("order_ids")
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "date": started_at.isoformat(timespec="seconds"),
                    "command": " ".join([Path(sys.executable).name, *sys.argv]),
                    "machine": {
                        "cpus": os.cpu_count(),
                        "platform": platform.platform(),
                        "python": platform.python_version(),
                        "cpu_busy_before": busy_before,
                    },
                    "postgres": facts,
                    "config": vars(args) | {"json": str(args.json)},
                    "queries": queries,
                    "results": rows,
                    "failed_operations": dict(errors),
                    "checks": result,
                },
                indent=2,
                default=str,
            )
            + "\n"
        )
        print(f"results written to {args.json}")
        return 0 if result["ok"] and not errors else 1
    finally:
        if not args.keep:
            for name in (BENCH_DB, PGBENCH_DB):
                database_drop(name)
            print(f"dropped {BENCH_DB} and {PGBENCH_DB}")


if __name__ == "__main__":
    sys.exit(main())
