"""`ledger verify`: every invariant of the ledger, checked in SQL over the whole history.

Each check is one query returning the rows that break it; the query text is portable between
PostgreSQL and SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Breach:
    check: str
    detail: str


# (check name, what a breach means, SQL returning one row per breach; %(hub)s filters by hub)
CHECKS: list[tuple[str, str, str]] = [
    (
        "zero_sum",
        "transaction {0} does not sum to zero in {1} (sum {2})",
        """SELECT e.transaction_id, e.unit, SUM(e.amount_minor) FROM ledger_entry e
           WHERE %(hub)s GROUP BY e.transaction_id, e.unit HAVING SUM(e.amount_minor) <> 0""",
    ),
    (
        "too_few_entries",
        "transaction {0} has {1} entries (a transaction needs at least two)",
        """SELECT t.id, COUNT(e.id) FROM ledger_transaction t LEFT JOIN ledger_entry e ON e.transaction_id = t.id
           WHERE %(hub_t)s GROUP BY t.id HAVING COUNT(e.id) < 2""",
    ),
    (
        "entry_mismatch",
        "entry {0} disagrees with its account or transaction (missing, other hub, other unit or no such shard)",
        """SELECT e.id FROM ledger_entry e LEFT JOIN ledger_account a ON a.id = e.account_id
           LEFT JOIN ledger_transaction t ON t.id = e.transaction_id
           WHERE %(hub)s AND (a.id IS NULL OR t.id IS NULL OR e.unit <> a.unit OR e.hub_id <> a.hub_id
                 OR e.hub_id <> t.hub_id OR e.shard >= a.shard_count
                 OR (e.lot_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_lot l WHERE l.id = e.lot_id)))""",
    ),
    (
        "dangling_reference",
        "{0} {1} points at a missing {2}",
        """SELECT 'lot', l.id, 'account or transaction' FROM ledger_lot l
           WHERE %(hub_l)s AND (NOT EXISTS (SELECT 1 FROM ledger_account a
                                            WHERE a.id = l.account_id AND a.hub_id = l.hub_id)
                 OR NOT EXISTS (SELECT 1 FROM ledger_transaction t WHERE t.id = l.transaction_id))
           UNION ALL
           SELECT 'transaction', t.id, 'reversed transaction' FROM ledger_transaction t
           WHERE %(hub_t)s AND t.reverses_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM ledger_transaction o
                                 WHERE o.id = t.reverses_id AND o.hub_id = t.hub_id)""",
    ),
    (
        "running_balance",
        "entry {0} on account {1} shard {2}: version {3} or balance after {4} does not follow the previous entry",
        """SELECT id, account_id, shard, version, balance_after_minor FROM (
             SELECT e.id, e.account_id, e.shard, e.version, e.balance_after_minor, e.amount_minor,
                    LAG(e.balance_after_minor, 1, 0) OVER w AS previous_balance,
                    ROW_NUMBER() OVER w AS position
             FROM ledger_entry e WHERE %(hub)s
             WINDOW w AS (PARTITION BY e.account_id, e.shard ORDER BY e.version)) s
           WHERE s.version <> s.position OR s.balance_after_minor <> s.previous_balance + s.amount_minor""",
    ),
    (
        "balance_row",
        "account {0} shard {1}: stored balance {2} / version {3} differ from its entries ({4} / {5})",
        """SELECT b.account_id, b.shard, b.balance_minor, b.version,
                  COALESCE(last.balance_after_minor, 0), COALESCE(last.version, 0)
           FROM ledger_balance b
           LEFT JOIN ledger_entry last ON last.account_id = b.account_id AND last.shard = b.shard
                AND last.version = (SELECT MAX(x.version) FROM ledger_entry x
                                    WHERE x.account_id = b.account_id AND x.shard = b.shard)
           WHERE %(hub_b)s AND (b.balance_minor <> COALESCE(last.balance_after_minor, 0)
                 OR b.version <> COALESCE(last.version, 0))""",
    ),
    (
        "floor_copy",
        "account {0}: the floor ({1}) or open flag on its balance row differs from the account's ({2})",
        """SELECT a.id, b.floor_minor, a.floor_minor FROM ledger_account a
           JOIN ledger_balance b ON b.account_id = a.id AND b.shard = 0
           WHERE %(hub_a)s AND a.shard_count = 1
             AND (b.floor_minor <> a.floor_minor OR (b.floor_minor IS NULL) <> (a.floor_minor IS NULL)
                  OR b.is_open <> (a.status = 'open'))""",
    ),
    (
        "floor",
        "account {0} is below its floor: balance {1} - held {2} < floor {3}",
        """SELECT a.id, b.balance_minor, b.held_minor, a.floor_minor FROM ledger_account a
           JOIN ledger_balance b ON b.account_id = a.id AND b.shard = 0
           WHERE %(hub_a)s AND a.floor_minor IS NOT NULL AND b.balance_minor - b.held_minor < a.floor_minor
             AND (a.floor_changed_at IS NULL OR EXISTS (
                   SELECT 1 FROM ledger_entry e WHERE e.account_id = a.id AND e.amount_minor < 0
                   AND e.posted_at > a.floor_changed_at))""",
    ),
    (
        "held_total",
        "account {0}: held {1} differs from its open holds ({2})",
        """SELECT b.account_id, b.held_minor, COALESCE(h.total, 0) FROM ledger_balance b
           LEFT JOIN (SELECT account_id, SUM(amount_minor) AS total FROM ledger_hold
                      WHERE status = 'held' GROUP BY account_id) h ON h.account_id = b.account_id AND b.shard = 0
           WHERE %(hub_b)s AND b.held_minor <> COALESCE(h.total, 0)""",
    ),
    (
        "hold_state",
        "hold {0} is {1} but its record is inconsistent (finish time, capture, amount)",
        """SELECT h.id, h.status FROM ledger_hold h WHERE %(hub_h)s AND NOT (
             (h.status = 'held' AND h.finished_at IS NULL AND h.capture_transaction_id IS NULL)
             OR (h.status IN ('voided', 'expired') AND h.finished_at IS NOT NULL AND h.capture_transaction_id IS NULL)
             OR (h.status = 'captured' AND h.finished_at IS NOT NULL AND h.captured_minor IS NOT NULL
                 AND EXISTS (SELECT 1 FROM ledger_transaction t
                             WHERE t.id = h.capture_transaction_id AND t.kind = 'hold_capture')
                 AND h.captured_minor = COALESCE((SELECT -SUM(e.amount_minor) FROM ledger_entry e
                     WHERE e.transaction_id = h.capture_transaction_id AND e.account_id = h.account_id), 0)))""",
    ),
    (
        "lot_total",
        "account {0}: open lots hold {1} but the balance is {2} (lots must equal the balance above zero)",
        """SELECT a.id, COALESCE(l.total, 0), b.balance_minor FROM ledger_account a
           JOIN ledger_balance b ON b.account_id = a.id AND b.shard = 0
           LEFT JOIN (SELECT account_id, SUM(remaining_minor) AS total FROM ledger_lot GROUP BY account_id) l
                ON l.account_id = a.id
           WHERE %(hub_a)s AND a.kind IN ('customer', 'organisation')
             AND COALESCE(l.total, 0) <> CASE WHEN b.balance_minor > 0 THEN b.balance_minor ELSE 0 END""",
    ),
    (
        "lot_entries",
        "lot {0}: amount {1} / remaining {2} do not match its entries (credited {3}, net {4})",
        """SELECT l.id, l.amount_minor, l.remaining_minor, COALESCE(s.credited, 0), COALESCE(s.net, 0)
           FROM ledger_lot l LEFT JOIN (
             SELECT lot_id, SUM(CASE WHEN amount_minor > 0 THEN amount_minor ELSE 0 END) AS credited,
                    SUM(amount_minor) AS net
             FROM ledger_entry WHERE lot_id IS NOT NULL GROUP BY lot_id) s ON s.lot_id = l.id
           WHERE %(hub_l)s AND (l.amount_minor <> COALESCE(s.credited, 0) OR l.remaining_minor <> COALESCE(s.net, 0)
                 OR l.remaining_minor < 0 OR l.remaining_minor > l.amount_minor
                 OR l.is_open <> (l.remaining_minor > 0)
                 OR EXISTS (SELECT 1 FROM ledger_entry e WHERE e.lot_id = l.id AND e.account_id <> l.account_id))""",
    ),
    (
        "reversal",
        "transaction {0} reverses {1} but does not negate it on account {2}",
        """SELECT r.id, r.reverses_id, x.account_id FROM ledger_transaction r
           JOIN (SELECT e.transaction_id, e.account_id, SUM(e.amount_minor) AS total FROM ledger_entry e
                 GROUP BY e.transaction_id, e.account_id) x ON x.transaction_id = r.id
           LEFT JOIN (SELECT e.transaction_id, e.account_id, SUM(e.amount_minor) AS total FROM ledger_entry e
                 GROUP BY e.transaction_id, e.account_id) o ON o.transaction_id = r.reverses_id
                 AND o.account_id = x.account_id
           WHERE %(hub_r)s AND r.reverses_id IS NOT NULL AND x.total <> -COALESCE(o.total, 0)""",
    ),
]


def ledger_verify(*, hub_id: int | None = None) -> list[Breach]:
    breaches: list[Breach] = []
    aliases = {"hub": "e", "hub_t": "t", "hub_b": "b", "hub_a": "a", "hub_h": "h", "hub_l": "l", "hub_r": "r"}
    with connection.cursor() as cursor:
        for name, message, sql in CHECKS:
            filters = {
                key: ("1 = 1" if hub_id is None else f"{alias}.hub_id = {int(hub_id)}")
                for key, alias in aliases.items()
            }
            cursor.execute(sql % filters)
            for row in cursor.fetchall():
                breaches.append(Breach(check=name, detail=message.format(*row)))
    return breaches


def ledger_counts(*, hub_id: int | None = None) -> dict[str, int]:
    where = "" if hub_id is None else f" WHERE hub_id = {int(hub_id)}"
    counts = {}
    with connection.cursor() as cursor:
        for table, label in (
            ("account", "accounts"),
            ("transaction", "transactions"),
            ("entry", "entries"),
            ("hold", "holds"),
            ("lot", "lots"),
        ):
            cursor.execute(f"SELECT COUNT(*) FROM ledger_{table}{where}")
            counts[label] = cursor.fetchone()[0]
    return counts
