"""Pages: thin views that check who may look, call selectors and render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from hubtab.core.models import Hub, Role, User
from hubtab.core.money import Unit, money_format, unit_get
from hubtab.core.selectors import hub_list_for_user, membership_roles
from hubtab.ledger.selectors import account_list

CREW_ROLES = {Role.OWNER, Role.FINANCE, Role.SUPPORT}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    hubs = list(hub_list_for_user(user=request.user))
    if len(hubs) == 1:
        return redirect("hub_accounts", slug=hubs[0].slug)
    return render(request, "web/home.html", {"hubs": hubs})


@login_required
def hub_accounts(request: HttpRequest, slug: str) -> HttpResponse:
    assert isinstance(request.user, User)
    hub = Hub.objects.filter(slug=slug).first()
    # Another hub's page answers 404 like a missing one, so nobody learns that it exists.
    if hub is None or not (membership_roles(hub=hub, user=request.user) & CREW_ROLES):
        raise Http404("No such hub.")
    accounts = account_list(hub_id=hub.id).order_by("kind", "name")
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    units: dict[str, Unit] = {}
    rows = []
    for account in page:
        unit = units.get(account.unit) or units.setdefault(account.unit, unit_get(hub_id=hub.id, code=account.unit))
        balance_minor = getattr(account, "balance_minor", 0) or 0
        held_minor = getattr(account, "held_minor", 0) or 0
        floor_minor = account.floor_minor
        rows.append(
            {
                "account": account,
                "balance": money_format(balance_minor, unit, hub.locale),
                "held": money_format(held_minor, unit, hub.locale) if held_minor else "",
                "floor": money_format(floor_minor, unit, hub.locale) if floor_minor is not None else "",
                "negative": balance_minor < 0,
            }
        )
    return render(request, "web/hub_accounts.html", {"hub": hub, "rows": rows, "page": page})
