"""Writes for hubs and people: hubs, their credit units, crew roles, invitations and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.core.errors import DomainError
from hubtab.core.models import (
    CREW_ROLES,
    AuditEvent,
    CreditUnit,
    Hub,
    Invitation,
    Membership,
    Role,
    User,
    validate_timezone,
)
from hubtab.core.money import currency_unit

INVITATION_LIFETIME = timedelta(days=14)


def hub_create(*, slug: str, name: str, currency: str, timezone: str = "UTC", locale: str = "en") -> Hub:
    currency_unit(currency)
    try:
        validate_timezone(timezone)
    except ValidationError as exc:
        raise DomainError("invalid_timezone", exc.messages[0]) from exc
    hub = Hub(slug=slug, name=name, currency=currency, timezone=timezone, locale=locale)
    try:
        hub.full_clean()
    except ValidationError as exc:
        if "slug" in exc.message_dict and Hub.objects.filter(slug=slug).exists():
            raise DomainError("hub_exists", f"A hub with slug {slug!r} already exists.") from exc
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise DomainError("validation_error", detail) from exc
    try:
        with transaction.atomic():
            hub.save()
    except IntegrityError as exc:
        raise DomainError("hub_exists", f"A hub with slug {slug!r} already exists.") from exc
    return hub


def credit_unit_save(*, hub: Hub, code: str, name: str, decimals: int) -> CreditUnit:
    """Create the hub's credit unit `code`, or rename it. Its decimals are fixed once it exists:
    amounts already counted in it would change value."""
    code = (code or "").strip().upper()
    name = (name or "").strip()
    unit = CreditUnit.objects.filter(hub=hub, code=code).first()
    if unit is not None and unit.decimals != decimals:
        raise DomainError("validation_error", _("The decimals of %(code)s can't change.") % {"code": code})
    unit = unit or CreditUnit(hub=hub, code=code, decimals=decimals)
    unit.name = name
    if not 0 <= decimals <= 4:
        raise DomainError("validation_error", _("Credits have 0 to 4 decimals."))
    try:
        unit.full_clean(exclude=["hub"])
    except ValidationError as exc:
        raise DomainError("validation_error", " ".join(exc.messages)) from exc
    unit.save()
    return unit


def membership_grant(*, hub: Hub, user: User, role: Role | str) -> Membership:
    membership, _ = Membership.objects.get_or_create(hub=hub, user=user, role=Role(role))
    return membership


def user_create(*, email: str, password: str | None, email_verified: bool = False, **fields: Any) -> User:
    """A login. `email_verified` is for people whose address is already proven (demo, tests, admin)."""
    with transaction.atomic():
        user = User.objects.create_user(email, password, **fields)
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    return user


def audit_record(
    *,
    hub: Hub,
    actor: User | None,
    action: str,
    summary: str,
    subject: models.Model | None = None,
    data: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one row to the hub's audit trail; call it inside the action's own transaction.

    `summary` is Hubtab's words (marked with gettext_noop) with %(name)s for `params`, so each
    reader reads it in their language; an amount is a param made by `audit_money`."""
    return AuditEvent.objects.create(
        hub=hub,
        actor=actor,
        actor_email=actor.email if actor else "",
        action=action,
        subject_type=(subject._meta.model_name or "") if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        summary=summary[:300],
        params=params or {},
        data=data or {},
    )


def role_label(role: str) -> str:
    """A role's name in Hubtab's words, for an audit summary to translate when read."""
    with translation.override("en"):
        return str(Role(role).label)


def audit_money(amount_minor: int, unit: str) -> dict[str, Any]:
    """An amount in an audit summary's params, written as money in the reader's way when read."""
    return {"minor": amount_minor, "unit": unit}


