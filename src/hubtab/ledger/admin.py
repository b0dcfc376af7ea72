"""Read-only ledger views for platform staff: money moves only through the ledger services."""

from django.contrib import admin

from hubtab.core.admin import UnscopedAdmin
from hubtab.ledger.models import Account, Entry, Hold, Lot, Transaction


class ReadOnlyAdmin(UnscopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "hub", "kind", "name", "unit", "floor_minor", "status"]
    list_filter = ["kind", "status", "hub"]
    search_fields = ["name", "code"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "hub", "kind", "key", "memo", "posted_at", "reverses"]
    list_filter = ["kind", "hub"]
    search_fields = ["key", "memo"]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "shard", "amount_minor", "balance_after_minor", "version", "lot"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "hub", "account", "amount_minor", "status", "reference", "expires_at"]
    list_filter = ["status"]


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "kind", "amount_minor", "remaining_minor", "expires_at"]
    list_filter = ["kind"]
