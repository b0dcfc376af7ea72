"""The CRM benchmark's people and orders: one hub with N people and M orders, written by a few
INSERT ... SELECT statements, the same on every run.

Every figure of a person or an order is a function of its number (`pg_temp.bench_r(n, salt)`, a
hash of the number, in [0, 1)), never of random() or of the plan's order, so two runs of the same
size hold the same people, tags, balances, cycles and orders; dates are placed relative to the
moment the data is written (a lapsed customer is lapsed whenever the benchmark runs).

What it writes, as the app's services would have left it:
  * N customer accounts with one balance row each (balances written directly: a scratch database
    for reading speed, not a valid ledger), and N customers with names, emails, phones, codes,
    a source, consent for about half, one or two of ten tags, 1.5 % archived;
  * weekly order cycles over two years, the last one open now;
  * 80 % of people are buyers, who order between a first and a last cycle of their own (a third of
    them stopped ordering some time ago: lapsed); M orders among them, completed, cancelled (3 %)
    or, in the open cycle, placed;
  * their activity (record created, each order placed, completed or cancelled, became a customer)
    and their figures (first and last purchase, order count, total spent), as crm.activity keeps them;
  * one note on every twentieth person.
Bulk loading skips the foreign-key triggers and builds the big tables' indexes after the rows
(as a restore does); then VACUUM ANALYZE, as autovacuum leaves a table in use.
"""

from __future__ import annotations

import time
from typing import Any

FIRST = ["Marie", "Lucas", "Emma", "Hugo", "Léa", "Louis", "Chloé", "Gabriel", "Inès", "Jules", "Manon", "Arthur"]
FIRST += ["Olivia", "Noah", "Amelia", "George", "Isla", "Harry", "Ava", "Oscar", "Sofia", "Leo", "Mia", "Jack"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]
LAST += ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Walker", "Hughes"]
LAST += ["Garnier", "Faure", "Rousseau", "Blanc", "Guerin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin"]
TAGS = ["veg box", "school", "weekly", "monthly", "volunteer", "new", "bakery", "dairy", "no plastic", "delivery"]
CYCLES = 104  # weekly, two years; the last one is open now
HUB_SLUG = "bench"
OWNER_EMAIL = "owner@bench.example"

# A number in [0, 1) from (n, salt): the same on every run and whatever the plan.
_RANDOM = """
CREATE OR REPLACE FUNCTION pg_temp.bench_r(n bigint, salt bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ((hashint8extended(n, salt) >> 11) & 9007199254740991)::float8 / 9007199254740992 $$
"""


def _sql_list(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


class _Loader:
    """Runs the statements, each timed, with foreign-key triggers off for this session only."""

    def __init__(self, cursor: Any) -> None:
        self.cur = cursor
        self.steps: list[tuple[str, float]] = []

    def run(self, step: str, sql: str, params: list[Any] | dict[str, Any] | None = None) -> None:
        started = time.perf_counter()
        self.cur.execute(sql, params)
        self.steps.append((step, time.perf_counter() - started))

    def indexes_off(self, table: str) -> list[str]:
        """Drop the table's indexes and unique constraints (not its primary key, which other tables'
        foreign keys need) and return the statements that rebuild them."""
        self.cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        constraints = self.cur.fetchall()
        self.cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = %s::regclass AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u'))",
            [table],
        )
        indexes = self.cur.fetchall()
        for name, _definition in constraints:
            self.cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            self.cur.execute(f"DROP INDEX {name}")
        rebuild = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints]
        return rebuild + [definition for _name, definition in indexes]


