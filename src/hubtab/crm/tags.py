"""A person's tags: set on their record, or added and removed on many people at once; each tag
that comes or goes is a line in the person's timeline (re-exported by crm.services)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record
from hubtab.crm import events
from hubtab.crm.models import Customer, Tag

TAG_MAX = 40  # Tag.name's length


def tag_names_clean(names: Iterable[str]) -> list[str]:
    """Names as tags are kept: trimmed, cut to fit, each once, sorted."""
    return sorted({name.strip()[:TAG_MAX] for name in names if name and name.strip()})


def tags_set(*, hub: Hub, customer: Customer, names: Iterable[str], actor: User | None = None) -> None:
    """Give the person exactly these tags; the ones that came and went go into their timeline."""
    wanted = tag_names_clean(names)
    with transaction.atomic():
        had = {tag.name for tag in customer.tags.all()}
        customer.tags.set([Tag.objects.get_or_create(hub=hub, name=name)[0] for name in wanted])
        now = timezone.now()
        for name in wanted:
            if name not in had:
                events.tagged(customer=customer, tag=name, at=now, actor=actor)
        for name in sorted(had - set(wanted)):
            events.untagged(customer=customer, tag=name, at=now, actor=actor)


def tags_change(
    *, hub: Hub, customers: QuerySet[Customer] | Iterable[Customer], add: list[str], remove: list[str], actor: User
) -> int:
    """Add and remove tags on many people at once, all or none: each person who gains or loses a tag
    has it in their timeline, and the audit trail records the change once. Someone who has a tag
    already (or never had the one removed) is left as they were. Returns how many people changed."""
    adding, removing = tag_names_clean(add), tag_names_clean(remove)
    if not adding and not removing:
        raise DomainError("validation_error", _("Name at least one tag to add or remove."))
    if both := sorted(set(adding) & set(removing)):
        raise DomainError(
            "validation_error", _("A tag can't be added and removed at once: %(tags)s.") % {"tags": ", ".join(both)}
        )
    chosen = Customer.objects.filter(hub=hub)
    if isinstance(customers, QuerySet):
        chosen = chosen.filter(id__in=customers.order_by().values_list("id", flat=True))
    else:
        chosen = chosen.filter(id__in=[c.id for c in customers])
    link = Customer.tags.through
    with transaction.atomic():
        # The people's rows, locked in id order like every change of many people (customers_status_set):
        # a person's tags are read and written by one change at a time.
        people = list(chosen.select_for_update().order_by("id"))
        if not people:
            return 0
        to_add = [Tag.objects.get_or_create(hub=hub, name=name)[0] for name in adding]
        to_remove = list(Tag.objects.filter(hub=hub).filter(name__in=removing).order_by("name"))
        tag_ids = [tag.id for tag in to_add + to_remove]
        # Every link of these tags at the hub (bounded by its people), rather than one huge IN list.
        has = set(link.objects.filter(tag_id__in=tag_ids).values_list("customer_id", "tag_id"))
        now = timezone.now()
        added: list[tuple[Customer, Tag]] = []
        removed: list[tuple[Customer, Tag]] = []
        for person in people:
            added += [(person, tag) for tag in to_add if (person.id, tag.id) not in has]
            removed += [(person, tag) for tag in to_remove if (person.id, tag.id) in has]
        link.objects.bulk_create([link(customer_id=p.id, tag_id=t.id) for p, t in added], batch_size=1000)
        for tag in to_remove:
            gone = [p.id for p, t in removed if t.id == tag.id]
            for start in range(0, len(gone), 1000):
                link.objects.filter(tag_id=tag.id, customer_id__in=gone[start : start + 1000]).delete()
        for person, tag in added:
            events.tagged(customer=person, tag=tag.name, at=now, actor=actor)
        for person, tag in removed:
            events.untagged(customer=person, tag=tag.name, at=now, actor=actor)
        changed_ids = sorted({p.id for p, _tag in added + removed})
        if changed_ids:
            if adding and removing:
                summary = gettext_noop("Changed the tags of %(count)s people: added %(added)s, removed %(removed)s")
            elif adding:
                summary = gettext_noop("Added the tags %(added)s to %(count)s people")
            else:
                summary = gettext_noop("Removed the tags %(removed)s from %(count)s people")
            audit_record(
                hub=hub, actor=actor, action="customers.tags_change", summary=summary,
                params={"count": len(changed_ids), "added": ", ".join(adding), "removed": ", ".join(removing)},
                data={"added": adding, "removed": removing, "ids": changed_ids[:5000]},
            )  # fmt: skip
    return len(changed_ids)
