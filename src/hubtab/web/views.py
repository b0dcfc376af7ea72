"""Pages: thin views that check who may look, call selectors and render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from hubtab.core.models import Hub, Role
from hubtab.core.money import money_format, unit_get
from hubtab.core.selectors import hub_list_for_user, membership_roles
from hubtab.ledger.selectors import account_list

CREW_ROLES = {Role.OWNER, Role.FINANCE, Role.SUPPORT}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    hubs = list(hub_list_for_user(user=request.user))
    if len(hubs) == 1:
        return redirect("hub_accounts", slug=hubs[0].slug)
    return render(request, "web/home.html", {"hubs": hubs})


@login_required
def hub_accounts(request: HttpRequest, slug: str) -> HttpResponse:
    hub = Hub.objects.filter(slug=slug).first()
    # Another hub's page answers 404 like a missing one, so nobody learns that it exists.
    if hub is None or not (membership_roles(hub=hub, user=request.user) & CREW_ROLES):
        raise Http404("No such hub.")
    accounts = account_list(hub_id=hub.id).order_by("kind", "name")
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    units: dict[str, object] = {}
    rows = []
    for account in page:
        unit = units.setdefault(account.unit, unit_get(hub_id=hub.id, code=account.unit))
        rows.append(
            {
                "account": account,
                "balance": money_format(account.balance_minor or 0, unit, hub.locale),
                "held": money_format(account.held_minor or 0, unit, hub.locale) if account.held_minor else "",
                "floor": money_format(account.floor_minor, unit, hub.locale) if account.floor_minor is not None else "",
                "negative": (account.balance_minor or 0) < 0,
            }
        )
    return render(request, "web/hub_accounts.html", {"hub": hub, "rows": rows, "page": page})
