"""CRM speed at 100,000 people and 1,000,000 orders in one hub: the people list page with its count,
the CSV export of everyone, and an import of 10,000 rows, each beside `pgbench -S` in the same run.

Run from the project root (about 6 minutes at full size, most of it writing the data):
  make bench-customers
  .venv/bin/python bench/customers.py [--people 100000] [--orders 1000000] [--repeat 20] [--keep] [--reuse]
A quick check that it still runs (about 1 minute):
  .venv/bin/python bench/customers.py --people 2000 --orders 20000 --import-rows 500 --repeat 3

What it does (see docs/performance.md, "CRM"):
  1. (Re)creates its own database (`hubtab_bench_crm`, or --database hubtab_bench...) on
     127.0.0.1:5432, migrated by `hubtab migrate`, and writes one hub's people, orders, activity and
     figures with a few INSERT ... SELECT statements, the same on every run (bench/customers_data.py).
     --reuse keeps a database that --keep left, if it holds the same sizes.
  2. Runs `pgbench -S` (select-only, one client, 5 s) on a scratch pgbench database of the same server.
  3. For each shape of the list (the first page, a three-condition segment, never ordered, not in
     this cycle, running low, and the older searches and deep page), requests the page through
     Django's test client logged in as the hub's owner (permission, session, every query, the count,
     the template), `--repeat` times after two warm-ups, and times the selector alone (the count and
     the first 50 people of crm.people.people_matching / people_sorted): median and 95th percentile.
  4. Exports every person in use with all 15 columns through the export view, in a process of its
     own: the time to the last byte and the process's memory (RSS) before, during and at its peak.
  5. Imports a file of `--import-rows` people (a fifth of them existing people with a changed phone
     and a new tag) through crm.imports: the upload's dry run, a second check, and applying it.
  6. As a reference for the searches, the same searches with the trigram index dropped.
Results are printed and written to var/bench-customers.json. The databases are dropped at the end
unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # bench/ is not a package: its scripts run from the project root
    HOST,
    OWN_PREFIXES,
    PORT,
    ROOT,
    USER,
    admin_connect,
    cpu_busy,
    database_drop,
    database_recreate,
    database_url,
    hubtab_migrate,
    percentile,
    pgbench_path,
    server_facts,
)
from customers_data import FIRST, HUB_SLUG, LAST, OWNER_EMAIL, data_summary, people_and_orders_create

sys.path.insert(0, str(ROOT / "src"))

BENCH_DB = "hubtab_bench_crm"
JSON_PATH = ROOT / "var" / "bench-customers.json"
TARGET_PAGE_P95_MS = 150
TARGET_EXPORT_S = 5
TARGET_EXPORT_RSS_MB = 150
TARGET_IMPORT_S = 30
ALL_COLUMNS = (
    "name,email,phone,tags,status,source,created,last_purchase,orders,spent,average,balance,spendable,consent,notes"
)

# name, query string, whether the issue sets the target on it: what the hub's crew do on the list page
SHAPES: list[tuple[str, dict[str, Any], bool]] = [
    ("first page", {}, True),
    (
        "segment: tag + last 8 weeks + spent > 500",
        {"c": ["tags_any", "last_within", "spent_min"], "v": ["weekly", "8", "500"], "j": ["and", "and", "and"]},
        True,
    ),
    ("never ordered", {"c": "never_ordered", "v": "", "j": "and"}, True),
    ("not in this cycle", {"c": "not_in_cycle", "v": "", "j": "and"}, True),
    ("running low", {"low": "1"}, True),
    ("page 1,000 (deep)", {"page": "1000"}, False),
    ("search: common surname", {"q": "martin"}, False),
    ("search: two words", {"q": "marie dubois"}, False),
    ("search: email fragment", {"q": "4242@"}, False),
    ("search: rare, no match", {"q": "zzqx"}, False),
    ("tag filter", {"tag": "school"}, False),
    ("search + tag", {"q": "hugo", "tag": "weekly"}, False),
]
SEARCH_SHAPES = [name for name, params, _target in SHAPES if "q" in params]


def pgbench_select_only(name: str, seconds: int) -> dict[str, Any]:
    """`pgbench -S`, one client, on a fresh scale-1 database `name` of the same server."""
    database_recreate(name)
    base = [pgbench_path(), "-h", HOST, "-p", str(PORT), "-U", USER]
    subprocess.run([*base, "-i", "-s", "1", "-q", name], check=True, capture_output=True)
    out = subprocess.run(
        [*base, "-n", "-S", "-c", "1", "-T", str(seconds), name], check=True, capture_output=True, text=True
    ).stdout
    latency = re.search(r"latency average = ([0-9.]+) ms", out)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    return {
        "latency_ms": float(latency.group(1)) if latency else None,
        "tps": float(tps.group(1)) if tps else None,
    }


def _timed(times: list[float], repeat: int, once: Any) -> Any:
    out = None
    for _ in range(2):  # warm caches and the connection
        out = once()
    for _ in range(repeat):
        started = time.perf_counter()
        out = once()
        times.append((time.perf_counter() - started) * 1000)
    return out


def _summary(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1)}


def page_measure(client: Any, url: str, params: dict[str, Any], repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def once() -> Any:
        response = client.get(url, params)
        assert response.status_code == 200, response.status_code
        return response

    times: list[float] = []
    response = _timed(times, repeat, once)
    with CaptureQueriesContext(connection) as queries:
        once()
    count = re.search(r'data-matching-count="(\d+)"', response.content.decode())
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default={"time": "0"})
    return {
        **_summary(times),
        "matches": int(count.group(1)) if count else None,
        "queries": len(queries.captured_queries),
        "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
    }


def selector_measure(hub: Any, params: dict[str, Any], repeat: int) -> dict[str, Any]:
    """The one selector alone, as the page reads it: the count and the first 50 people in order."""
    from django.http import QueryDict

    from hubtab.accounts.selectors import credit_unit_of
    from hubtab.crm.filters import filter_from_params
    from hubtab.crm.people import people_matching, people_sorted
    from hubtab.crm.search import search_words

    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    people = filter_from_params(query, unit=credit_unit_of(hub=hub), locale="fr").filter
    order = "balance" if [c.kind for c in people.conditions] == ["running_low"] else "name"  # as the page does

    def once() -> int:
        matching = people_matching(hub=hub, people=people)
        ordered = people_sorted(matching, hub=hub, order=order, few=bool(search_words(people.query)))
        count = ordered.count()
        list(ordered[:50])
        return count

    times: list[float] = []
    _timed(times, repeat, once)
    return _summary(times)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def export_child() -> dict[str, Any]:
    """In a process of its own: the export of everyone in use, all columns, read to the last byte."""
    import django

    django.setup()
    from django.test import Client
    from django.urls import reverse

    from hubtab.core.models import User

    client = Client()
    client.force_login(User.objects.get(email=OWNER_EMAIL))
    url = reverse("customer_export", args=[HUB_SLUG])
    client.get(reverse("customer_index", args=[HUB_SLUG]))  # the app's code loaded and warm, as in a server
    rss_before = _rss_mb()
    samples: list[float] = []
    started = time.perf_counter()
    response = client.get(url, {"cols": ALL_COLUMNS})
    assert response.status_code == 200, response.status_code
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
        if lines >= 10_000 * (len(samples) + 1):
            samples.append(_rss_mb())
    samples.append(_rss_mb())
    seconds = time.perf_counter() - started
    return {
        "rows": lines - 1,
        "megabytes": round(size / 1024 / 1024, 1),
        "seconds": round(seconds, 2),
        "rss_before_mb": rss_before,
        "rss_during_mb": samples,
        "rss_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def export_measure(name: str) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": database_url(name)}
    done = subprocess.run(
        [sys.executable, __file__, "--export-child", "--database", name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_file(people: int, rows: int) -> bytes:
    """A file of `rows` people: every fifth an existing person (a new phone and tag), the rest new."""
    existing = min(rows // 5, people)
    step = max(1, people // max(1, existing))
    lines = ["email,first_name,last_name,phone,tags,marketing_consent"]
    for i in range(rows):
        if i < existing:
            g = 1 + i * step
            first, last = FIRST[g % len(FIRST)], LAST[(g // len(FIRST)) % len(LAST)]
            email = f"{first.translate(str.maketrans('éèï', 'eei'))}.{last}.{g}@example.org".lower()
            lines.append(f'{email},{first},{last},+33 7 {i:08d},"weekly, imported",yes')
        else:
            consent = "yes" if i % 3 else "no"
            lines.append(f"new.{i}@import.example,Camille,Import{i},+33 6 99 {i:06d},imported,{consent}")
    return ("\n".join(lines) + "\n").encode()


def import_measure(hub: Any, owner: Any, people: int, rows: int) -> dict[str, Any]:
    from hubtab.crm.imports import customer_import_apply, customer_import_check, customer_import_create

    raw = import_file(people, rows)
    started = time.perf_counter()
    created = customer_import_create(hub=hub, actor=owner, filename="bench.csv", raw=raw)
    upload = time.perf_counter() - started
    started = time.perf_counter()
    checked = customer_import_check(hub=hub, customer_import=created)
    check = time.perf_counter() - started
    started = time.perf_counter()
    applied = customer_import_apply(hub=hub, customer_import=checked, actor=owner)
    apply = time.perf_counter() - started
    return {
        "rows": rows,
        "upload_and_dry_run_s": round(upload, 2),
        "check_again_s": round(check, 2),
        "apply_s": round(apply, 2),
        "total_s": round(upload + check + apply, 2),
        "created": applied.created_count,
        "updated": applied.updated_count,
        "unchanged": applied.unchanged_count,
    }


def _reusable(name: str, people: int, orders: int) -> bool:
    """Whether a database left by --keep holds this run's sizes (then it is used as it is)."""
    import psycopg

    with admin_connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
    with psycopg.connect(host=HOST, port=PORT, user=USER, dbname=name) as conn:
        try:
            found = conn.execute(
                "SELECT (SELECT count(*) FROM crm_customer c WHERE c.hub_id = h.id AND c.email LIKE '%%@example.org'),"
                " (SELECT count(*) FROM shop_order o WHERE o.hub_id = h.id) FROM core_hub h WHERE h.slug = %s",
                [HUB_SLUG],
            ).fetchone()
        except psycopg.Error:
            return False
    return found is not None and found[0] == people and found[1] == orders


