"""Tenancy and people: hubs, users, per-hub roles and the hub's units of account."""

from __future__ import annotations

import zoneinfo
from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from hubtab.core.tenancy import HubManager


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown timezone {value!r}.")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in; their role at each hub comes from Membership."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform staff: may use the Django admin.")
    date_joined = models.DateTimeField(default=dj_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class Hub(models.Model):
    """A food hub: the tenant every other row belongs to."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR.")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    locale = models.CharField(max_length=16, default="en")
    created_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    FINANCE = "finance", _("Finance")
    SUPPORT = "support", _("Support")
    CUSTOMER = "customer", _("Customer")


class Membership(models.Model):
    """A person's role at one hub; a person may hold roles at several hubs."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=dj_timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "user", "role"], name="membership_unique_role")]
        indexes = [models.Index(fields=["hub", "role"])]

    def __str__(self) -> str:
        return f"{self.user} {self.role} at {self.hub}"


class CreditUnit(models.Model):
    """A hub's named unit of credit ("credits"), counted in minor units like a currency."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="credit_units")
    code = models.CharField(
        max_length=12,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9_]{2,11}$", _("Use 3 to 12 capital letters, digits or _."))],
    )
    name = models.CharField(max_length=60)
    decimals = models.PositiveSmallIntegerField(default=2)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "code"], name="creditunit_unique_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        from babel.numbers import list_currencies

        if self.code in list_currencies():
            raise ValidationError(
                {"code": _("%(code)s is a currency code; choose another code for credits.") % {"code": self.code}}
            )


CREW_ROLES = (Role.OWNER, Role.FINANCE, Role.SUPPORT)


class Invitation(models.Model):
    """An owner's invitation for someone to join a hub's crew with a role, sent by email.

    Only a hash of the link's token is stored: a database read does not give anyone the link.
    """

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=[(r.value, r.label) for r in CREW_ROLES])
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    class Meta:
        indexes = [models.Index(fields=["hub", "created_at"])]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} at {self.hub}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > dj_timezone.now()


class AuditEvent(models.Model):
    """One crew action at a hub: who did what to which record, when, and with what details.

    Rows are only ever added. The actor's email is copied so the row still reads after the
    person's account is gone.
    """

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=60)
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    # What happened in Hubtab's words, with %(name)s for `params`; read in the reader's language
    # (`text`). Amounts in params are {"minor": …, "unit": …}, written as money when read.
    summary = models.CharField(max_length=300)
    params = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    objects = HubManager()

    class Meta:
        indexes = [
            models.Index(fields=["hub", "-created_at"], name="audit_hub_newest"),
            models.Index(fields=["hub", "subject_type", "subject_id"], name="audit_hub_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email or 'system'}: {self.summary}"
