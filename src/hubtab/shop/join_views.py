"""The hub's public sign-up page, the link a hub shares: a visitor creates a login (or logs in) and
comes back; a signed-in person joins the shop in one step (crm.joining) and goes shopping."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hubtab.core.access import request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.crm.crm_settings import crm_settings_of
from hubtab.crm.forms import JoinForm
from hubtab.crm.joining import customer_join, join_standing


@require_http_methods(["GET", "POST"])
def hub_join(request: HttpRequest, hub_slug: str) -> HttpResponse:
    """A hub that takes no sign-ups is 404 here, like a hub that does not exist (its members are
    sent on to the shop)."""
    hub = Hub.objects.filter(slug=hub_slug).first()
    if hub is None:
        raise Http404("No such shop.")
    here = reverse("hub_join", args=[hub.slug])
    if not request.user.is_authenticated:
        if not crm_settings_of(hub=hub).joining_open:
            raise Http404("No such shop.")
        after = urlencode({"next": here})
        return render(
            request,
            "shop/join.html",
            {"hub": hub, "signup_url": f"{reverse('account_signup')}?{after}",
             "login_url": f"{reverse('account_login')}?{after}"},
        )  # fmt: skip
    user = request_user(request)
    record, refusal = join_standing(hub=hub, user=user)
    if refusal is not None and refusal.code == "joining_closed":
        raise Http404("No such shop.")
    if refusal is None and record is not None and record.user_id == user.id:
        return redirect("shop", hub_slug=hub.slug)  # a member already: nothing to join
    # An unticked box sends nothing: an empty POST is still the form sent.
    form = JoinForm(request.POST if request.method == "POST" else None, hub_name=hub.name)
    if request.method == "POST" and refusal is None and form.is_valid():
        try:
            customer_join(hub=hub, user=user, marketing_consent=form.cleaned_data["marketing_consent"])
        except DomainError as exc:
            refusal = exc
        else:
            messages.success(request, _("Welcome to %(hub)s: you can shop now.") % {"hub": hub.name})
            return redirect("shop", hub_slug=hub.slug)
    return render(request, "shop/join.html", {"hub": hub, "form": form, "refusal": refusal})