def secret_hash(secret: str) -> str:
    """How a high-entropy secret (an invitation link, an API token) is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def invitation_create(*, hub: Hub, email: str, role: str, invited_by: User | None) -> tuple[Invitation, str]:
    """Invite someone to the crew (`invited_by` None: the platform, e.g. a hub's first owner).

    Returns the invitation and the secret token for its link, which is shown once and never stored.
    """
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError("validation_error", _("Enter a valid email address.")) from exc
    if role not in {r.value for r in CREW_ROLES}:
        raise DomainError("invalid_role", _("Choose owner, finance or support."))
    members = Membership.objects.filter(hub=hub, user__email__iexact=email, role=role)
    if members.exists():
        raise DomainError(
            "already_member", _("%(email)s already has the %(role)s role here.") % {"email": email, "role": role}
        )
    token = secrets.token_urlsafe(32)
    now = dj_timezone.now()
    with transaction.atomic():
        # A new invitation for the same address and role replaces any earlier pending one.
        Invitation.objects.filter(hub=hub, email=email, role=role, accepted_at=None, revoked_at=None).update(
            revoked_at=now
        )
        invitation = Invitation.objects.create(
            hub=hub,
            email=email,
            role=role,
            token_hash=secret_hash(token),
            invited_by=invited_by,
            expires_at=now + INVITATION_LIFETIME,
        )
        audit_record(
            hub=hub,
            actor=invited_by,
            action="crew.invite",
            summary=gettext_noop("Invited %(email)s as %(role_word)s"),
            params={"email": email, "role_word": role_label(role)},
            subject=invitation,
            data={"email": email, "role": role},
        )
    return invitation, token


def invitation_get_by_token(*, token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    # The emailed secret names its hub.
    return Invitation.objects.across_hubs().select_related("hub").filter(token_hash=secret_hash(token)).first()


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Give the invited role to the person who followed the link, logged in with the invited address."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(hub_id=invitation.hub_id, pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise DomainError("invitation_used", _("This invitation has already been accepted."))
        if invitation.revoked_at is not None:
            raise DomainError("invitation_revoked", _("This invitation was withdrawn. Ask the hub for a new one."))
        if invitation.expires_at <= dj_timezone.now():
            raise DomainError("invitation_expired", _("This invitation has expired. Ask the hub for a new one."))
        if user.email.lower() != invitation.email.lower():
            raise DomainError(
                "invitation_other_email",
                _("This invitation is for %(invited)s; you are logged in as %(user)s.")
                % {"invited": invitation.email, "user": user.email},
            )
        membership = membership_grant(hub=invitation.hub, user=user, role=invitation.role)
        invitation.accepted_at = dj_timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            hub=invitation.hub,
            actor=user,
            action="crew.join",
            summary=gettext_noop("%(email)s joined as %(role_word)s"),
            params={"email": user.email, "role_word": role_label(invitation.role)},
            subject=invitation,
        )
    return membership


def invitation_revoke(*, hub: Hub, invitation: Invitation, actor: User) -> None:
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        return
    with transaction.atomic():
        invitation.revoked_at = dj_timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            hub=hub,
            actor=actor,
            action="crew.revoke",
            summary=gettext_noop("Withdrew the invitation of %(email)s"),
            params={"email": invitation.email},
            subject=invitation,
        )


def membership_remove(*, hub: Hub, membership: Membership, actor: User) -> None:
    """Take a crew role away. A hub always keeps at least one owner."""
    with transaction.atomic():
        owners = Membership.objects.select_for_update().filter(hub=hub, role=Role.OWNER)
        if membership.role == Role.OWNER and len(owners) <= 1:
            raise DomainError("last_owner", _("A hub needs at least one owner; make someone else owner first."))
        membership.delete()
        audit_record(
            hub=hub,
            actor=actor,
            action="crew.remove",
            summary=gettext_noop("Removed the %(role_word)s role from %(email)s"),
            params={"role_word": role_label(membership.role), "email": membership.user.email},
            data={"user_id": membership.user_id, "role": membership.role},
        )
