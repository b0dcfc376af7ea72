"""API throughput: POST .../account/charges through the app as it runs in production, beside the
in-process posting figure of bench/ledger.py measured in the same run.

Run from the project root:  .venv/bin/python bench/api.py [--duration 10] [--clients 8]

What it does (see docs/performance.md):
  1. (Re)creates the ledger benchmark's scratch database `hubtab_bench`, migrated, with one hub,
     50 customers funded with 10^11 minor units each, and an API token.
  2. Starts `hubtab serve` (gunicorn, `--web-workers`, default 2 x cores + 1) on 127.0.0.1 on that
     database, and drives it with `--clients` concurrent HTTP clients (threads with keep-alive
     connections), each POSTing charges of 1..500 minor units for random customers, every request
     with its own Idempotency-Key. Counts the 201s in the window after a warm-up; any other answer
     fails the run.
  3. In the same run, measures bench/ledger.py's shape b (customer -> the hub's sales, through
     `transaction_post`) with the same number of worker processes.
  4. Prints requests/s, p50/p99 latency and the ratio. Target: >= 0.5x the in-process figure,
     p99 < 50 ms. Runs `ledger verify` at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ledger as ledger_bench  # bench/ledger.py: its scratch database, worker pool and shape b
from common import ROOT, database_drop, database_recreate, hubtab_migrate, server_facts

sys.path.insert(0, str(ROOT / "src"))

JSON_PATH = ROOT / "var" / "bench-api.json"
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


def fixtures_create() -> dict[str, Any]:
    from hubtab.api.services import token_create
    from hubtab.core.services import hub_create
    from hubtab.crm.services import customer_create
    from hubtab.ledger import services
    from hubtab.ledger.services import SystemAccount
    from hubtab.ledger.types import Leg

    unit = ledger_bench.UNIT
    hub = hub_create(slug="bench", name="Bench hub", currency=unit)
    clearing = services.account_system_get(hub_id=hub.id, code=SystemAccount.PAYMENTS_CLEARING, unit=unit)
    sales = services.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=unit)
    customers, accounts = [], []
    for n in range(ledger_bench.CUSTOMERS):
        customer = customer_create(hub=hub, email=f"bench{n}@example.org", first_name="Bench", last_name=str(n))
        services.transaction_post(
            hub_id=hub.id,
            key=f"bench-funding-{customer.account_id}",
            kind="funding",
            legs=[
                Leg(clearing.id, -ledger_bench.FUNDING_MINOR, unit),
                Leg(customer.account_id, ledger_bench.FUNDING_MINOR, unit),
            ],
        )
        customers.append(customer.id)
        accounts.append(customer.account_id)
    _, secret = token_create(hub=hub, name="bench", scopes=["accounts:write", "accounts:read"], created_by=None)
    return {
        "hub_id": hub.id,
        "customers": accounts,  # what bench/ledger.py's workers post to
        "customer_ids": customers,  # what the API is called with
        "sales_id": sales.id,
        "token": secret,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_start(port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": ledger_bench.BENCH_URL,
        "HUBTAB_ALLOWED_HOSTS": "127.0.0.1",
        "HUBTAB_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).with_name("hubtab")), "serve", "--port", str(port), "--workers", str(workers)]
    log = open(ROOT / "var" / "bench-api-server.log", "w")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    # The master accepts connections before its workers have loaded the app: wait until requests
    # are answered fast, so that the warm-up and the window measure a running server.
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit("hubtab serve exited: see var/bench-api-server.log")
        try:
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/v1/openapi.json")
            ok = conn.getresponse().status == 200
            conn.close()
            if ok and time.perf_counter() - started < 0.05:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("hubtab serve did not answer quickly within 60 s")


def _client(index: int, ctx: dict[str, Any], port: int, measure_from: float, end: float, out: dict) -> None:
    rng = random.Random(index)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {ctx['token']}", "Content-Type": "application/json"}
    latencies, errors, count, run = [], {}, 0, uuid.uuid4().hex[:8]
    i = 0
    while True:
        now = time.time()
        if now >= end:
            break
        i += 1
        customer = rng.choice(ctx["customer_ids"])
        body = json.dumps({"amount": rng.randint(1, 500), "reference": f"bench-{run}-{index}-{i}"})
        started = time.perf_counter()
        try:
            conn.request(
                "POST",
                f"/api/v1/customers/{customer}/account/charges",
                body,
                {**headers, "Idempotency-Key": f"bench-{run}-{index}-{i}"},
            )
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        finished = time.time()
        if status != 201:
            errors[str(status)] = errors.get(str(status), 0) + 1
        elif measure_from <= finished <= end:
            count += 1
            latencies.append((time.perf_counter() - started) * 1000)
    conn.close()
    out[index] = {"count": count, "latencies": latencies, "errors": errors}


def api_measure(ctx: dict[str, Any], port: int, clients: int, warmup: float, duration: float) -> dict[str, Any]:
    start = time.time() + 0.2
    measure_from, end = start + warmup, start + warmup + duration
    outs: dict[int, Any] = {}
    threads = [threading.Thread(target=_client, args=(i, ctx, port, measure_from, end, outs)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(x for o in outs.values() for x in o["latencies"])
    errors: dict[str, int] = {}
    for o in outs.values():
        for k, v in o["errors"].items():
            errors[k] = errors.get(k, 0) + v
    count = sum(o["count"] for o in outs.values())
    return {
        "per_s": round(count / duration, 1),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2) if latencies else None,
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = ledger_bench.BENCH_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubtab.settings"
    os.environ.setdefault("HUBTAB_LOG_LEVEL", "WARNING")
    started_at = datetime.now(UTC)
    facts = server_facts()
    print(f"setup: {ledger_bench.BENCH_DB} (migrate), hub, 50 customers, a token ...", flush=True)
    database_recreate(ledger_bench.BENCH_DB)
    hubtab_migrate(ledger_bench.BENCH_DB)
    import django

    django.setup()
    from django.db import connection

    ctx = fixtures_create()
    connection.close()

    print(f"in-process: bench/ledger.py shape b with {args.clients} worker processes ...", flush=True)
    pool = ledger_bench.Pool(args.clients)
    try:
        inproc = ledger_bench.measure_timed(pool, "hubtab", "b", ctx, args.warmup, args.duration)
    finally:
        pool.close()

    port = _free_port()
    print(f"API: hubtab serve ({args.web_workers} workers) on :{port}, {args.clients} clients ...", flush=True)
    server = server_start(port, args.web_workers)
    try:
        result = api_measure(ctx, port, args.clients, args.warmup, args.duration)
    finally:
        server.terminate()
        server.wait(timeout=30)
    check = ledger_bench.verify()

    ratio = result["per_s"] / inproc["per_s"] if inproc["per_s"] else None
    met = ratio is not None and ratio >= TARGET_RATIO and (result["p99_ms"] or 1e9) < TARGET_P99_MS
    print()
    print(
        f"API benchmark, {started_at:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, PostgreSQL {facts['version']},"
        f" {args.duration} s windows, {args.clients} clients, {args.web_workers} gunicorn workers"
    )
    print(
        f"POST /charges through hubtab serve: {result['per_s']:.0f} requests/s, p50 {result['p50_ms']} ms,"
        f" p99 {result['p99_ms']} ms"
    )
    print(f"in-process postings (bench/ledger.py shape b, {args.clients} workers): {inproc['per_s']:.0f}/s")
    print(
        f"ratio {ratio:.2f} (target >= {TARGET_RATIO}), p99 target < {TARGET_P99_MS:.0f} ms:"
        f" {'met' if met else 'NOT met'}"
    )
    if result["errors"] or inproc["errors"]:
        print(f"FAILED REQUESTS: api {result['errors']}, in-process {inproc['errors']}")
    print("ledger verify: " + ("all invariants hold" if check["ok"] else f"{check['breach_count']} BREACHES"))
    JSON_PATH.parent.mkdir(parents=True, exist_ok=True)
    JSON_PATH.write_text(
        json.dumps(
            {
                "date": started_at.isoformat(timespec="seconds"),
                "config": vars(args),
                "postgres": facts,
                "api": result,
                "in_process": {k: v for k, v in inproc.items() if k != "latencies"},
                "ratio": ratio,
                "target_met": met,
                "verify_ok": check["ok"],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    print(f"results written to {JSON_PATH}")
    if not args.keep:
        database_drop(ledger_bench.BENCH_DB)
    return 0 if check["ok"] and not result["errors"] and not inproc["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
