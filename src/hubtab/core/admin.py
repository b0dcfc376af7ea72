"""The platform admin's view of hubs and people (Django admin, staff only)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from hubtab.core.models import CreditUnit, Hub, Membership, User
from hubtab.core.tenancy import all_hubs


class UnscopedAdmin(admin.ModelAdmin):
    """Platform staff see every hub's rows: the admin's pages span hubs (core.tenancy)."""

    def get_queryset(self, request):
        return self.model.objects.across_hubs()

    def _across_hubs(self, view, *args):
        with all_hubs():
            response = view(*args)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()  # the lists are read while the page renders
            return response

    def changelist_view(self, request, extra_context=None):
        return self._across_hubs(super().changelist_view, request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._across_hubs(super().change_view, request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._across_hubs(super().delete_view, request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._across_hubs(super().history_view, request, object_id, extra_context)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return Membership.objects.across_hubs()


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
