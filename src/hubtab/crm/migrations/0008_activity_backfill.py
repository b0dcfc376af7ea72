"""Write the activity that happened before the activity record existed, from the orders, payments,
card refunds and the crew's audited credit actions, then each person's figures from it."""

from __future__ import annotations

from typing import Any

from django.db import migrations

CREDIT_ACTIONS = {"credit.add_paid", "credit.add_granted", "credit.remove", "credit.external_payment", "credit.refund"}


def backfill(apps: Any, schema_editor: Any) -> None:
    Customer = apps.get_model("crm", "Customer")
    Activity = apps.get_model("crm", "Activity")
    CustomerFigures = apps.get_model("crm", "CustomerFigures")
    Order = apps.get_model("shop", "Order")
    OrderEvent = apps.get_model("shop", "OrderEvent")
    Payment = apps.get_model("payments", "Payment")
    PaymentRefund = apps.get_model("payments", "PaymentRefund")
    AuditEvent = apps.get_model("core", "AuditEvent")
    Hub = apps.get_model("core", "Hub")

    rows: list[Any] = []

    def add(customer: Any, kind: str, key: str, at: Any, **fields: Any) -> None:
        rows.append(Activity(hub_id=customer.hub_id, customer_id=customer.id, kind=kind, key=key, occurred_at=at,
                             **fields))  # fmt: skip

    customers = {c.id: c for c in Customer.objects.all()}
    by_account = {c.account_id: c for c in customers.values()}
    currency = dict(Hub.objects.values_list("id", "currency"))
    for c in customers.values():
        add(c, "customer_added", f"customer:{c.id}:added", c.created_at, data={"source": c.source})
        if c.archived_at:
            add(c, "customer_archived", f"customer:{c.id}:archived:{c.archived_at.isoformat()}", c.archived_at)
    for o in Order.objects.all().iterator():
        c = customers[o.customer_id]
        ref = {"ref_kind": "order", "ref_id": o.id, "unit": o.unit}
        add(c, "order_placed", f"order:{o.id}:placed", o.placed_at, amount_minor=o.estimated_minor, **ref)
        if o.status == "completed" and o.completed_at and o.final_minor is not None:
            add(c, "order_completed", f"order:{o.id}:completed", o.completed_at,
                amount_minor=o.final_minor - o.carried_minor, **ref)  # fmt: skip
        if o.status == "cancelled" and o.cancelled_at:
            add(c, "order_cancelled", f"order:{o.id}:cancelled", o.cancelled_at, amount_minor=o.estimated_minor, **ref)
    for e in OrderEvent.objects.filter(kind="refunded_credit").select_related("order").iterator():
        add(customers[e.order.customer_id], "order_refunded", f"order-event:{e.id}", e.at, amount_minor=e.amount_minor,
            ref_kind="order", ref_id=e.order_id, unit=e.order.unit, actor_id=e.actor_id,
            data={"reason": e.note})  # fmt: skip
    for p in Payment.objects.filter(status__in=["succeeded", "failed"]).iterator():
        c = by_account.get(p.account_id)
        if c is None:
            continue  # an organisation's
        ref = {"ref_kind": "payment", "ref_id": p.id, "unit": p.currency, "amount_minor": p.price_minor}
        if p.status == "succeeded":
            add(c, "topped_up", f"payment:{p.id}:succeeded", p.settled_at or p.updated_at,
                data={"method": p.method, "credits_minor": p.paid_minor + p.bonus_minor, "credit_unit": p.unit,
                      "automatic": p.off_session}, **ref)  # fmt: skip
        else:
            add(c, "payment_failed", f"payment:{p.id}:failed", p.updated_at,
                data={"message": p.failure_message, "automatic": p.off_session}, **ref)  # fmt: skip
    for r in PaymentRefund.objects.select_related("payment").iterator():
        c = by_account.get(r.payment.account_id)
        if c is not None:
            add(c, "payment_refunded", f"refund:{r.id}", r.created_at, amount_minor=r.amount_minor,
                unit=r.payment.currency, ref_kind="payment", ref_id=r.payment_id, actor_id=r.actor_id,
                data={"reason": r.reason})  # fmt: skip
    for a in AuditEvent.objects.filter(subject_type="account", action__startswith="credit.").iterator():
        c = by_account.get(a.subject_id)
        transaction_id = a.data.get("transaction_id")
        if c is None or transaction_id is None:
            continue
        if a.action == "credit.reverse":
            reversal_id = a.data.get("reversal_id")
            add(c, "entry_reversed", f"transaction:{reversal_id}", a.created_at, ref_kind="transaction",
                ref_id=transaction_id, actor_id=a.actor_id,
                data={"reversal_id": reversal_id, "reason": a.params.get("reason", "")})  # fmt: skip
        elif a.action in CREDIT_ACTIONS:
            method = a.data.get("method") or ""
            kind = "credit_removed" if a.action == "credit.remove" else "topped_up" if method else "credit_added"
            add(c, kind, f"transaction:{transaction_id}", a.created_at, amount_minor=a.data.get("amount_minor"),
                unit=currency[c.hub_id] if method else c_unit(c), ref_kind="transaction", ref_id=transaction_id,
                actor_id=a.actor_id,
                data={"action": a.action.removeprefix("credit."), "comment": a.params.get("comment", ""),
                      "method": method})  # fmt: skip
    # Orders of other shops paid over the API: a charge, or a hold captured, not an order's own.
    Entry = apps.get_model("ledger", "Entry")
    charges = (
        Entry.objects.filter(transaction__kind__in=["charge", "hold_capture"], account_id__in=list(by_account))
        .exclude(transaction__key__startswith="order:")
        .select_related("transaction")
    )
    for entry in charges.iterator():
        c, posted = by_account[entry.account_id], entry.transaction
        add(c, "charged", f"transaction:{posted.id}", posted.posted_at, amount_minor=-entry.amount_minor,
            unit=entry.unit, ref_kind="transaction", ref_id=posted.id, data={"reference": posted.memo})  # fmt: skip
    # A lead became a customer at their first purchase.
    first_purchase: dict[int, Any] = {}
    for row in rows:
        if row.kind in ("order_completed", "charged"):
            first = first_purchase.get(row.customer_id)
            first_purchase[row.customer_id] = row.occurred_at if first is None else min(first, row.occurred_at)
    for customer_id, at in first_purchase.items():
        add(customers[customer_id], "became_customer", f"customer:{customer_id}:became_customer", at,
            data={"from": "lead", "to": "customer"})  # fmt: skip
    Activity.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)

    figures: dict[int, dict[str, Any]] = {}
    for a in Activity.objects.filter(kind__in=["order_completed", "charged", "order_extra", "order_refunded", "topped_up"]).order_by("id"):
        f = figures.setdefault(a.customer_id, {"hub_id": a.hub_id, "first_order_at": None, "last_order_at": None,
                                               "orders_completed": 0, "spent_minor": 0, "last_top_up_at": None})  # fmt: skip
        if a.kind in ("order_completed", "charged"):
            f["orders_completed"] += 1
            f["spent_minor"] += a.amount_minor or 0
            f["first_order_at"] = min(filter(None, [f["first_order_at"], a.occurred_at]))
            f["last_order_at"] = max(filter(None, [f["last_order_at"], a.occurred_at]))
        elif a.kind == "order_extra":
            f["spent_minor"] += a.amount_minor or 0
        elif a.kind == "order_refunded":
            f["spent_minor"] -= a.amount_minor or 0
        else:
            f["last_top_up_at"] = max(filter(None, [f["last_top_up_at"], a.occurred_at]))
    CustomerFigures.objects.bulk_create(
        [CustomerFigures(customer_id=customer_id, **f) for customer_id, f in figures.items()], batch_size=500
    )


def c_unit(customer: Any) -> str:
    return customer.account.unit


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_activity_and_figures"),
        ("shop", "0004_cart"),
        ("payments", "0004_card_expiry"),
        ("core", "0005_audit_event_params"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
