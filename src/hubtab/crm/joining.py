"""A person signing up at a hub's shop by themselves: their record there as a registered lead,
linked to their login, with the marketing consent they gave, on their timeline and in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import credit_settings_of
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, Role, User
from hubtab.core.services import audit_record, membership_grant
from hubtab.crm import events
from hubtab.crm.consent import consent_set
from hubtab.crm.crm_settings import crm_settings_of
from hubtab.crm.models import ConsentSource, Customer, Source
from hubtab.crm.services import customer_create


@dataclass(frozen=True)
class Joined:
    customer: Customer
    # False: the person was a member already (a second click), or crew kept a record under their
    # proven address, which is now linked to their login.
    created: bool


def join_standing(*, hub: Hub, user: User) -> tuple[Customer | None, DomainError | None]:
    """Where a signed-in person stands with the hub's shop: their record there, if there is one
    (linked to them, or kept by crew under their address), and why they can't join, if they can't."""
    own = Customer.objects.filter(hub=hub).filter(user=user).order_by(F("archived_at").asc(nulls_first=True)).first()
    if own is not None and own.archived_at is None:
        return own, None
    kept = own or Customer.objects.filter(hub=hub).filter(email__iexact=user.email).first()
    names = {"hub": hub.name}
    if kept is not None and kept.archived_at is not None:
        return kept, DomainError(
            "customer_archived",
            _("Your account at %(hub)s is closed. Ask the hub if you would like it opened again.") % names,
        )
    if kept is not None and kept.user_id is not None and kept.user_id != user.id:
        return kept, DomainError(
            "email_taken", _("At %(hub)s, your email address belongs to another login. Ask the hub for help.") % names
        )
    if kept is None and not crm_settings_of(hub=hub).joining_open:
        # A record kept under the person's own address is theirs to claim even so.
        return None, DomainError(
            "joining_closed", _("%(hub)s does not take sign-ups at its shop. Ask the hub to add you.") % names
        )
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
        return kept, DomainError(
            "email_unverified",
            _("Confirm your email address first: follow the link we sent you, then come back to this page."),
        )
    return kept, None


def customer_join(*, hub: Hub, user: User, marketing_consent: bool = False) -> Joined:
    """Make the signed-in person a member of the hub's shop: a new record (a lead, source
    "registered") under their login's address, or the record crew keep under it, linked to them.
    Joining again changes nothing; two requests at once make one record (the person's row is
    locked while they join)."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _join(hub, user, marketing_consent)
        except (IntegrityError, DomainError) as exc:
            # Crew added the same address at that moment: once more, to link the record they made.
            if attempt == 2 or (isinstance(exc, DomainError) and exc.code != "customer_exists"):
                raise
    raise AssertionError("unreachable")


def _join(hub: Hub, user: User, marketing_consent: bool) -> Joined:
    User.objects.select_for_update().filter(pk=user.pk).first()  # one join of this person at a time
    record, refusal = join_standing(hub=hub, user=user)
    if refusal is not None:
        raise refusal
    if record is not None and record.user_id == user.id:
        if marketing_consent:
            consent_set(hub=hub, customer=record, given=True, source=ConsentSource.SIGNUP, actor=user)
        return Joined(record, created=False)
    created = record is None
    if record is None:
        # A stranger from the web may not run up debt: no spending limit below zero until crew give one.
        floor_minor = max(credit_settings_of(hub=hub).default_floor_minor, 0)
        record = customer_create(
            hub=hub, email=user.email, first_name=user.first_name, last_name=user.last_name,
            source=Source.REGISTERED, actor=user, floor_minor=floor_minor, audit=False,
        )  # fmt: skip
    if record.user_id is None:
        record.user = user
        record.save(update_fields=["user"])
        events.customer_joined(customer=record, actor=user)
    membership_grant(hub=hub, user=user, role=Role.CUSTOMER)
    if marketing_consent:
        consent_set(hub=hub, customer=record, given=True, source=ConsentSource.SIGNUP, actor=user)
    audit_record(
        hub=hub,
        actor=user,
        action="customer.join",
        summary=gettext_noop("Signed up at the shop")
        if created
        else gettext_noop("Signed up at the shop: linked to the record kept under their address"),
        subject=record,
        data={"created": created, "marketing_consent": marketing_consent},
    )
    return Joined(record, created=created)
