"""Ledger throughput benchmark: Hubtab postings per second against pgbench's TPC-B-like script.

Run from the project root:  .venv/bin/python bench/ledger.py [--quick]

What it does (see docs/performance.md):
  1. (Re)creates two databases of its own on 127.0.0.1:5432 -- hubtab_bench, migrated with
     `hubtab migrate`, and hubtab_pgbench, initialised with `pgbench -i` -- and nothing else.
  2. Opens a hub, 50 funded customer accounts and the hub's sharded `sales` account.
  3. For 1, 8 and 32 workers (separate OS processes, spawn, each with django.setup() and its own
     connection, durable commits), counts postings acknowledged by
     hubtab.ledger.services.transaction_post in a fixed window after a warm-up:
       shape a: transfers between random pairs of customers;
       shape b: "hot hub": customers paying the one hub `sales` account.
     As a diagnostic, the same workers also call `SELECT * FROM hubtab_post(...)` directly
     through psycopg (no Django, no Python-side validation).
  4. Runs `pgbench -n -c N -j min(N,2) -T <same duration>` at the same client counts; then, as a
     second diagnostic, pgbench's C client calling the same hubtab_post statement for shapes a
     and b on the bench database (the database side of a posting, without Python).
  5. Times a billing run of 10,000 charges (customer -> sales) from one process and from 8.
  6. Runs ledger verify on the bench database and fails (exit 1) if any invariant is broken
     or any posting failed.
Results are printed and written to var/bench-ledger.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    HOST,
    PORT,
    ROOT,
    USER,
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

BENCH_DB = "hubtab_bench"
PGBENCH_DB = "hubtab_pgbench"
BENCH_URL = database_url(BENCH_DB)

UNIT = "EUR"
CUSTOMERS = 50
FUNDING_MINOR = 10**11  # per customer: a billion euros, so no transfer ever meets the floor
TARGET_RATIO = 0.8  # both shapes >= 0.8x pgbench at 8 workers
TARGET_WORKERS = 8
JSON_PATH = ROOT / "var" / "bench-ledger.json"

# The statement pg.post() sends, copied so the raw diagnostic runs exactly the same SQL.
POST_SQL = (
    "SELECT * FROM hubtab_post(%s, %s, %s, %s, %s, %s, %s, %s, %s::bigint[], %s::bigint[], %s::text[],"
    " %s::text[], %s::timestamptz[], %s::bigint[], %s, %s)"
)


# --- fixtures -------------------------------------------------------------------------------------


def fixtures_create() -> dict[str, Any]:
    """One hub, 50 customers each funded from payments_clearing, and the hub's sharded sales account."""
    from django.conf import settings

    from hubtab.core.services import hub_create
    from hubtab.ledger import services
    from hubtab.ledger.services import SystemAccount
    from hubtab.ledger.types import Leg

    hub = hub_create(slug="bench", name="Bench hub", currency=UNIT)
    clearing = services.account_system_get(hub_id=hub.id, code=SystemAccount.PAYMENTS_CLEARING, unit=UNIT)
    sales = services.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=UNIT)
    customers = []
    for n in range(CUSTOMERS):
        account = services.account_open(
            hub_id=hub.id, kind="customer", unit=UNIT, name=f"Bench customer {n + 1}", floor_minor=0
        )
        services.transaction_post(
            hub_id=hub.id,
            key=f"bench-funding-{account.id}",
            kind="funding",
            legs=[Leg(clearing.id, -FUNDING_MINOR, UNIT), Leg(account.id, FUNDING_MINOR, UNIT)],
        )
        customers.append(account.id)
    return {
        "hub_id": hub.id,
        "customers": customers,
        "sales_id": sales.id,
        "clearing_id": clearing.id,
        "sales_shards": settings.HUBTAB_SYSTEM_ACCOUNT_SHARDS,
    }


# --- worker processes -----------------------------------------------------------------------------