def people_and_orders_create(people: int, orders: int) -> dict[str, Any]:
    """Write the hub, its owner and the data; returns the hub, the owner and the time each step took."""
    from django.db import connection, transaction

    from hubtab.core.models import Role
    from hubtab.core.services import hub_create, membership_grant, user_create

    hub = hub_create(slug=HUB_SLUG, name="Bench hub", currency="EUR", timezone="Europe/Paris", locale="fr")
    owner = user_create(email=OWNER_EMAIL, password=None, email_verified=True)
    membership_grant(hub=hub, user=owner, role=Role.OWNER)
    first, last, tags = _sql_list(FIRST), _sql_list(LAST), _sql_list(TAGS)
    started = time.perf_counter()
    p = {"hub": hub.id, "people": people, "orders": orders, "cycles": CYCLES, "owner": owner.id}
    with transaction.atomic(), connection.cursor() as cur:
        load = _Loader(cur)
        cur.execute("SET LOCAL session_replication_role = replica")  # no FK triggers while loading
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute("SET LOCAL work_mem = '64MB'")
        cur.execute(_RANDOM)
        cur.execute("CREATE TEMP TABLE bench_now ON COMMIT DROP AS SELECT date_trunc('second', now()) AS now")
        load.run(
            "accounts",
            "INSERT INTO ledger_account (kind, name, unit, floor_minor, shard_count, status, created_at, hub_id)"
            " SELECT 'customer', 'Customer ' || g, 'EUR', 0, 1, 'open', now(), %(hub)s"
            " FROM generate_series(1, %(people)s) g ORDER BY g",
            p,
        )
        # Person number g, its account, and what decides its life at the hub.
        load.run(
            "people",
            """
            CREATE TEMP TABLE bench_person ON COMMIT DROP AS
            SELECT g, account_id,
                   pg_temp.bench_r(g, 1) < 0.015 AS archived,
                   pg_temp.bench_r(g, 2) >= 0.2 AS buyer,
                   floor(pg_temp.bench_r(g, 3) * 23000)::bigint - 3000 AS balance_minor
              FROM (SELECT row_number() OVER (ORDER BY id) AS g, id AS account_id
                      FROM ledger_account WHERE hub_id = %(hub)s AND kind = 'customer') a
            """,
            p,
        )
        load.run(
            "balances",
            "INSERT INTO ledger_balance (shard, balance_minor, held_minor, version, floor_minor, is_open,"
            " account_id, hub_id) SELECT 0, balance_minor, 0, 0, 0, true, account_id, %(hub)s FROM bench_person",
            p,
        )
        load.run(
            "customers",
            f"""
            INSERT INTO crm_customer (email, first_name, last_name, phone, address, code, source, created_at,
                                      archived_at, account_id, hub_id, search_text, marketing_consent,
                                      consent_changed_at, consent_source)
            SELECT e.email, e.first, e.last, e.phone, '', e.code,
                   (ARRAY['imported', 'registered', 'crew'])[1 + floor(pg_temp.bench_r(e.g, 4) * 3)::int],
                   e.created_at,
                   CASE WHEN e.archived THEN e.created_at + (bench_now.now - e.created_at) / 2 END,
                   e.account_id, %(hub)s,
                   lower(concat_ws(' ', e.first, e.last, e.email, e.phone, e.code,
                                   regexp_replace(e.phone, '\\D', '', 'g'),  -- as hubtab.crm.search writes it
                                   '0' || substr(regexp_replace(e.phone, '\\D', '', 'g'), 3))),
                   e.consent, CASE WHEN e.consent THEN e.created_at END, CASE WHEN e.consent THEN 'signup' ELSE '' END
              FROM bench_now, (
                SELECT p.g, p.account_id, p.archived, f.first, l.last,
                       lower(translate(f.first, 'éèï', 'eei') || '.' || l.last || '.' || p.g || '@example.org')
                         AS email,
                       '+33 6 ' || lpad((p.g %% 100000000)::text, 8, '0') AS phone,
                       'C' || p.g AS code,
                       (SELECT now FROM bench_now) - interval '1 day' * (30 + floor(pg_temp.bench_r(p.g, 5) * 1100))
                         AS created_at,
                       pg_temp.bench_r(p.g, 6) < 0.55 AS consent
                  FROM bench_person p
                  CROSS JOIN LATERAL (SELECT ({first})[1 + (p.g %% {len(FIRST)})] AS first) f
                  CROSS JOIN LATERAL (SELECT ({last})[1 + ((p.g / {len(FIRST)}) %% {len(LAST)})] AS last) l
              ) e
             ORDER BY e.g
            """,
            p,
        )
        cur.execute("ALTER TABLE bench_person ADD COLUMN customer_id bigint")
        cur.execute(
            "UPDATE bench_person p SET customer_id = c.id FROM crm_customer c"
            " WHERE c.hub_id = %(hub)s AND c.account_id = p.account_id",
            p,
        )
        load.run("tags", f"INSERT INTO crm_tag (name, hub_id) SELECT unnest({tags}), %(hub)s", p)
        # One or two tags each: the g-th of the ten, and "weekly" for every seventh person.
        load.run(
            "tag links",
            f"""
            INSERT INTO crm_customer_tags (customer_id, tag_id)
            SELECT p.customer_id, t.id FROM bench_person p JOIN crm_tag t ON t.hub_id = %(hub)s
             WHERE t.name = ({tags})[1 + p.g %% {len(TAGS)}] OR (p.g %% 7 = 0 AND t.name = 'weekly')
             ORDER BY p.customer_id, t.id
            """,
            p,
        )
        # Cycle i opens (CYCLES - i) weeks and 3 days ago and lasts a week: the last is open now.
        load.run(
            "cycles",
            "INSERT INTO shop_ordercycle (name, opens_at, closes_at, created_at, hub_id)"
            " SELECT 'Week ' || i, now - interval '3 days' - interval '7 days' * (%(cycles)s - i),"
            " now + interval '4 days' - interval '7 days' * (%(cycles)s - i),"
            " now - interval '10 days' - interval '7 days' * (%(cycles)s - i), %(hub)s"
            " FROM bench_now, generate_series(1, %(cycles)s) i ORDER BY i",
            p,
        )
        # Buyers order from cycle `first_cycle` to `last_cycle`; a third stopped some time ago.
        load.run(
            "buyers",
            """
            CREATE TEMP TABLE bench_buyer ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY g) AS b, g, customer_id, account_id, first_cycle,
                   CASE WHEN pg_temp.bench_r(g, 8) < 0.34
                        THEN first_cycle + floor(pg_temp.bench_r(g, 9) * (%(cycles)s - first_cycle))::int
                        ELSE %(cycles)s END AS last_cycle
              FROM (SELECT g, customer_id, account_id,
                           1 + floor(pg_temp.bench_r(g, 7) * (%(cycles)s - 1))::int AS first_cycle
                      FROM bench_person WHERE buyer) x
            """,
            p,
        )
        cur.execute("CREATE UNIQUE INDEX ON bench_buyer (b)")
        cur.execute("ANALYZE bench_buyer")
        cur.execute("SELECT count(*) FROM bench_buyer")
        buyers = cur.fetchone()[0]
        cur.execute(
            "SELECT min(id) FROM shop_ordercycle WHERE hub_id = %(hub)s", p
        )  # cycle i is id first + i - 1 (one statement, in order)
        p.update(buyers=buyers, first_cycle_id=cur.fetchone()[0])
        rebuild = load.indexes_off("shop_order") + load.indexes_off("crm_activity")
        load.run(
            "orders",
            """
            INSERT INTO shop_order (account_id, unit, key, request_hash, status, payment_policy, fulfilment_kind,
                                    fulfilment_name, fee_minor, carried_minor, estimated_minor, held_minor,
                                    rest_method, due_minor, final_minor, collected_minor, captured_minor,
                                    released_minor, owed_minor, refunded_minor, refunded_paid_minor, placed_at,
                                    completed_at, cancelled_at, customer_id, hub_id, cycle_id)
            SELECT o.account_id, 'EUR', 'bench:' || o.k, '', o.status, 'credit_first', 'pickup', 'The barn', 0, 0,
                   o.estimated, CASE WHEN o.status = 'placed' THEN o.estimated ELSE 0 END, '', 0,
                   CASE WHEN o.status = 'completed' THEN o.final END, 0,
                   CASE WHEN o.status = 'completed' THEN o.final ELSE 0 END, 0, 0, 0, 0, o.placed_at,
                   CASE WHEN o.status = 'completed' THEN o.placed_at + interval '2 days' END,
                   CASE WHEN o.status = 'cancelled' THEN o.placed_at + interval '1 day' END,
                   o.customer_id, %(hub)s, %(first_cycle_id)s + o.cycle - 1
              FROM (
                SELECT k, b.customer_id, b.account_id, c.cycle,
                       n.now - interval '3 days' - interval '7 days' * (%(cycles)s - c.cycle)
                         + interval '1 second' * floor(pg_temp.bench_r(k, 22) * 3 * 86400) AS placed_at,
                       CASE WHEN c.cycle = %(cycles)s THEN 'placed'
                            WHEN pg_temp.bench_r(k, 23) < 0.03 THEN 'cancelled' ELSE 'completed' END AS status,
                       1500 + floor(pg_temp.bench_r(k, 24) * 8000)::bigint AS estimated,
                       1400 + floor(pg_temp.bench_r(k, 24) * 8000)::bigint
                         + floor(pg_temp.bench_r(k, 25) * 200)::bigint AS final
                  FROM bench_now n, generate_series(1, %(orders)s) k
                  JOIN bench_buyer b ON b.b = 1 + floor(pg_temp.bench_r(k, 20) * %(buyers)s)::bigint
                  CROSS JOIN LATERAL (SELECT b.first_cycle
                                        + floor(pg_temp.bench_r(k, 21) * (b.last_cycle - b.first_cycle + 1))::int
                                        AS cycle) c
              ) o
             ORDER BY o.k
            """,
            p,
        )
        load.run(
            "activity: records",
            "INSERT INTO crm_activity (kind, occurred_at, amount_minor, unit, ref_kind, ref_id, data, key, customer_id,"
            " hub_id) SELECT 'customer_added', c.created_at, NULL, '', '', NULL,"
            " jsonb_build_object('source', c.source), 'customer:' || c.id || ':added', c.id, %(hub)s"
            " FROM crm_customer c WHERE c.hub_id = %(hub)s ORDER BY c.id",
            p,
        )
        load.run(
            "activity: orders",
            """
            INSERT INTO crm_activity (kind, occurred_at, amount_minor, unit, ref_kind, ref_id, cycle_id, data, key,
                                      customer_id, hub_id)
            SELECT e.kind, e.at, e.amount, 'EUR', 'order', o.id, o.cycle_id, e.data,
                   'order:' || o.id || ':' || e.suffix, o.customer_id, %(hub)s
              FROM shop_order o
              CROSS JOIN LATERAL (VALUES
                  ('order_placed', o.placed_at, o.estimated_minor, '{}'::jsonb, 'placed', true),
                  ('order_completed', o.completed_at, o.final_minor - o.carried_minor, '{"owed_minor": 0}'::jsonb,
                   'completed', o.status = 'completed'),
                  ('order_cancelled', o.cancelled_at, o.estimated_minor, '{"reason": ""}'::jsonb, 'cancelled',
                   o.status = 'cancelled')
              ) e(kind, at, amount, data, suffix, happened)
             WHERE o.hub_id = %(hub)s AND e.happened
             ORDER BY e.at, o.id
            """,
            p,
        )
        load.run(
            "figures",
            "INSERT INTO crm_customerfigures (customer_id, first_order_at, last_order_at, orders_completed,"
            " spent_minor, last_top_up_at, hub_id) SELECT customer_id, min(completed_at), max(completed_at),"
            " count(*), sum(final_minor - carried_minor), NULL, %(hub)s FROM shop_order"
            " WHERE hub_id = %(hub)s AND status = 'completed' GROUP BY customer_id ORDER BY customer_id",
            p,
        )
        load.run(
            "activity: became customer",
            "INSERT INTO crm_activity (kind, occurred_at, unit, ref_kind, data, key, customer_id, hub_id)"
            " SELECT 'became_customer', first_order_at, '', '', '{\"from\": \"lead\", \"to\": \"customer\"}',"
            " 'customer:' || customer_id || ':became_customer', customer_id, %(hub)s"
            " FROM crm_customerfigures WHERE hub_id = %(hub)s ORDER BY customer_id",
            p,
        )
        load.run(
            "notes",
            "INSERT INTO crm_note (body, pinned, created_at, updated_at, author_id, customer_id, hub_id)"
            " SELECT 'Prefers the Saturday pickup.', false, n.now, n.now, %(owner)s, p.customer_id, %(hub)s"
            " FROM bench_now n, bench_person p WHERE p.g %% 20 = 0 ORDER BY p.g",
            p,
        )
        for statement in rebuild:
            load.run("indexes", statement)
    with connection.cursor() as cur:
        started_vacuum = time.perf_counter()
        cur.execute("VACUUM ANALYZE")
        load.steps.append(("vacuum analyze", time.perf_counter() - started_vacuum))
    steps: dict[str, float] = {}
    for step, seconds in load.steps:
        steps[step] = round(steps.get(step, 0.0) + seconds, 1)
    return {"hub": hub, "owner": owner, "seconds": round(time.perf_counter() - started, 1), "steps": steps}


def data_summary(hub_id: int) -> dict[str, int]:
    """What the hub holds, counted (printed with the figures, so two runs can be compared)."""
    from django.db import connection

    counts: dict[str, int] = {}
    with connection.cursor() as cur:
        for name, sql in [
            ("people", "SELECT count(*) FROM crm_customer WHERE hub_id = %s"),
            ("archived", "SELECT count(*) FROM crm_customer WHERE hub_id = %s AND archived_at IS NOT NULL"),
            ("orders", "SELECT count(*) FROM shop_order WHERE hub_id = %s"),
            ("completed orders", "SELECT count(*) FROM shop_order WHERE hub_id = %s AND status = 'completed'"),
            ("activity rows", "SELECT count(*) FROM crm_activity WHERE hub_id = %s"),
            ("people with figures", "SELECT count(*) FROM crm_customerfigures WHERE hub_id = %s"),
        ]:
            cur.execute(sql, [hub_id])
            counts[name] = cur.fetchone()[0]
    return counts
