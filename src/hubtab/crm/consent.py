"""A person's consent to marketing messages: given or withdrawn, when and where it was recorded, and
a line in their timeline each time it changes."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from hubtab.core.models import Hub, User
from hubtab.crm import events
from hubtab.crm.models import ConsentSource, Customer


def consent_set(
    *, hub: Hub, customer: Customer, given: bool, source: str, actor: User | None = None, at: datetime | None = None
) -> bool:
    """Record that the person gave (or withdrew) consent; returns whether anything changed.
    Recording what is already so writes nothing, so an import run twice changes nothing twice."""
    assert customer.hub_id == hub.id
    if customer.marketing_consent == given:
        return False
    at = at or timezone.now()
    with transaction.atomic():
        customer.marketing_consent = given
        customer.consent_changed_at = at
        customer.consent_source = ConsentSource(source)
        customer.save(update_fields=["marketing_consent", "consent_changed_at", "consent_source"])
        events.consent_changed(customer=customer, given=given, source=source, at=at, actor=actor)
    return True