def _poster(mode: str, ctx: dict[str, Any]) -> tuple[Any, Any]:
    """A function post(key, from_id, to_id, amount) for the mode, and a closer."""
    hub_id = ctx["hub_id"]
    if mode == "hubtab":
        from django.db import connection

        from hubtab.ledger.services import transaction_post
        from hubtab.ledger.types import Leg

        def post(key: str, src: int, dst: int, amount: int) -> None:
            posted = transaction_post(hub_id=hub_id, key=key, legs=(Leg(src, -amount, UNIT), Leg(dst, amount, UNIT)))
            if posted.replayed:
                raise RuntimeError(f"key {key} unexpectedly replayed")

        connection.ensure_connection()
        return post, lambda: None

    import psycopg

    conn = psycopg.connect(host=HOST, port=PORT, user=USER, dbname=BENCH_DB, autocommit=True)
    nulls = [None, None]

    def post_raw(key: str, src: int, dst: int, amount: int) -> None:
        request_hash = hashlib.sha256(key.encode()).hexdigest()
        row = conn.execute(
            POST_SQL,
            [
                hub_id,
                key,
                request_hash,
                "transfer",
                "",
                None,
                "",
                None,
                [src, dst],
                [-amount, amount],
                [UNIT, UNIT],
                nulls,
                nulls,
                nulls,
                None,
                None,
            ],
        ).fetchone()
        if row[1]:
            raise RuntimeError(f"key {key} unexpectedly replayed")

    return post_raw, conn.close


def _run_timed(index: int, task: dict[str, Any]) -> dict[str, Any]:
    ctx, shape = task["ctx"], task["shape"]
    customers, sales = ctx["customers"], ctx["sales_id"]
    post, close = _poster(task["mode"], ctx)
    rng = random.Random(task["seed"])
    run_id = uuid.uuid4().hex[:12]
    measure_from, end = task["measure_from"], task["end"]
    count, i, latencies, errors = 0, 0, [], Counter()
    cpu_from = cpu_to = None
    time.sleep(max(0.0, task["start"] - time.time()))
    try:
        while True:
            now = time.time()
            if now >= end:
                break
            if cpu_from is None and now >= measure_from:
                cpu_from = time.process_time()
            if shape == "a":
                src, dst = rng.sample(customers, 2)
            else:
                src, dst = rng.choice(customers), sales
            key = f"bench-{shape}-{index}-{i}-{run_id}"
            i += 1
            started = time.perf_counter()
            try:
                post(key, src, dst, rng.randint(1, 500))
            except Exception as exc:  # counted and reported; any failure fails the benchmark
                errors[error_name(exc)] += 1
                continue
            finished = time.time()
            if measure_from <= finished <= end:
                count += 1
                latencies.append(time.perf_counter() - started)
        cpu_to = time.process_time()
    finally:
        close()
    return {
        "count": count,
        "latencies": latencies,
        "errors": dict(errors),
        "cpu": (cpu_to - cpu_from) if cpu_from is not None else 0.0,
    }


def _run_batch(index: int, task: dict[str, Any]) -> dict[str, Any]:
    """A billing run's share: `count` charges, customer -> sales, round the 50 customers."""
    ctx = task["ctx"]
    customers, sales = ctx["customers"], ctx["sales_id"]
    post, close = _poster("hubtab", ctx)
    rng = random.Random(task["seed"])
    run_id = uuid.uuid4().hex[:12]
    errors: Counter[str] = Counter()
    time.sleep(max(0.0, task["start"] - time.time()))
    try:
        for i in range(task["count"]):
            customer = customers[(index + i * task["stride"]) % len(customers)]
            try:
                post(f"bench-batch-{index}-{i}-{run_id}", customer, sales, rng.randint(1, 500))
            except Exception as exc:
                errors[error_name(exc)] += 1
        finished = time.time()
    finally:
        close()
    return {"count": task["count"] - sum(errors.values()), "finished": finished, "errors": dict(errors)}


