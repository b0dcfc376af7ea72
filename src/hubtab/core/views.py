"""Crew pages: the hub's team with its invitations, the audit trail, and accepting an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubtab.core.access import hub_view, request_user
from hubtab.core.errors import DomainError
from hubtab.core.forms import InvitationForm
from hubtab.core.models import Hub
from hubtab.core.notify import invitation_send
from hubtab.core.permissions import Permission
from hubtab.core.presenters import audit_lines
from hubtab.core.selectors import audit_list, crew_list, invitation_list_pending
from hubtab.core.services import (
    invitation_accept,
    invitation_create,
    invitation_get_by_token,
    invitation_revoke,
    membership_remove,
)


@hub_view(Permission.MANAGE_CREW)
def team(request: HttpRequest, hub: Hub) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = invitation_create(
                hub=hub,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request_user(request),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            link = request.build_absolute_uri(reverse("invitation_accept", args=[token]))
            invitation_send(invitation=invitation, link=link)
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("team", slug=hub.slug)
    return render(
        request,
        "core/team.html",
        {"hub": hub, "form": form, "crew": crew_list(hub=hub), "invitations": invitation_list_pending(hub=hub)},
    )


@hub_view(Permission.MANAGE_CREW)
@require_POST
def team_remove(request: HttpRequest, hub: Hub, membership_id: int) -> HttpResponse:
    """Remove a role, once the owner has confirmed who loses what (one click is too easy)."""
    membership = next((m for person in crew_list(hub=hub) for m in person.memberships if m.id == membership_id), None)
    if membership is None:
        raise Http404
    if request.POST.get("confirm") != "yes":
        return render(request, "core/team_remove.html", {"hub": hub, "membership": membership})
    try:
        membership_remove(hub=hub, membership=membership, actor=request_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Role removed."))
    return redirect("team", slug=hub.slug)


@hub_view(Permission.MANAGE_CREW)
@require_POST
def invitation_withdraw(request: HttpRequest, hub: Hub, invitation_id: int) -> HttpResponse:
    invitation = invitation_list_pending(hub=hub).filter(id=invitation_id).first()
    if invitation is None:
        raise Http404
    invitation_revoke(hub=hub, invitation=invitation, actor=request_user(request))
    messages.success(request, _("Invitation withdrawn."))
    return redirect("team", slug=hub.slug)


@hub_view(Permission.VIEW_AUDIT)
def audit(request: HttpRequest, hub: Hub) -> HttpResponse:
    page = Paginator(audit_list(hub=hub), 50).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"hub": hub, "page": page, "lines": audit_lines(page)})


def invitation_accept_page(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation email. Anyone may open it; accepting needs the invited address."""
    invitation = invitation_get_by_token(token=token)
    if invitation is None:
        raise Http404(_("This invitation link is not valid."))
    error = ""
    if request.method == "POST" and request.user.is_authenticated:
        try:
            invitation_accept(invitation=invitation, user=request_user(request))
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Welcome to %(hub)s.") % {"hub": invitation.hub.name})
            return redirect("dashboard", slug=invitation.hub.slug)
    return render(
        request,
        "core/invitation.html",
        {"invitation": invitation, "error": error, "next": request.get_full_path()},
        status=400 if error else 200,
    )