def _ms(figure: dict[str, Any] | None) -> str:
    return f"{figure['median_ms']} ({figure['p95_ms']})" if figure else "-"


def _report(args: argparse.Namespace, facts: dict[str, str], out: dict[str, Any]) -> None:
    reference = out["pgbench_select_only"]
    pg_ms = reference["latency_ms"] or 0.0
    print()
    print(
        f"CRM, {args.people:,} people and {args.orders:,} orders at one hub, {out['date'][:16]} UTC, PostgreSQL"
        f" {facts['version']}, {os.cpu_count()} CPUs; median (p95) of {args.repeat} requests"
    )
    print(
        f"reference, same run: pgbench -S (select-only, 1 client) {pg_ms} ms per transaction"
        f" ({reference['tps']:.0f} tps); the last column is the page's p95 in pgbench -S transactions"
    )
    header = (
        f"{'shape':<42} {'matches':>8} {'page ms':>15} {'selector ms':>15} {'queries':>7}"
        f" {'target p95':>11} {'no trgm ms':>15} {'x pgbench -S':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in out["pages"]:
        target = "-"
        if row["target"]:
            target = f"<{TARGET_PAGE_P95_MS} " + ("met" if row["page"]["p95_ms"] < TARGET_PAGE_P95_MS else "NOT")
        ratio = f"{row['page']['p95_ms'] / pg_ms:,.0f}" if pg_ms else "-"
        print(
            f"{row['shape']:<42} {row['page']['matches']!s:>8} {_ms(row['page']):>15} {_ms(row['selector']):>15}"
            f" {row['page']['queries']:>7} {target:>11} {_ms(row.get('without_trigram_index')):>15} {ratio:>12}"
        )
    export = out.get("export")
    if export:
        during = export["rss_during_mb"] or [0.0]
        seconds_met = "met" if export["seconds"] < TARGET_EXPORT_S else "NOT met"
        rss_met = "met" if export["rss_peak_mb"] < TARGET_EXPORT_RSS_MB else "NOT met"
        print(
            f"export, all columns: {export['rows']:,} rows ({export['megabytes']} MB) in {export['seconds']} s"
            f" (target < {TARGET_EXPORT_S} s: {seconds_met}) = {export['seconds'] * 1000 / (pg_ms or 1):,.0f}"
            f" pgbench -S transactions; RSS {export['rss_before_mb']} MB before, {min(during)}-{max(during)} MB"
            f" while streaming, peak {export['rss_peak_mb']} MB (target < {TARGET_EXPORT_RSS_MB} MB: {rss_met})"
        )
    imported = out.get("import")
    if imported:
        print(
            f"import of {imported['rows']:,} rows: upload and dry run {imported['upload_and_dry_run_s']} s, check"
            f" again {imported['check_again_s']} s, apply {imported['apply_s']} s; total {imported['total_s']} s"
            f" (target < {TARGET_IMPORT_S} s: {'met' if imported['total_s'] < TARGET_IMPORT_S else 'NOT met'});"
            f" {imported['created']:,} created, {imported['updated']:,} updated, {imported['unchanged']:,} unchanged"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", "--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--database", default=BENCH_DB, help="its own database: a name starting hubtab_bench")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left, if the same size")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: pages,export,import,trigram")
    parser.add_argument("--only", default="", help="only the list shapes whose name contains this")
    parser.add_argument("--json", type=Path, default=JSON_PATH)
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database.startswith(OWN_PREFIXES[0]):
        raise SystemExit(f"--database must start with {OWN_PREFIXES[0]!r}")
    os.environ["DATABASE_URL"] = database_url(args.database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubtab.settings"
    os.environ["HUBTAB_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("HUBTAB_LOG_LEVEL", "WARNING")
    if args.export_child:
        print(json.dumps(export_child()))
        return 0
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    pgbench_db = args.database.replace("hubtab_bench", "hubtab_pgbench", 1)
    started_at = datetime.now(UTC)
    facts = server_facts()
    busy = cpu_busy()
    print(f"PostgreSQL {facts['version']} at {HOST}:{PORT}; {os.cpu_count()} CPUs, {busy:.0%} busy", flush=True)
    if busy is not None and busy > 0.25:
        print("  warning: the machine is busy; figures (pgbench's too) will be lower than on an idle one")

    generated: dict[str, Any] = {}
    reused = args.reuse and _reusable(args.database, args.people, args.orders)
    if not reused:
        print(f"setup: {args.database} (migrate), {args.people:,} people and {args.orders:,} orders ...", flush=True)
        database_recreate(args.database)
        hubtab_migrate(args.database)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from hubtab.core.models import Hub, User

    if reused:
        print(f"setup: reusing {args.database}", flush=True)
    else:
        made = people_and_orders_create(args.people, args.orders)
        generated = {"seconds": made["seconds"], "steps": made["steps"]}
        print(f"  written in {made['seconds']} s: {made['steps']}", flush=True)
    hub = Hub.objects.get(slug=HUB_SLUG)
    owner = User.objects.get(email=OWNER_EMAIL)
    summary = data_summary(hub.id)
    print(f"  {summary}", flush=True)

    print("reference: pgbench -S ...", flush=True)
    reference = pgbench_select_only(pgbench_db, 5)
    out: dict[str, Any] = {
        "date": started_at.isoformat(timespec="seconds"),
        "people": args.people,
        "orders": args.orders,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "cpu_busy_before": busy,
        "postgres": facts,
        "data": summary,
        "generated": generated,
        "pgbench_select_only": reference,
        "pages": [],
    }
    if "pages" not in skip:
        client = Client()
        client.force_login(owner)
        url = reverse("customer_index", args=[hub.slug])
        for name, params, target in SHAPES:
            if args.only and args.only not in name:
                continue
            page = page_measure(client, url, params, args.repeat)
            selector = selector_measure(hub, params, args.repeat)
            out["pages"].append({"shape": name, "params": params, "target": target, "page": page, "selector": selector})
            print(f"  {name}: page {_ms(page)} ms, selector {_ms(selector)} ms, {page['queries']} queries", flush=True)
    if "export" not in skip:
        print("export ...", flush=True)
        connection.close()
        out["export"] = export_measure(args.database)
    if "import" not in skip:
        print(f"import of {args.import_rows:,} rows ...", flush=True)
        out["import"] = import_measure(hub, owner, args.people, args.import_rows)
    if "pages" not in skip and "trigram" not in skip:
        print("reference: the searches without the trigram index ...", flush=True)
        client = Client()
        client.force_login(owner)
        url = reverse("customer_index", args=[hub.slug])
        with connection.cursor() as cur:
            cur.execute("DROP INDEX customer_search_trgm")
        for row in out["pages"]:
            if row["shape"] in SEARCH_SHAPES:
                row["without_trigram_index"] = page_measure(client, url, row["params"], args.repeat)
        with connection.cursor() as cur:  # as migration crm 0004 makes it
            cur.execute("CREATE INDEX customer_search_trgm ON crm_customer USING gin (search_text gin_trgm_ops)")
    connection.close()

    _report(args, facts, out)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"results written to {args.json}")
    if not args.keep:
        database_drop(args.database)
    database_drop(pgbench_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
