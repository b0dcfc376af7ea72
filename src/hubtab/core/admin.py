"""The platform admin's view of hubs and people (Django admin, staff only)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from hubtab.core.models import CreditUnit, Hub, Membership, User


class UnscopedAdmin(admin.ModelAdmin):
    """Platform staff see every hub's rows, so the admin runs outside any hub scope."""

    def get_queryset(self, request):
        return self.model.objects.with_scopes_disabled().all()


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return Membership.objects.with_scopes_disabled().all()


@admin.register(Hub)
class HubAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "currency", "timezone", "locale", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Platform", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Membership)
class MembershipAdmin(UnscopedAdmin):
    list_display = ["user", "hub", "role", "created_at"]
    list_filter = ["role", "hub"]


@admin.register(CreditUnit)
class CreditUnitAdmin(UnscopedAdmin):
    list_display = ["hub", "code", "name", "decimals"]
