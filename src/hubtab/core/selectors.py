"""Reads for hubs and people."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from hubtab.core.models import CREW_ROLES, AuditEvent, Hub, Invitation, Membership, User


def hub_list_for_user(*, user: User) -> QuerySet[Hub]:
    hub_ids = Membership.objects.filter(user=user).values("hub_id")
    return Hub.objects.filter(id__in=hub_ids).order_by("name")


def membership_roles(*, hub: Hub, user: User) -> set[str]:
    return set(Membership.objects.filter(hub=hub).filter(user=user).values_list("role", flat=True))


@dataclass
class CrewMember:
    user: User
    memberships: list[Membership]

    @property
    def roles(self) -> list[str]:
        return [m.role for m in self.memberships]


def crew_list(*, hub: Hub) -> list[CrewMember]:
    """People with a crew role at the hub, each with their crew memberships (customers are not crew)."""
    people: dict[int, CrewMember] = {}
    rows = (
        Membership.objects.filter(hub=hub)
        .filter(role__in=[r.value for r in CREW_ROLES])
        .select_related("user")
        .order_by("user__email", "role")
    )
    for membership in rows:
        people.setdefault(membership.user_id, CrewMember(membership.user, [])).memberships.append(membership)
    return list(people.values())


def invitation_list_pending(*, hub: Hub) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(hub=hub)
        .filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())
        .order_by("-created_at")
    )


def audit_list(*, hub: Hub, subjects: list[Model] | None = None) -> QuerySet[AuditEvent]:
    """The hub's audit trail, newest first; only what concerns `subjects` when given."""
    events = AuditEvent.objects.filter(hub=hub).order_by("-created_at", "-id")
    if subjects is not None:
        about = Q()
        for subject in subjects:
            about |= Q(subject_type=subject._meta.model_name, subject_id=subject.pk)
        events = events.filter(about)
    return events
