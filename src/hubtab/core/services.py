"""Writes for hubs and people."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, Membership, Role, User, validate_timezone
from hubtab.core.money import currency_unit


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


def membership_grant(*, hub: Hub, user: User, role: Role | str) -> Membership:
    membership, _ = Membership.objects.with_scopes_disabled().get_or_create(hub=hub, user=user, role=Role(role))
    return membership
