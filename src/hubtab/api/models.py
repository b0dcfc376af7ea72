"""API access: hub tokens with scopes, and the remembered answers to POST requests by their
Idempotency-Key, so that a retried request gets the first answer and changes nothing twice."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubtab.core.models import Hub, User
from hubtab.core.tenancy import HubManager


class Scope(models.TextChoices):
    CUSTOMERS_READ = "customers:read", _("Read customers")
    CUSTOMERS_WRITE = "customers:write", _("Create customers")
    ACCOUNTS_READ = "accounts:read", _("Read accounts and entries")
    ACCOUNTS_WRITE = "accounts:write", _("Move credit: credits, debits, charges, holds, limits")
    CRM_READ = "crm:read", _("Read people lists, segments and notes")
    CRM_WRITE = "crm:write", _("Write notes and tags on people")


class ApiToken(models.Model):
    """Only a hash of the token is kept; its first characters identify it in lists."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) at {self.hub}"

    @property
    def scope_labels(self) -> list[str]:
        """What the token may do, in the reader's language."""
        labels = dict(Scope.choices)
        return [str(labels.get(scope, scope)) for scope in self.scopes]


class IdempotencyRecord(models.Model):
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} -> {self.status_code}"
