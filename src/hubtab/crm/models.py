"""Customer records of a hub (OpenFoodNetwork-like): who they are, tags, and how they came to be."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from hubtab.core.models import Hub, User
from hubtab.crm.search import hub_region, search_text_of
from hubtab.ledger.models import Account


class Source(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    CREW = "crew", _("Created by crew")
    IMPORTED = "imported", _("Imported")


class Tag(models.Model):
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)

    objects = ScopedManager(hub="hub")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "name"], name="tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    email = models.EmailField()
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    code = models.CharField(max_length=40, blank=True, help_text="The hub's own customer code.")
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers")
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="customer")
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CREW)
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Lower-cased name, email, phone and code in one column, kept by the services; on PostgreSQL a
    # trigram index on it answers "contains" searches at any size (migration 0003).
    search_text = models.TextField(blank=True, default="", editable=False)

    objects = ScopedManager(hub="hub")

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), "hub", name="customer_unique_email_per_hub"),
        ]
        indexes = [
            # The list's browse order and its count, over the records in use (index-only when the table is vacuumed).
            models.Index(
                fields=["hub", "last_name", "first_name", "id"],
                condition=Q(archived_at__isnull=True),
                name="customer_active_by_name",
            ),
            models.Index(fields=["hub", "code"], name="customer_by_code", condition=~Q(code="")),
        ]

    def __str__(self) -> str:
        return self.full_name

    def search_text_refresh(self) -> None:
        self.search_text = search_text_of(
            first_name=self.first_name, last_name=self.last_name, email=self.email, phone=self.phone,
            code=self.code, region=hub_region(self.hub.timezone),
        )  # fmt: skip

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email
