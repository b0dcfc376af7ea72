"""Customer list speed at 100,000 customers: the crew's list page, searched, filtered and paged.

Run from the project root:  .venv/bin/python bench/customers.py [--customers 100000] [--repeat 15]

What it does (see docs/performance.md):
  1. (Re)creates its own database `hubtab_bench_crm` on 127.0.0.1:5432, migrated by `hubtab migrate`.
  2. Fills one hub with N customers (names, emails, phones, codes, tags) in a few INSERT ... SELECT
     statements, each with a customer account and a balance row. Balances are random and written
     directly: this is a scratch database for reading speed, not a valid ledger.
  3. Requests the customer list page through Django's test client (permission check, queries,
     template), logged in as the hub's support crew, in several shapes (first page, a deep page,
     common and rare searches, a tag, running low), `--repeat` times each after a warm-up, and
     prints the median and 95th percentile.
  4. References measured in the same run: the same searches with the trigram index dropped (what
     a plain scan costs), and `pgbench -S` (select-only, one client) on the same server.
Results go to var/bench-customers.json. The database is dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
    PORT,
    ROOT,
    USER,
    database_drop,
    database_recreate,
    database_url,
    hubtab_migrate,
    pgbench_path,
    server_facts,
)

sys.path.insert(0, str(ROOT / "src"))

BENCH_DB = "hubtab_bench_crm"
PGBENCH_DB = "hubtab_pgbench_crm"
JSON_PATH = ROOT / "var" / "bench-customers.json"
FIRST = ["Marie", "Lucas", "Emma", "Hugo", "Léa", "Louis", "Chloé", "Gabriel", "Inès", "Jules", "Manon", "Arthur"]
FIRST += ["Olivia", "Noah", "Amelia", "George", "Isla", "Harry", "Ava", "Oscar", "Sofia", "Leo", "Mia", "Jack"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]
LAST += ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Walker", "Hughes"]
LAST += ["Garnier", "Faure", "Rousseau", "Blanc", "Guerin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin"]
TAGS = ["veg box", "school", "weekly", "monthly", "volunteer", "new", "bakery", "dairy", "no plastic", "delivery"]

# name, query string: what a crew member does on the list page
SHAPES = [
    ("first page", {}),
    ("page 1,000 (deep)", {"page": "1000"}),
    ("search: common surname", {"q": "martin"}),
    ("search: two words", {"q": "marie dubois"}),
    ("search: email fragment", {"q": "4242@"}),
    ("search: rare, no match", {"q": "zzqx"}),
    ("tag filter", {"tag": "school"}),
    ("running low", {"low": "1"}),
    ("search + tag", {"q": "hugo", "tag": "weekly"}),
]
SEARCH_SHAPES = [name for name, params in SHAPES if "q" in params]


def _sql_list(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def fixtures_create(count: int) -> dict[str, Any]:
    from django.db import connection

    from hubtab.core.models import Role
    from hubtab.core.services import hub_create, membership_grant, user_create

    hub = hub_create(slug="bench", name="Bench hub", currency="EUR", timezone="Europe/Paris", locale="fr")
    crew = user_create(email="support@bench.example", password=None, email_verified=True)
    membership_grant(hub=hub, user=crew, role=Role.SUPPORT)
    first, last, tags = _sql_list(FIRST), _sql_list(LAST), _sql_list(TAGS)
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger_account (kind, name, unit, floor_minor, shard_count, status, created_at, hub_id)"
            " SELECT 'customer', 'Customer ' || g, 'EUR', 0, 1, 'open', now(), %s FROM generate_series(1, %s) g",
            [hub.id, count],
        )
        cur.execute(
            "INSERT INTO ledger_balance (shard, balance_minor, held_minor, version, floor_minor, is_open,"
            " account_id, hub_id) SELECT 0, (random() * 20000)::bigint - 3000, 0, 0, 0, true, a.id, a.hub_id"
            " FROM ledger_account a WHERE a.hub_id = %s",
            [hub.id],
        )
        cur.execute(
            f"""
            INSERT INTO crm_customer (email, first_name, last_name, phone, address, code, source, created_at,
                                      account_id, hub_id, search_text)
            SELECT e.email, e.first, e.last, e.phone, '', e.code, 'imported', now(), e.id, %s,
                   lower(concat_ws(' ', e.first, e.last, e.email, e.phone, e.code,
                                   regexp_replace(e.phone, '\\D', '', 'g'),  -- as hubtab.crm.search writes it
                                   '0' || substr(regexp_replace(e.phone, '\\D', '', 'g'), 3)))
              FROM (SELECT a.id, f.first, l.last,
                           lower(translate(f.first, 'éèï', 'eei') || '.' || l.last || '.' || a.id || '@example.org')
                             AS email,
                           '+33 6 ' || lpad((a.id %% 100000000)::text, 8, '0') AS phone,
                           'C' || a.id AS code
                      FROM ledger_account a
                      CROSS JOIN LATERAL (SELECT ({first})[1 + (a.id %% {len(FIRST)})] AS first) f
                      CROSS JOIN LATERAL (SELECT ({last})[1 + ((a.id / {len(FIRST)}) %% {len(LAST)})] AS last) l
                     WHERE a.hub_id = %s) e
            """,
            [hub.id, hub.id],
        )
        cur.execute(
            f"INSERT INTO crm_tag (name, hub_id) SELECT unnest({tags}), %s",
            [hub.id],
        )
        # Each customer has one or two tags.
        cur.execute(
            f"""
            INSERT INTO crm_customer_tags (customer_id, tag_id)
            SELECT c.id, t.id FROM crm_customer c JOIN crm_tag t ON t.hub_id = c.hub_id
             WHERE c.hub_id = %s AND (t.name = ({tags})[1 + c.id %% {len(TAGS)}]
                                      OR (c.id %% 7 = 0 AND t.name = 'weekly'))
            """,
            [hub.id],
        )
        # As autovacuum leaves a table in use: statistics, and a visibility map for index-only counts.
        cur.execute("VACUUM ANALYZE")
    return {"hub": hub, "crew": crew, "seconds": round(time.perf_counter() - started, 1)}


def measure(client: Any, url: str, params: dict[str, str], repeat: int) -> dict[str, Any]:
    for _ in range(2):  # warm caches and the connection
        response = client.get(url, params)
        assert response.status_code == 200, response.status_code
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    count = re.search(r'<span class="muted">(\d+)</span></h1>', response.content.decode())
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(sorted(times)[max(0, int(len(times) * 0.95) - 1)], 1),
        "matches": int(count.group(1)) if count else None,
    }


def pgbench_select_only(seconds: int) -> dict[str, Any]:
    base = [pgbench_path(), "-h", HOST, "-p", str(PORT), "-U", USER]
    subprocess.run([*base, "-i", "-s", "1", "-q", PGBENCH_DB], check=True, capture_output=True)
    out = subprocess.run(
        [*base, "-n", "-S", "-c", "1", "-T", str(seconds), PGBENCH_DB], check=True, capture_output=True, text=True
    ).stdout
    latency = re.search(r"latency average = ([0-9.]+) ms", out)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    return {
        "latency_ms": float(latency.group(1)) if latency else None,
        "tps": float(tps.group(1)) if tps else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--json", type=Path, default=JSON_PATH)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = database_url(BENCH_DB)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubtab.settings"
    os.environ["HUBTAB_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("HUBTAB_LOG_LEVEL", "WARNING")
    started_at = datetime.now(UTC)
    facts = server_facts()
    print(f"PostgreSQL {facts['version']} at {HOST}:{PORT}; {os.cpu_count()} CPUs", flush=True)

    print(f"setup: {BENCH_DB} (migrate) and {args.customers:,} customers ...", flush=True)
    database_recreate(BENCH_DB)
    database_recreate(PGBENCH_DB)
    hubtab_migrate(BENCH_DB)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    fixtures = fixtures_create(args.customers)
    print(f"  seeded in {fixtures['seconds']} s", flush=True)
    client = Client()
    client.force_login(fixtures["crew"])
    url = reverse("customer_index", args=[fixtures["hub"].slug])

    results = []
    for name, params in SHAPES:
        figure = measure(client, url, params, args.repeat)
        results.append({"shape": name, "params": params, **figure})
        print(f"  {name}: {figure['median_ms']} ms", flush=True)

    print("reference: the searches without the trigram index ...", flush=True)
    with connection.cursor() as cur:
        cur.execute("DROP INDEX customer_search_trgm")
    for row in results:
        if row["shape"] in SEARCH_SHAPES:
            row["without_index"] = measure(client, url, row["params"], args.repeat)
    with connection.cursor() as cur:
        cur.execute(
            "CREATE INDEX customer_search_trgm ON crm_customer USING gin (search_text gin_trgm_ops)"
        )  # as migration crm 0004 makes it
    reference = pgbench_select_only(5)
    connection.close()

    print()
    print(
        f"Customer list, {args.customers:,} customers at one hub, {started_at:%Y-%m-%d %H:%M} UTC, PostgreSQL"
        f" {facts['version']}, {os.cpu_count()} CPUs; each figure: median (p95) of {args.repeat} page requests"
    )
    header = f"{'shape':<26} {'matches':>8} {'page ms':>16} {'without index ms':>18}"
    print(header)
    print("-" * len(header))
    for row in results:
        without = row.get("without_index")
        print(
            f"{row['shape']:<26} {row['matches']:>8} {row['median_ms']:>8} ({row['p95_ms']:>5})"
            f" {(str(without['median_ms']) + ' (' + str(without['p95_ms']) + ')') if without else '-':>18}"
        )
    print(
        f"reference: pgbench -S (select-only, 1 client) on the same server: {reference['latency_ms']} ms per"
        f" transaction ({reference['tps']:.0f} tps)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "date": started_at.isoformat(timespec="seconds"),
                "customers": args.customers,
                "repeat": args.repeat,
                "postgres": facts,
                "results": results,
                "pgbench_select_only": reference,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    print(f"results written to {args.json}")
    if not args.keep:
        database_drop(BENCH_DB)
    database_drop(PGBENCH_DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
