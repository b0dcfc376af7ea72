"""Reads of customer records, shared by the pages, exports and the API."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from hubtab.core.models import Hub
from hubtab.crm.models import Customer, Tag
from hubtab.ledger.models import Balance


def customer_list(*, hub: Hub, query: str = "", tag: str = "", include_archived: bool = False) -> QuerySet[Customer]:
    """Customers of the hub with `balance_minor`, filtered by a search (name, email, code, phone) and a tag."""
    customers = Customer.objects.with_scope(hub=hub).all()
    if not include_archived:
        customers = customers.filter(archived_at__isnull=True)
    query = query.strip()
    if query:
        for word in query.split()[:5]:
            customers = customers.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
                | Q(code__iexact=word)
                | Q(phone__icontains=word)
            )
    if tag:
        customers = customers.filter(tags__name=tag)
    balance = (
        Balance.objects.with_scopes_disabled()
        .filter(account_id=OuterRef("account_id"))
        .values("account_id")
        .annotate(total=Sum("balance_minor"))
        .values("total")
    )
    return customers.annotate(balance_minor=Subquery(balance)).order_by("last_name", "first_name", "id")


def customer_get(*, hub: Hub, customer_id: int) -> Customer | None:
    return Customer.objects.with_scope(hub=hub).filter(id=customer_id).select_related("account").first()


def tag_names(*, hub: Hub) -> list[str]:
    return list(Tag.objects.with_scope(hub=hub).order_by("name").values_list("name", flat=True))


def customer_records_of_user(*, user_id: int) -> QuerySet[Customer]:
    """The customer records linked to a person, at every hub, for their own portal."""
    return (
        Customer.objects.with_scopes_disabled()
        .filter(user_id=user_id, archived_at__isnull=True)
        .select_related("hub", "account")
        .order_by("hub__name")
    )
