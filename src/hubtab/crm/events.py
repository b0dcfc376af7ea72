"""What happens to a person's record (its notes and tags too) and, by the crew's hand, to their
credit: one function per happening, each writing its activity row inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from hubtab.core.models import User
from hubtab.crm.activity import Ref, activities_record_many, activity_record
from hubtab.crm.models import Activity, ActivityKind, Customer, Note


def customer_added(*, customer: Customer, actor: User | None) -> None:
    activity_record(
        customer=customer, kind=ActivityKind.CUSTOMER_ADDED, key=f"customer:{customer.id}:added",
        occurred_at=customer.created_at, actor=actor, data={"source": customer.source},
    )  # fmt: skip


def customer_joined(*, customer: Customer, actor: User | None) -> None:
    """The person signed up at the shop and their login now holds the record crew kept for them."""
    activity_record(
        customer=customer, kind=ActivityKind.JOINED, key=f"customer:{customer.id}:joined", occurred_at=timezone.now(),
        actor=actor,
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


def note_added(*, note: Note, excerpt: str, actor: User | None) -> None:
    activity_record(
        customer=note.customer, kind=ActivityKind.NOTE_ADDED, key=f"note:{note.id}:added",
        occurred_at=note.created_at, ref=Ref("note", note.id), actor=actor, data={"excerpt": excerpt},
    )  # fmt: skip


def note_changed(*, note: Note, excerpt: str) -> None:
    """The timeline quotes the note as it reads now, not words its author took back."""
    _note_line(note).update(data={"excerpt": excerpt})


def note_deleted(*, note: Note) -> None:
    """The line keeps that a note was written, and drops what it said."""
    _note_line(note).update(data={"deleted": True})


def _note_line(note: Note) -> QuerySet[Activity]:
    return Activity.objects.filter(hub_id=note.hub_id).filter(key=f"note:{note.id}:added")


def tagged(*, customer: Customer, tag: str, at: datetime, actor: User | None) -> None:
    """A tag added to the person; `at` makes the key unique to this change (a tag may come and go)."""
    activity_record(
        customer=customer, kind=ActivityKind.TAGGED, key=f"customer:{customer.id}:tagged:{at.isoformat()}:{tag}",
        occurred_at=at, actor=actor, data={"tag": tag},
    )  # fmt: skip


def untagged(*, customer: Customer, tag: str, at: datetime, actor: User | None) -> None:
    activity_record(
        customer=customer, kind=ActivityKind.UNTAGGED,
        key=f"customer:{customer.id}:untagged:{at.isoformat()}:{tag}", occurred_at=at, actor=actor,
        data={"tag": tag},
    )  # fmt: skip


def people_imported(
    *, import_id: int, added: list[Customer], changed: list[tuple[Customer, dict]],
    tagged: list[tuple[Customer, str]], consent: list[tuple[Customer, bool]], at: datetime, actor: User | None,
) -> None:  # fmt: skip
    """What an import did to many people, written at once (crm.imports): the lines customer_added,
    tagged and consent_changed write one by one, under the same keys, and one "updated by an import"
    line, with its changes ({field: [before, after]}), for each existing person whose record changed."""
    actor_id = actor.id if actor is not None and actor.is_authenticated else None

    def line(customer: Customer, kind: str, key: str, occurred_at: datetime, data: dict) -> Activity:
        return Activity(
            hub_id=customer.hub_id, customer=customer, kind=kind, key=key[:120], occurred_at=occurred_at,
            actor_id=actor_id, data=data, ref_kind="import", ref_id=import_id,
        )  # fmt: skip

    lines = [
        line(c, ActivityKind.CUSTOMER_ADDED, f"customer:{c.id}:added", c.created_at, {"source": c.source})
        for c in added
    ]
    lines += [
        line(c, ActivityKind.TAGGED, f"customer:{c.id}:tagged:{at.isoformat()}:{tag}", at, {"tag": tag})
        for c, tag in tagged
    ]
    for c, given in consent:
        kind = ActivityKind.CONSENT_GIVEN if given else ActivityKind.CONSENT_WITHDRAWN
        lines.append(line(c, kind, f"customer:{c.id}:{kind}:{at.isoformat()}", at, {"source": "import"}))
    lines += [
        line(c, ActivityKind.IMPORTED, f"import:{import_id}:customer:{c.id}", at,
             {"import_id": import_id, "changes": changes})
        for c, changes in changed
    ]  # fmt: skip
    activities_record_many(lines)


def consent_changed(
    *, customer: Customer, given: bool, source: str, at: datetime, actor: User | None, how: str = ""
) -> None:
    """The person agreed to marketing messages, or withdrew that consent (crm.consent); `how`, as
    crew wrote it down, is the line's comment."""
    kind = ActivityKind.CONSENT_GIVEN if given else ActivityKind.CONSENT_WITHDRAWN
    activity_record(
        customer=customer, kind=kind, key=f"customer:{customer.id}:{kind}:{at.isoformat()}", occurred_at=at,
        actor=actor, data={"source": source, **({"comment": how} if how else {})},
    )  # fmt: skip
