"""What happens to a person's record and, by the crew's hand, to their credit: one function per
happening, each writing its activity row inside the caller's transaction."""

from __future__ import annotations

from django.utils import timezone

from hubtab.core.models import User
from hubtab.crm.activity import Ref, activity_record
from hubtab.crm.models import ActivityKind, Customer


def customer_added(*, customer: Customer, actor: User | None) -> None:
    activity_record(
        customer=customer, kind=ActivityKind.CUSTOMER_ADDED, key=f"customer:{customer.id}:added",
        occurred_at=customer.created_at, actor=actor, data={"source": customer.source},
    )  # fmt: skip


def customer_archived(*, customer: Customer, actor: User | None) -> None:
    assert customer.archived_at is not None
    activity_record(
        customer=customer, kind=ActivityKind.CUSTOMER_ARCHIVED,
        key=f"customer:{customer.id}:archived:{customer.archived_at.isoformat()}",
        occurred_at=customer.archived_at, actor=actor,
    )  # fmt: skip


def customer_restored(*, customer: Customer, actor: User | None) -> None:
    now = timezone.now()
    activity_record(
        customer=customer, kind=ActivityKind.CUSTOMER_RESTORED,
        key=f"customer:{customer.id}:restored:{now.isoformat()}", occurred_at=now, actor=actor,
    )  # fmt: skip


def credit_added(
    *, customer: Customer, transaction_id: int, amount_minor: int, unit: str, action: str, comment: str,
    actor: User | None, method: str = "",
) -> None:  # fmt: skip
    """Credit the crew added by hand; money received by hand (cash, transfer) counts as a top-up."""
    kind = ActivityKind.TOPPED_UP if method else ActivityKind.CREDIT_ADDED
    activity_record(
        customer=customer, kind=kind, key=f"transaction:{transaction_id}", occurred_at=timezone.now(),
        amount_minor=amount_minor, unit=unit, ref=Ref("transaction", transaction_id), actor=actor,
        data={"action": action, "comment": comment, "method": method},
    )  # fmt: skip


def credit_removed(
    *, customer: Customer, transaction_id: int, amount_minor: int, unit: str, comment: str, actor: User | None
) -> None:
    activity_record(
        customer=customer, kind=ActivityKind.CREDIT_REMOVED, key=f"transaction:{transaction_id}",
        occurred_at=timezone.now(), amount_minor=amount_minor, unit=unit, ref=Ref("transaction", transaction_id),
        actor=actor, data={"comment": comment},
    )  # fmt: skip


def entry_reversed(
    *, customer: Customer, transaction_id: int, reversal_id: int, reason: str, actor: User | None
) -> None:
    activity_record(
        customer=customer, kind=ActivityKind.ENTRY_REVERSED, key=f"transaction:{reversal_id}",
        occurred_at=timezone.now(), ref=Ref("transaction", transaction_id), actor=actor,
        data={"reversal_id": reversal_id, "reason": reason},
    )  # fmt: skip


def charged(
    *, customer: Customer, transaction_id: int, amount_minor: int, unit: str, reference: str, actor: User | None
) -> None:
    """An order of another shop paid from credit (over the API): a purchase, like a completed order."""
    activity_record(
        customer=customer, kind=ActivityKind.CHARGED, key=f"transaction:{transaction_id}", occurred_at=timezone.now(),
        amount_minor=amount_minor, unit=unit, ref=Ref("transaction", transaction_id), actor=actor,
        data={"reference": reference},
    )  # fmt: skip
