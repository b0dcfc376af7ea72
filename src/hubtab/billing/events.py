"""What happens to a customer's scheduled payments, as their activity: one function per happening,
called inside the transaction of the billing service that caused it. (A charge that succeeds or
fails is recorded by payments, as every payment is.)"""

from __future__ import annotations

from django.utils import timezone

from hubtab.billing.models import ScheduledPayment
from hubtab.core.models import User
from hubtab.crm.activity import ActivityKind, Ref, activities_record_many, activity_record
from hubtab.crm.models import Activity


def _about(scheduled: ScheduledPayment) -> dict[str, object]:
    return {"ref": Ref("scheduled", scheduled.id), "amount_minor": scheduled.price_minor,
            "unit": scheduled.currency}  # fmt: skip


def payment_scheduled(*, scheduled: ScheduledPayment, actor: User | None) -> None:
    """Scheduled, or changed (a new amount or date the customer is told of)."""
    activity_record(
        customer=scheduled.customer, kind=ActivityKind.PAYMENT_SCHEDULED,
        key=f"scheduled:{scheduled.id}:{scheduled.notice_version}", occurred_at=timezone.now(), actor=actor,
        data={"due_on": scheduled.due_on.isoformat(), "credits_minor": scheduled.credits_minor,
              "credit_unit": scheduled.unit},
        **_about(scheduled),  # type: ignore[arg-type]
    )  # fmt: skip


def payments_scheduled(*, scheduled: list[ScheduledPayment], actor: User | None) -> None:
    """Many payments scheduled or changed at once ("Bill customers"): as payment_scheduled for each,
    one INSERT per thousand."""
    now = timezone.now()
    activities_record_many([
        Activity(
            hub_id=row.hub_id, customer=row.customer, kind=ActivityKind.PAYMENT_SCHEDULED,
            key=f"scheduled:{row.id}:{row.notice_version}", occurred_at=now, amount_minor=row.price_minor,
            unit=row.currency, ref_kind="scheduled", ref_id=row.id,
            actor=actor if actor and actor.is_authenticated else None,
            data={"due_on": row.due_on.isoformat(), "credits_minor": row.credits_minor, "credit_unit": row.unit},
        )
        for row in scheduled
    ])  # fmt: skip


def scheduled_payment_cancelled(*, scheduled: ScheduledPayment, actor: User | None, reason: str) -> None:
    activity_record(
        customer=scheduled.customer, kind=ActivityKind.SCHEDULED_PAYMENT_CANCELLED,
        key=f"scheduled:{scheduled.id}:cancelled", occurred_at=timezone.now(), actor=actor,
        data={"reason": reason}, **_about(scheduled),  # type: ignore[arg-type]
    )  # fmt: skip


def scheduled_payment_failed(*, scheduled: ScheduledPayment) -> None:
    """Its last try failed: the customer is overdue."""
    activity_record(
        customer=scheduled.customer, kind=ActivityKind.SCHEDULED_PAYMENT_FAILED,
        key=f"scheduled:{scheduled.id}:failed", occurred_at=timezone.now(),
        data={"reason": scheduled.outcome, "decline_code": scheduled.decline_code},
        **_about(scheduled),  # type: ignore[arg-type]
    )  # fmt: skip
