"""Saved segments: a named filter of the people list, its columns and order (crm.filters)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record
from hubtab.crm.filters import PeopleFilter
from hubtab.crm.models import Segment
from hubtab.crm.people import COLUMNS, sort_options


def segment_save(
    *,
    hub: Hub,
    actor: User,
    name: str,
    people: PeopleFilter,
    columns: list[str],
    order: str,
    segment: Segment | None = None,
) -> Segment:
    """Save a new segment, or change `segment`: the name must be new at the hub."""
    name = " ".join((name or "").split())[:80]
    if not name:
        raise DomainError("validation_error", _("Give the segment a name."))
    if not people.conditions and not people.query:
        raise DomainError("validation_error", _("Add at least one condition before saving a segment."))
    fields = {
        "name": name,
        "conditions": people.to_json(),
        "columns": [c for c in columns if c in COLUMNS],
        "order": order if order in sort_options() else "",
        "updated_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            if segment is None:
                segment = Segment.objects.create(hub=hub, created_by=actor, **fields)
                summary = gettext_noop("Saved the segment %(name)s")
            else:
                Segment.objects.filter(hub=hub).filter(id=segment.id).update(**fields)
                segment.refresh_from_db()
                summary = gettext_noop("Changed the segment %(name)s")
            audit_record(
                hub=hub, actor=actor, action="segment.save", summary=summary, params={"name": name},
                data={"filter": people.to_json(), "segment_id": segment.id},
            )  # fmt: skip
    except IntegrityError as exc:
        raise DomainError("segment_exists", _("A segment with this name exists already.")) from exc
    return segment


def segment_delete(*, hub: Hub, actor: User, segment: Segment) -> None:
    with transaction.atomic():
        Segment.objects.filter(hub=hub).filter(id=segment.id).delete()
        audit_record(
            hub=hub, actor=actor, action="segment.delete", summary=gettext_noop("Deleted the segment %(name)s"),
            params={"name": segment.name}, data={"filter": segment.conditions},
        )  # fmt: skip


def segment_list(*, hub: Hub) -> QuerySet[Segment]:
    return Segment.objects.filter(hub=hub).order_by("name", "id")


def segment_get(*, hub: Hub, segment_id: int) -> Segment | None:
    return Segment.objects.filter(hub=hub).filter(id=segment_id).first()


def segment_filter(segment: Segment) -> PeopleFilter:
    return PeopleFilter.from_json(segment.conditions)