def _handle(index: int, task: dict[str, Any]) -> dict[str, Any]:
    return _run_batch(index, task) if task["mode"] == "batch" else _run_timed(index, task)


def _worker_main(index: int, tasks: Any, results: Any) -> None:
    django_worker_loop(BENCH_URL, index, tasks, results, _handle)


class Pool(WorkerPool):
    """N spawned ledger worker processes, kept for several measurements at one worker count."""

    def __init__(self, size: int) -> None:
        super().__init__(size, _worker_main)


# --- measurements ---------------------------------------------------------------------------------


def measure_timed(pool: Pool, mode: str, shape: str, ctx: dict[str, Any], warmup: float, duration: float) -> dict:
    start = time.time() + 0.5
    measure_from = start + warmup
    end = measure_from + duration
    seed = random.randrange(1 << 30)
    sampler = LockSampler(BENCH_DB, measure_from, end)
    outs = pool.run(
        lambda i: {
            "mode": mode,
            "shape": shape,
            "ctx": ctx,
            "start": start,
            "measure_from": measure_from,
            "end": end,
            "seed": seed + i,
        },
        deadline=end + 120,
        sampler=sampler,
    )
    latencies = [x for out in outs for x in out["latencies"]]
    errors: Counter[str] = Counter()
    for out in outs:
        errors.update(out["errors"])
    count = sum(out["count"] for out in outs)
    return {
        "postings": count,
        "per_s": round(count / duration, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "client_cpu_ms_per_posting": round(1000 * sum(out["cpu"] for out in outs) / count, 3) if count else None,
        "errors": dict(errors),
        **sampler.summary(),
    }


def sql_scripts_write(ctx: dict[str, Any], directory: Path) -> dict[str, Path]:
    """pgbench scripts posting shapes a and b by calling hubtab_post with the statement pg.post()
    sends: the database side of a posting, driven by pgbench's C client instead of Python.
    The 50 customers have consecutive ids (fixtures_create opens them one after the other)."""
    first, count = ctx["customers"][0], len(ctx["customers"])
    assert ctx["customers"] == list(range(first, first + count))
    call = (
        "SELECT * FROM hubtab_post({hub}, 'pgbench-{shape}-' || :client_id || '-' || :k, 'h', 'transfer', '',"
        " NULL, '', NULL, ARRAY[(:src)::bigint, (:dst)::bigint], ARRAY[-(:amt)::bigint, (:amt)::bigint],"
        " '{{{unit},{unit}}}'::text[], NULL::text[], NULL::timestamptz[], NULL::bigint[], NULL, NULL);"
    )
    common = (
        f"\\set src random({first}, {first + count - 1})\n\\set amt random(1, 500)\n\\set k random(1, 1000000000000)\n"
    )
    dst = {
        "a": f"\\set off random(1, {count - 1})\n\\set dst {first} + (:src - {first} + :off) % {count}\n",
        "b": f"\\set dst {ctx['sales_id']}\n",
    }
    paths = {}
    for shape in ("a", "b"):
        paths[shape] = directory / f"hubtab_post_{shape}.sql"
        paths[shape].write_text(common + dst[shape] + call.format(hub=ctx["hub_id"], shape=shape, unit=UNIT) + "\n")
    return paths


def pgbench_measure(clients: int, duration: int, script: Path | None = None) -> dict[str, Any]:
    """pgbench's TPC-B-like script on its own database, or `script` on the bench database, with
    backends waiting on a lock sampled meanwhile."""
    name = PGBENCH_DB if script is None else BENCH_DB
    start = time.time()
    sampler = LockSampler(name, start + 1, start + duration)
    return {**pgbench_run(name, clients, duration, script, while_running=sampler), **sampler.summary()}


def measure_batch(pool: Pool, ctx: dict[str, Any], total: int) -> dict[str, Any]:
    per_worker = total // pool.size
    start = time.time() + 0.5
    outs = pool.run(
        lambda i: {"mode": "batch", "ctx": ctx, "start": start, "count": per_worker, "stride": pool.size, "seed": i},
        deadline=start + 3600,
    )
    errors: Counter[str] = Counter()
    for out in outs:
        errors.update(out["errors"])
    elapsed = max(out["finished"] for out in outs) - start
    count = sum(out["count"] for out in outs)
    return {
        "processes": pool.size,
        "charges": count,
        "elapsed_s": round(elapsed, 2),
        "per_s": round(count / elapsed, 1),
        "errors": dict(errors),
    }


# --- checks ---------------------------------------------------------------------------------------


def sales_shard_use(ctx: dict[str, Any]) -> dict[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shard, count(*) FROM ledger_entry WHERE account_id = %s GROUP BY shard ORDER BY shard",
            [ctx["sales_id"]],
        )
        return dict(cursor.fetchall())


def open_lots_per_customer() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*)::float / greatest(count(DISTINCT account_id), 1) FROM ledger_lot WHERE remaining_minor > 0"
        )
        return round(cursor.fetchone()[0], 1)


