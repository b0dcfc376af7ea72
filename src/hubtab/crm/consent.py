"""A person's consent to marketing messages: given or withdrawn, when and where it was recorded, and
a line in their timeline each time it changes."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record
from hubtab.crm import events
from hubtab.crm.models import ConsentSource, Customer

HOW_MAX = 200  # "on the phone, 3 March", "paper form at the Saturday market": a line, not a note


def consent_set(
    *,
    hub: Hub,
    customer: Customer,
    given: bool,
    source: str,
    actor: User | None = None,
    at: datetime | None = None,
    how: str = "",
) -> bool:
    """Record that the person gave (or withdrew) consent; returns whether anything changed.
    Recording what is already so writes nothing, so an import run twice changes nothing twice.
    `how` says how it was given, when crew write it down (it shows in the timeline)."""
    assert customer.hub_id == hub.id
    if customer.marketing_consent == given:
        return False
    at = at or timezone.now()
    with transaction.atomic():
        customer.marketing_consent = given
        customer.consent_changed_at = at
        customer.consent_source = ConsentSource(source)
        customer.save(update_fields=["marketing_consent", "consent_changed_at", "consent_source"])
        events.consent_changed(customer=customer, given=given, source=source, at=at, actor=actor, how=how)
    return True


def consent_record(*, hub: Hub, customer: Customer, actor: User, given: object, how: object = "") -> bool:
    """Crew write down a consent given, or withdrawn, outside Hubtab (on the phone, in person, on a
    paper form), saying how: with source "crew", the actor and the time, in the person's timeline
    and the audit trail. Returns whether anything changed: what is already so writes nothing.
    Bad input is refused with a reason and writes nothing."""
    if not isinstance(given, bool):
        raise DomainError("validation_error", _("Choose whether the person agreed to marketing emails or withdrew."))
    # One line: it is quoted in the timeline and the audit trail.
    said = " ".join(how.split()) if isinstance(how, str) else None
    if said is None:
        raise DomainError("validation_error", _("Say how the person told you, in words."))
    if len(said) > HOW_MAX:
        raise DomainError(
            "validation_error",
            _("Say how in at most %(max)s characters; this has %(count)s.") % {"max": HOW_MAX, "count": len(said)},
        )
    with transaction.atomic(durable=True):
        # The person's row, locked: two crew recording at once apply one after the other, and the
        # second sees what the first wrote.
        locked = Customer.objects.filter(hub=hub).filter(id=customer.id).select_for_update().first()
        if locked is None:
            raise DomainError("not_found", _("No such customer at this hub."))
        if not consent_set(hub=hub, customer=locked, given=given, source=ConsentSource.CREW, actor=actor, how=said):
            return False
        audit_record(
            hub=hub, actor=actor, action="customer.consent", subject=locked,
            summary=gettext_noop("Recorded agreement to marketing emails")
            if given
            else gettext_noop("Recorded withdrawal of consent to marketing emails"),
            data={"given": given, "how": said, "source": ConsentSource.CREW.value},
        )  # fmt: skip
    customer.refresh_from_db(fields=["marketing_consent", "consent_changed_at", "consent_source"])
    return True
