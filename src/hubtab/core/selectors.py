"""Reads for hubs and people."""

from __future__ import annotations

from django.db.models import QuerySet

from hubtab.core.models import Hub, Membership, User


def hub_list_for_user(*, user: User) -> QuerySet[Hub]:
    hub_ids = Membership.objects.with_scopes_disabled().filter(user=user).values("hub_id")
    return Hub.objects.filter(id__in=hub_ids).order_by("name")


def membership_roles(*, hub: Hub, user: User) -> set[str]:
    return set(Membership.objects.with_scope(hub=hub).filter(user=user).values_list("role", flat=True))
