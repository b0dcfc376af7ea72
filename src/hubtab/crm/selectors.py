"""Reads of customer records, shared by the pages, exports and the API."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from hubtab.core.models import Hub
from hubtab.crm.models import Customer, Tag
from hubtab.ledger.models import Balance


def customer_list(
    *, hub: Hub, query: str = "", tag: str = "", running_low: bool = False, include_archived: bool = False
) -> QuerySet[Customer]:
    """Customers of the hub with `balance_minor`, filtered by a search (name, email, code, phone), a tag,
    and whether they are running low (below the hub's threshold, or in debt)."""
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
    customers = customers.annotate(balance_minor=Subquery(balance))
    if running_low:
        customers = customers.filter(balance_minor__lt=hub.low_balance_minor)
    return customers.order_by("last_name", "first_name", "id")


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


def customers_by_account(*, hub: Hub, account_ids: list[int]) -> dict[int, Customer]:
    return {c.account_id: c for c in Customer.objects.with_scope(hub=hub).filter(account_id__in=account_ids)}