def verify() -> dict[str, Any]:
    from hubtab.ledger.verify import ledger_counts, ledger_verify

    started = time.time()
    breaches = ledger_verify()
    return {
        "ok": not breaches,
        "breaches": [f"{b.check}: {b.detail}" for b in breaches[:50]],
        "breach_count": len(breaches),
        "counts": ledger_counts(),
        "seconds": round(time.time() - started, 1),
    }


# --- report ---------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def table_print(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'shape':<10} {'workers':>7} {'Hubtab/s':>9} {'pgbench tps':>11} {'ratio':>6}  {'target':<16}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'raw SQL/s':>9} {'py cpu ms':>9} {'SQL/s pgbench client':>20} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        target = ""
        if row["workers"] == TARGET_WORKERS:
            met = row["ratio"] is not None and row["ratio"] >= TARGET_RATIO
            target = f">= {TARGET_RATIO:.1f}x {'met' if met else 'NOT met'}"
        print(
            f"{row['shape']:<10} {row['workers']:>7} {row['hubtab_per_s']:>9.0f} {_fmt(row['pgbench_tps']):>11}"
            f" {_fmt(row['ratio'], '.2f'):>6}  {target:<16} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f}"
            f" {_fmt(row.get('raw_per_s')):>9} {_fmt(row['client_cpu_ms_per_posting'], '.2f'):>9}"
            f" {_fmt(row.get('sql_per_s')):>20} {_fmt(row.get('sql_ratio'), '.2f'):>6}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run: 3 s windows, 1 s warm-up, 2,000-charge batch")
    parser.add_argument("--duration", type=int, help="seconds measured per figure (default 10, 3 with --quick)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds before each figure (default 2, 1 with --quick)")
    parser.add_argument("--workers", default="1,8,32", help="worker / client counts (default 1,8,32)")
    parser.add_argument("--scale", type=int, help="pgbench scale factor (default: the largest client count)")
    parser.add_argument(
        "--batch", type=int, help="charges in the billing-run figure (default 10000, 2000 with --quick)"
    )
    parser.add_argument("--no-raw", action="store_true", help="skip the raw `SELECT hubtab_post(...)` diagnostic")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--json", type=Path, default=JSON_PATH, help=f"result file (default {JSON_PATH})")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the worker processes are stopped too
    duration = args.duration or (3 if args.quick else 10)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    worker_counts = [int(n) for n in args.workers.split(",")]
    scale = args.scale or max(worker_counts)
    batch_total = args.batch or (2000 if args.quick else 10000)
    started_at = datetime.now(UTC)

    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubtab.settings"
    os.environ.setdefault("HUBTAB_LOG_LEVEL", "WARNING")

    facts = server_facts()
    busy_before = cpu_busy()
    if busy_before is not None and busy_before > 0.25:
        print(
            f"warning: the CPUs are {busy_before:.0%} busy before starting: other work on this machine will"
            " lower the figures",
            flush=True,
        )
    print(
        f"PostgreSQL {facts['version']} at {HOST}:{PORT}; synchronous_commit={facts['synchronous_commit']},"
        f" fsync={facts['fsync']}; {os.cpu_count()} CPUs; {duration} s per figure after {warmup} s warm-up"
    )

    print(f"setup: {BENCH_DB} (migrate), {PGBENCH_DB} (pgbench -i -s {scale}) ...", flush=True)
    database_recreate(BENCH_DB)
    hubtab_migrate(BENCH_DB)
    t = time.time()
    pgbench_init(PGBENCH_DB, scale)
    print(f"  pgbench -i -s {scale}: {time.time() - t:.0f} s", flush=True)

    import django

    django.setup()
    from django.db import connection

    ctx = fixtures_create()
    connection.close()
    script_dir = Path(tempfile.mkdtemp(prefix="hubtab-bench-"))
    scripts = sql_scripts_write(ctx, script_dir)

    rows: list[dict[str, Any]] = []
    for workers in worker_counts:
        print(f"{workers} worker(s): starting processes ...", flush=True)
        pool = Pool(workers)
        try:
            for shape, label in (("a", "transfers"), ("b", "hot hub")):
                result = measure_timed(pool, "hubtab", shape, ctx, warmup, duration)
                raw = None if args.no_raw else measure_timed(pool, "raw", shape, ctx, warmup, duration)
                rows.append(
                    {
                        "shape": f"{shape} {label}",
                        "workers": workers,
                        "hubtab_per_s": result["per_s"],
                        **{k: v for k, v in result.items() if k != "per_s"},
                        "raw_per_s": raw["per_s"] if raw else None,
                        "raw": raw,
                    }
                )
                print(
                    f"  shape {shape}: {result['per_s']:.0f} postings/s"
                    + (f" (raw SQL {raw['per_s']:.0f}/s)" if raw else ""),
                    flush=True,
                )
        finally:
            pool.close()
        subprocess.run(pgbench_command(PGBENCH_DB, workers, max(1, warmup)), check=True, capture_output=True)  # warm-up
        bench = pgbench_measure(workers, duration)
        print(f"  pgbench: {bench['tps']:.0f} tps", flush=True)
        sql = {shape: pgbench_measure(workers, duration, script) for shape, script in scripts.items()}
        print(f"  hubtab_post from pgbench's client: a {sql['a']['tps']:.0f}/s, b {sql['b']['tps']:.0f}/s", flush=True)
        for row in rows:
            if row["workers"] == workers:
                row["pgbench_tps"] = bench["tps"]
                row["pgbench"] = bench
                row["ratio"] = round(row["hubtab_per_s"] / bench["tps"], 3) if bench["tps"] else None
                row["sql_per_s"] = sql[row["shape"][0]]["tps"]
                row["sql_ratio"] = round(row["sql_per_s"] / bench["tps"], 3) if bench["tps"] else None

    batches = []
    for processes in (1, 8):
        print(f"batch: {batch_total} charges from {processes} process(es) ...", flush=True)
        pool = Pool(processes)
        try:
            batches.append(measure_batch(pool, ctx, batch_total))
        finally:
            pool.close()

    print("ledger verify ...", flush=True)
    check = verify()
    shards = sales_shard_use(ctx)
    lots = open_lots_per_customer()
    connection.close()

    # Serialisation of the hot hub: shape b must scale with workers like shape a does.
    def figure(shape: str, workers: int) -> float | None:
        return next((r["hubtab_per_s"] for r in rows if r["shape"].startswith(shape) and r["workers"] == workers), None)

    serial: dict[str, Any] = {}
    if figure("b", 1) and figure("b", TARGET_WORKERS):
        b_scale = figure("b", TARGET_WORKERS) / figure("b", 1)
        a_scale = figure("a", TARGET_WORKERS) / figure("a", 1)
        serial = {
            "b_8_over_1": round(b_scale, 2),
            "a_8_over_1": round(a_scale, 2),
            "b_over_a_at_8": round(figure("b", TARGET_WORKERS) / figure("a", TARGET_WORKERS), 2),
            "sales_shards_used": len(shards),
            "sales_shards": ctx["sales_shards"],
            "serialised": b_scale < 0.8 * a_scale,
        }

    print()
    print(
        f"Hubtab ledger benchmark, {started_at:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, PostgreSQL "
        f"{facts['version']}, synchronous_commit={facts['synchronous_commit']}, {duration} s windows"
    )
    table_print(rows)
    print(
        "(ratio = Hubtab postings/s / pgbench TPC-B tps; raw SQL/s = the same workers calling"
        " SELECT hubtab_post(...) through psycopg, a diagnostic; py cpu ms = client CPU per posting;"
        " SQL/s pgbench client = pgbench's C client calling the same hubtab_post statement, i.e. the"
        " database side of a posting with no Python, and its ratio to pgbench TPC-B)"
    )
    print()
    for batch in batches:
        print(
            f"batch: {batch['charges']} charges from {batch['processes']} process(es) in {batch['elapsed_s']} s"
            f" = {batch['per_s']:.0f} postings/s"
        )
    if serial:
        print(
            f"hot hub scaling: shape b at {TARGET_WORKERS} workers = {serial['b_8_over_1']}x its 1-worker figure"
            f" (shape a: {serial['a_8_over_1']}x); b/a at {TARGET_WORKERS} = {serial['b_over_a_at_8']};"
            f" sales shards used {serial['sales_shards_used']}/{serial['sales_shards']}"
            f" -> {'SERIALISED' if serial['serialised'] else 'not serialised'}"
        )
    lock_rows = ", ".join(f"{r['shape'][0]}@{r['workers']}: {r['lock_waiting_avg']}" for r in rows)
    print(f"backends waiting on a lock (avg of samples): {lock_rows}")
    print(f"open lots per customer at the end: {lots}")
    errors: Counter[str] = Counter()
    for item in [*rows, *[r["raw"] for r in rows if r.get("raw")], *batches]:
        errors.update(item["errors"])
    if errors:
        print(f"FAILED POSTINGS: {dict(errors)}")
    counts = ", ".join(f"{n} {name}" for name, n in check["counts"].items())
    if check["ok"]:
        print(f"ledger verify: all invariants hold over {counts} ({check['seconds']} s)")
    else:
        print(f"LEDGER VERIFY FAILED: {check['breach_count']} breach(es) over {counts}")
        for line in check["breaches"]:
            print(f"  BREACH {line}")

    result = {
        "date": started_at.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_busy_before": busy_before,
        },
        "postgres": facts,
        "config": {
            "duration_s": duration,
            "warmup_s": warmup,
            "workers": worker_counts,
            "pgbench_scale": scale,
            "customers": CUSTOMERS,
            "sales_shards": ctx["sales_shards"],
            "batch_charges": batch_total,
            "quick": args.quick,
        },
        "targets": {"ratio_at_8_workers": TARGET_RATIO},
        "results": rows,
        "batch": batches,
        "hot_hub_serialisation": serial,
        "sales_shard_entries": shards,
        "open_lots_per_customer": lots,
        "failed_postings": dict(errors),
        "verify": check,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"results written to {args.json}")

    shutil.rmtree(script_dir, ignore_errors=True)
    if not args.keep:
        for name in (BENCH_DB, PGBENCH_DB):
            database_drop(name)
    return 0 if check["ok"] and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
