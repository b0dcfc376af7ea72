"""API tokens: made by an owner (page or command), shown once, kept as a hash, revocable."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_noop

from hubtab.api.errors import ApiError
from hubtab.api.models import ApiToken, Scope
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.services import audit_record, secret_hash

TOKEN_PREFIX = "htb_"


def scopes_parse(text: str) -> list[str]:
    """'all' or a comma-separated list of scopes, checked."""
    if text.strip() == "all":
        return list(Scope.values)
    scopes = sorted({s.strip() for s in text.split(",") if s.strip()})
    unknown = [s for s in scopes if s not in Scope.values]
    if not scopes or unknown:
        raise DomainError("validation_error", f"Scopes are 'all' or some of: {', '.join(Scope.values)}.")
    return scopes


def token_create(*, hub: Hub, name: str, scopes: list[str], created_by: User | None) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and never stored."""
    name = (name or "").strip()[:100]
    if not name:
        raise DomainError("validation_error", "Name the token after what will use it.")
    if not scopes or any(s not in Scope.values for s in scopes):
        raise DomainError("validation_error", "Choose at least one valid scope.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            hub=hub, name=name, prefix=secret[:12], token_hash=secret_hash(secret), scopes=sorted(set(scopes)),
            created_by=created_by,
        )  # fmt: skip
        audit_record(
            hub=hub,
            actor=created_by,
            action="api_token.create",
            summary=gettext_noop("Created the API token %(name)s"),
            params={"name": name},
            subject=token,
            data={"scopes": token.scopes},
        )
    return token, secret


def token_revoke(*, hub: Hub, token: ApiToken, actor: User) -> None:
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            hub=hub,
            actor=actor,
            action="api_token.revoke",
            summary=gettext_noop("Revoked the API token %(name)s"),
            params={"name": token.name},
            subject=token,
        )


def token_authenticate(secret: str) -> ApiToken | None:
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.across_hubs()  # the secret names its hub
        .select_related("hub", "created_by")
        .filter(token_hash=secret_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is not None and (token.last_used_at is None or timezone.now() - token.last_used_at > _TOUCH):
        ApiToken.objects.filter(hub_id=token.hub_id, pk=token.pk).update(last_used_at=timezone.now())
    return token


def token_scoped(request: HttpRequest, needed: Scope) -> ApiToken:
    """The request's token, if it has the scope `needed` (403 otherwise)."""
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, ApiToken)
    if needed.value not in token.scopes:
        raise ApiError(403, "forbidden", f"This token lacks the scope {needed.value}.")
    return token


_TOUCH = timedelta(minutes=5)  # last_used_at is refreshed at most this often
