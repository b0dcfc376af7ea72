"""Customer records of a hub (OpenFoodNetwork-like): who they are, tags, and how they came to be."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubtab.core.models import Hub, User
from hubtab.core.tenancy import HubManager
from hubtab.crm.search import hub_region, search_text_of
from hubtab.ledger.models import Account


class Source(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    CREW = "crew", _("Created by crew")
    IMPORTED = "imported", _("Imported")


class ConsentSource(models.TextChoices):
    """Where a consent (or its withdrawal) was recorded."""

    CREW = "crew", _("Recorded by crew")
    IMPORT = "import", _("Import")
    SIGNUP = "signup", _("Sign-up")
    CUSTOMER = "customer", _("The customer")
    API = "api", _("API")


class Tag(models.Model):
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)

    objects = HubManager()

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
    # Whether the person agreed to marketing messages, and when and how that was last recorded.
    marketing_consent = models.BooleanField(default=False)
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=12, choices=ConsentSource.choices, blank=True)
    # Lower-cased name, email, phone and code in one column, kept by the services; on PostgreSQL a
    # trigram index on it answers "contains" searches at any size (migration 0003).
    search_text = models.TextField(blank=True, default="", editable=False)

    objects = HubManager()

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
            # Counting the people of a filter reads this, not the table: a tenth of its size.
            models.Index(
                fields=["hub", "id", "account"], condition=Q(archived_at__isnull=True), name="customer_in_use"
            ),
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


class PersonStatus(models.TextChoices):
    """Where a person stands with the hub, from their orders (crm.selectors.status_of)."""

    LEAD = "lead", _("Lead")  # never completed an order
    CUSTOMER = "customer", _("Customer")
    LAPSED = "lapsed", _("Lapsed")  # no completed order for a while
    ARCHIVED = "archived", _("Archived")


class ActivityKind(models.TextChoices):
    """What can happen to a person at a hub; each kind is written by one `events.py` function."""

    CUSTOMER_ADDED = "customer_added", _("Became a customer record")
    CUSTOMER_ARCHIVED = "customer_archived", _("Archived")
    CUSTOMER_RESTORED = "customer_restored", _("Restored")
    BECAME_CUSTOMER = "became_customer", _("Became a customer")
    ORDER_PLACED = "order_placed", _("Placed an order")
    ORDER_COMPLETED = "order_completed", _("Order completed")
    CHARGED = "charged", _("Paid an order from credit")
    ORDER_EXTRA = "order_extra", _("Extra charged on a completed order")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
    ORDER_REFUNDED = "order_refunded", _("Order refunded")
    TOPPED_UP = "topped_up", _("Topped up")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    PAYMENT_REFUNDED = "payment_refunded", _("Refunded to the card")
    CREDIT_ADDED = "credit_added", _("Credit added")
    CREDIT_REMOVED = "credit_removed", _("Credit removed")
    ENTRY_REVERSED = "entry_reversed", _("Entry reversed")
    NOTE_ADDED = "note_added", _("Note")
    TAGGED = "tagged", _("Tag added")
    UNTAGGED = "untagged", _("Tag removed")
    IMPORTED = "imported", _("Updated by an import")
    CONSENT_GIVEN = "consent_given", _("Agreed to marketing messages")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Withdrew consent to marketing messages")
    JOINED = "joined", _("Signed up at the shop")
    PAYMENT_SCHEDULED = "payment_scheduled", _("Payment scheduled")
    SCHEDULED_PAYMENT_CANCELLED = "payment_unscheduled", _("Scheduled payment cancelled")
    SCHEDULED_PAYMENT_FAILED = "payment_overdue", _("Scheduled payment failed for good")


class Activity(models.Model):
    """One thing that happened to a person, written in the transaction of the action that caused
    it (by the acting domain's `events.py`): the timeline, the figures and the CRM read it."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=24, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField()
    amount_minor = models.BigIntegerField(null=True, blank=True)
    unit = models.CharField(max_length=12, blank=True)
    # What it is about: "order" 12, "payment" 40, "transaction" 7 (read by the page that links it).
    ref_kind = models.CharField(max_length=16, blank=True)
    ref_id = models.BigIntegerField(null=True, blank=True)
    # The order cycle of an order's activity: "ordered in this cycle" reads it (the shop's cycles).
    cycle_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    # One row per happening: a retried action or a replayed webhook records nothing twice.
    key = models.CharField(max_length=120)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hub", "key"], name="activity_unique_key")]
        indexes = [
            models.Index(fields=["hub", "customer", "-occurred_at", "-id"], name="activity_timeline"),
            models.Index(fields=["hub", "kind", "occurred_at"], name="activity_by_kind"),
            # "Ordered in this cycle" reads the index alone: who placed an order, and which were cancelled.
            models.Index(
                fields=["hub", "cycle_id", "kind", "customer", "ref_id"],
                condition=Q(cycle_id__isnull=False),
                name="activity_by_cycle",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of customer {self.customer_id}"


class CustomerFigures(models.Model):
    """A person's figures, kept up to date by the same events that write their activity (and
    recomputed from it by `hubtab crm figures rebuild`). Money is in the account's unit."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="figures")
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    first_order_at = models.DateTimeField(null=True, blank=True)  # first completed order
    last_order_at = models.DateTimeField(null=True, blank=True)  # last completed order: the last purchase
    orders_completed = models.IntegerField(default=0)
    spent_minor = models.BigIntegerField(default=0)  # completed orders, less what was refunded of them
    last_top_up_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    class Meta:
        indexes = [
            models.Index(fields=["hub", "last_order_at"], name="figures_by_last_order"),
            models.Index(fields=["hub", "spent_minor"], name="figures_by_spent"),
        ]

    def __str__(self) -> str:
        return f"figures of customer {self.customer_id}"


class CrmSettings(models.Model):
    """A hub's CRM choices (absent: the defaults)."""

    hub = models.OneToOneField(Hub, on_delete=models.CASCADE, primary_key=True, related_name="crm_settings")
    # A customer with no completed order for this many weeks is lapsed.
    lapsed_after_weeks = models.PositiveSmallIntegerField(default=8)
    # Whether people may sign up at the hub's shop by themselves (crm.joining), becoming its leads.
    joining_open = models.BooleanField(default=True)

    objects = HubManager()

    def __str__(self) -> str:
        return f"CRM settings of {self.hub}"


class Note(models.Model):
    """What crew wrote about a person: pinned notes first, follow-ups listed on the overview."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    body = models.TextField()
    pinned = models.BooleanField(default=False)
    follow_up_on = models.DateField(null=True, blank=True)
    follow_up_done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        indexes = [
            models.Index(fields=["hub", "customer", "-pinned", "-created_at"], name="note_by_customer"),
            models.Index(
                fields=["hub", "follow_up_on"],
                condition=Q(follow_up_on__isnull=False, follow_up_done_at__isnull=True),
                name="note_follow_ups_open",
            ),
        ]

    def __str__(self) -> str:
        return f"note {self.id} on customer {self.customer_id}"


class Segment(models.Model):
    """A saved, named filter of the people list (crm.filters): its conditions, columns and order."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    conditions = models.JSONField(default=list)  # crm.filters.PeopleFilter.to_json()
    columns = models.JSONField(default=list, blank=True)
    order = models.CharField(max_length=24, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), "hub", name="segment_unique_name")]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    CHECKED = "checked", _("Checked, not applied yet")
    APPLYING = "applying", _("Being applied")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed, nothing was changed")


class CustomerImport(models.Model):
    """A CSV file of people uploaded by crew (crm.imports): its text as decoded, how its columns map
    to a person's fields, the dry run's per-row report, and how applying it went."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255)
    text = models.TextField()  # the file as decoded; read again when the mapping changes and when applied
    encoding = models.CharField(max_length=12)  # "utf-8", "utf-8-sig" (with a byte-order mark), "utf-16", "cp1252"
    delimiter = models.CharField(max_length=1)
    recognised = models.CharField(max_length=12, blank=True)  # whose export: "ofn", "mailchimp", "shopify", "hubtab"
    mapping = models.JSONField(default=list)  # the person's field each column goes to ("" = ignored), by position
    report = models.JSONField(default=dict)  # the dry run (crm.import_plans.plan_make), then what was applied
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.CHECKED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    applied_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = HubManager()

    class Meta:
        indexes = [models.Index(fields=["hub", "-created_at"], name="customer_import_recent")]

    def __str__(self) -> str:
        return f"import {self.id} of {self.filename}"
