"""The ledger's tables: accounts, their balance rows, transactions, entries, holds and lots.

Only `hubtab.ledger.services` writes these; every other package reads them through selectors.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from hubtab.core.models import Hub, User
from hubtab.core.tenancy import HubManager
from hubtab.ledger.types import LOT_BEARING_KINDS, AccountKind, LotKind

__all__ = [
    "LOT_BEARING_KINDS", "Account", "AccountKind", "AccountStatus", "Balance", "Entry", "Hold", "HoldStatus", "Lot",
    "LotKind", "Transaction",
]  # fmt: skip


class AccountStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Account(models.Model):
    """A place value sits, in one unit. `floor_minor` is the lowest balance allowed (None: unbounded)."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    # NULL, not "", for customer accounts: the (hub, code, unit) uniqueness binds system accounts only.
    code = models.CharField(max_length=64, null=True, blank=True, help_text="Stable name of a system account.")  # noqa: DJ001
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=12)
    floor_minor = models.BigIntegerField(null=True, blank=True)
    floor_changed_at = models.DateTimeField(null=True, blank=True)
    shard_count = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=8, choices=AccountStatus.choices, default=AccountStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "code", "unit"], name="account_unique_system_code"),
            # A floor needs every posting to see one balance, so bounded accounts have one shard.
            models.CheckConstraint(
                condition=Q(floor_minor__isnull=True) | Q(shard_count=1), name="account_bounded_has_one_shard"
            ),
            models.CheckConstraint(condition=Q(shard_count__gte=1), name="account_has_a_shard"),
        ]
        indexes = [models.Index(fields=["hub", "kind"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


# The hot tables below (balances, transactions, entries, lots) carry no database foreign keys and
# only the indexes their reads need: every posting inserts into them, and each foreign key costs a
# row lock on the referenced row, each index an insertion. The posting functions check every
# reference, and `ledger verify` checks that none dangles (docs/decisions/0002).


class Balance(models.Model):
    """The lockable running total of one shard of an account. Bounded accounts have only shard 0."""

    pk = models.CompositePrimaryKey("account_id", "shard")
    hub = models.ForeignKey(Hub, related_name="+", db_index=False, on_delete=models.DO_NOTHING, db_constraint=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="balances", db_index=False)
    shard = models.PositiveSmallIntegerField()
    balance_minor = models.BigIntegerField(default=0)
    held_minor = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=0)
    # The account's floor, kept on the row every posting locks so that it is read fresh under the
    # lock at no extra cost; account_floor_set changes both together (verify checks they agree).
    floor_minor = models.BigIntegerField(null=True, blank=True)
    # Likewise the account's open/closed status: a posting that waited for the lock sees a close.
    is_open = models.BooleanField(default=True)

    objects = HubManager()

    def __str__(self) -> str:
        return f"account {self.account_id} shard {self.shard}: {self.balance_minor}"


class Transaction(models.Model):
    """A set of entries that sum to zero per unit, posted at once under a client key unique per hub."""

    hub = models.ForeignKey(Hub, related_name="+", db_index=False, on_delete=models.DO_NOTHING, db_constraint=False)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, default="transfer")
    memo = models.TextField(blank=True)
    actor = models.ForeignKey(
        User, related_name="+", null=True, blank=True, db_index=False, on_delete=models.DO_NOTHING, db_constraint=False
    )
    reason = models.TextField(blank=True)
    reverses = models.ForeignKey(
        "self",
        related_name="reversed_by",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    posted_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "key"], name="transaction_unique_key"),
            # A transaction is reversed at most once; the partial index costs nothing for the rest.
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="transaction_reversed_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class Lot(models.Model):
    """A parcel of credit in a customer or organisation account.

    Paid credit (the customer's money) never expires and sits in one lot per account, which
    credits top up and debits draw down. Granted credit gets a lot per grant, with its expiry.
    `is_open` is `remaining_minor > 0`, kept as its own column so that the indexes never
    mention the remaining amount and its updates stay cheap (heap-only) in PostgreSQL.
    """

    hub = models.ForeignKey(Hub, related_name="+", db_index=False, on_delete=models.DO_NOTHING, db_constraint=False)
    account = models.ForeignKey(
        Account, related_name="lots", db_index=False, on_delete=models.DO_NOTHING, db_constraint=False
    )
    kind = models.CharField(max_length=8, choices=LotKind.choices)
    amount_minor = models.BigIntegerField()
    remaining_minor = models.BigIntegerField()
    is_open = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    transaction = models.ForeignKey(
        Transaction, related_name="lots_created", db_index=False, on_delete=models.DO_NOTHING, db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining_minor__gte=0) & Q(remaining_minor__lte=models.F("amount_minor")),
                name="lot_remaining_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(kind="granted") | Q(expires_at__isnull=True), name="lot_paid_never_expires"
            ),
            models.UniqueConstraint(fields=["account"], condition=Q(kind="paid"), name="lot_one_paid_lot_per_account"),
        ]
        indexes = [
            # The stated order of consumption, as index order: granted lots ("granted" < "paid")
            # soonest-expiring first (never-expiring last, oldest first), then the paid lot.
            models.Index(
                fields=["account", "kind", "expires_at", "id"], condition=Q(is_open=True), name="lot_open_in_order"
            ),
            models.Index(fields=["expires_at"], condition=Q(kind="granted", is_open=True), name="lot_granted_expiring"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} lot {self.id}: {self.remaining_minor}/{self.amount_minor}"


class Entry(models.Model):
    """One leg of a transaction on one account shard, with the shard's balance and version after it."""

    hub = models.ForeignKey(Hub, related_name="+", db_index=False, on_delete=models.DO_NOTHING, db_constraint=False)
    transaction = models.ForeignKey(
        Transaction, related_name="entries", on_delete=models.DO_NOTHING, db_constraint=False
    )
    account = models.ForeignKey(
        Account, related_name="entries", db_index=False, on_delete=models.DO_NOTHING, db_constraint=False
    )
    shard = models.PositiveSmallIntegerField(default=0)
    unit = models.CharField(max_length=12)
    amount_minor = models.BigIntegerField()
    balance_after_minor = models.BigIntegerField()
    version = models.BigIntegerField()
    lot = models.ForeignKey(
        Lot,
        related_name="entries",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    posted_at = models.DateTimeField(default=timezone.now)

    objects = HubManager()

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["account", "shard", "version"], name="entry_unique_version"),
        ]
        indexes = [
            models.Index(fields=["account", "shard", "posted_at"], name="entry_account_time"),
            models.Index(fields=["lot"], name="entry_lot", condition=Q(lot__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"entry {self.id}: {self.amount_minor} {self.unit} on account {self.account_id}"


class HoldStatus(models.TextChoices):
    HELD = "held", "Held"
    CAPTURED = "captured", "Captured"
    VOIDED = "voided", "Voided"
    EXPIRED = "expired", "Expired"


class Hold(models.Model):
    """An amount reserved on an account (an order placed) until it is captured, voided or expires."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    amount_minor = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=HoldStatus.choices, default=HoldStatus.HELD)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    captured_minor = models.BigIntegerField(null=True, blank=True)
    capture_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="captured_hold"
    )

    objects = HubManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "key"], name="hold_unique_key"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="hold_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["account"], condition=Q(status="held"), name="hold_open_by_account"),
            models.Index(
                fields=["expires_at"], condition=Q(status="held", expires_at__isnull=False), name="hold_open_expiring"
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.id}: {self.amount_minor} {self.status}"
