"""The owner's page for the hub's API tokens: make one (its secret shown once), see when each was
last used, revoke it."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from hubtab.api.models import ApiToken, Scope
from hubtab.api.services import token_create, token_revoke
from hubtab.core.access import hub_view, request_user
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.permissions import Permission


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What will use it, e.g. Our shop"))
    scopes = forms.MultipleChoiceField(
        label=_("May"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=list(Scope.values)
    )


@hub_view(Permission.MANAGE_SETTINGS)
def api_tokens(request: HttpRequest, hub: Hub) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        try:
            _token, secret = token_create(
                hub=hub, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                created_by=request_user(request),
            )  # fmt: skip
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            form = TokenForm()
    tokens = ApiToken.objects.filter(hub=hub).order_by("-created_at")
    return render(request, "api/tokens.html", {"hub": hub, "form": form, "secret": secret, "tokens": tokens})


@hub_view(Permission.MANAGE_SETTINGS)
@require_POST
def api_token_revoke(request: HttpRequest, hub: Hub, token_id: int) -> HttpResponse:
    token = ApiToken.objects.filter(hub=hub).filter(id=token_id).first()
    if token is None:
        raise Http404
    token_revoke(hub=hub, token=token, actor=request_user(request))
    return redirect("api_tokens", slug=hub.slug)
