"""The owner's page for the hub's CRM settings: when a customer counts as lapsed, and whether people
may sign up at the shop by themselves (with the link to share when they may)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hubtab.core.access import hub_view, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.permissions import Permission
from hubtab.crm.crm_settings import crm_settings_of, crm_settings_update
from hubtab.crm.forms import CrmSettingsForm


@hub_view(Permission.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def crm_settings(request: HttpRequest, hub: Hub) -> HttpResponse:
    current = crm_settings_of(hub=hub)
    initial = {"lapsed_after_weeks": str(current.lapsed_after_weeks), "joining_open": current.joining_open}
    form = CrmSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            crm_settings_update(hub=hub, actor=request_user(request), **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("CRM settings saved."))
            return redirect("crm_settings", slug=hub.slug)
    return render(
        request,
        "crm/crm_settings.html",
        {
            "hub": hub,
            "form": form,
            "joining_open": current.joining_open,
            "join_url": request.build_absolute_uri(reverse("hub_join", args=[hub.slug])),
        },
    )
