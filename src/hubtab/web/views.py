"""Pages: thin views that check who may look, call selectors and render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from hubtab.core.access import hub_view
from hubtab.core.models import Hub, User
from hubtab.core.money import Unit, money_format, unit_get
from hubtab.core.permissions import Permission, permissions_for
from hubtab.core.selectors import hub_list_for_user, membership_roles
from hubtab.ledger.models import Account, AccountKind
from hubtab.ledger.selectors import account_list


@login_required
def home(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    hubs = list(hub_list_for_user(user=request.user))
    roles_by_hub = {hub.id: membership_roles(hub=hub, user=request.user) for hub in hubs}
    crew_hubs = [hub for hub in hubs if Permission.VIEW_ACCOUNTS in permissions_for(roles_by_hub[hub.id])]
    if not crew_hubs:
        return redirect("portal")  # a customer's home is their own accounts
    if len(hubs) == 1:
        return redirect("customer_index", slug=hubs[0].slug)
    return render(request, "web/home.html", {"hubs": crew_hubs, "is_customer_somewhere": len(crew_hubs) < len(hubs)})


@hub_view(Permission.VIEW_ACCOUNTS)
def hub_accounts(request: HttpRequest, hub: Hub) -> HttpResponse:
    customers = account_list(hub_id=hub.id).exclude(kind=AccountKind.SYSTEM).order_by("name")
    page = Paginator(customers, 50).get_page(request.GET.get("page"))
    books = account_list(hub_id=hub.id, kind=AccountKind.SYSTEM).order_by("name")
    formatter = _Formatter(hub)
    return render(
        request,
        "web/hub_accounts.html",
        {
            "hub": hub,
            "page": page,
            "customer_rows": [formatter.row(account) for account in page],
            "book_rows": [formatter.row(account) for account in books],
        },
    )


class _Formatter:
    """Formats account figures in the hub's locale, looking each unit up once."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.units: dict[str, Unit] = {}

    def money(self, amount_minor: int, code: str) -> str:
        if code not in self.units:
            self.units[code] = unit_get(hub_id=self.hub.id, code=code)
        return money_format(amount_minor, self.units[code], self.hub.locale)

    def row(self, account: Account) -> dict[str, object]:
        balance_minor = getattr(account, "balance_minor", 0) or 0
        held_minor = getattr(account, "held_minor", 0) or 0
        floor_minor = account.floor_minor
        return {
            "account": account,
            "balance": self.money(balance_minor, account.unit),
            "held": self.money(held_minor, account.unit) if held_minor else "",
            "floor": self.money(floor_minor, account.unit) if floor_minor else "",
            "in_debt": balance_minor < 0,
        }
