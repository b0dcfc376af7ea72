"""Reads of customer records, shared by the pages, exports and the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from hubtab.accounts.selectors import credit_settings_of
from hubtab.core.models import Hub
from hubtab.crm.models import Activity, Customer, CustomerFigures, PersonStatus, Tag
from hubtab.crm.search import search_words
from hubtab.ledger.selectors import accounts_below, balance_subquery

LIST_ORDERS = ("name", "balance", "-balance")
# A customer with no completed order for this long is lapsed (a hub setting comes with the CRM's page).
LAPSED_AFTER = timedelta(weeks=8)


def status_of(*, archived: bool, last_order_at: datetime | None, now: datetime) -> str:
    if archived:
        return PersonStatus.ARCHIVED
    if last_order_at is None:
        return PersonStatus.LEAD
    return PersonStatus.CUSTOMER if last_order_at >= now - LAPSED_AFTER else PersonStatus.LAPSED


def _status_condition(status: str, now: datetime) -> Q:
    """The people of one status, as a filter (the same rule as status_of)."""
    live = Q(archived_at__isnull=True)
    if status == PersonStatus.ARCHIVED:
        return Q(archived_at__isnull=False)
    if status == PersonStatus.LEAD:
        return live & (Q(figures__isnull=True) | Q(figures__last_order_at__isnull=True))
    if status == PersonStatus.CUSTOMER:
        return live & Q(figures__last_order_at__gte=now - LAPSED_AFTER)
    return live & Q(figures__last_order_at__lt=now - LAPSED_AFTER)


def customer_list(
    *,
    hub: Hub,
    query: str = "",
    tag: str = "",
    running_low: bool = False,
    archived: bool | None = False,
    status: str = "",
    order: str = "name",
    now: datetime | None = None,
) -> QuerySet[Customer]:
    """Customers of the hub, filtered by a search (name, email, code, phone), a tag, and whether they
    are running low (below the hub's threshold, or in debt); the archived ones alone with
    `archived`, everyone with `archived=None`; or the people of one `status` (lead, customer,
    lapsed, archived), whatever `archived` says.
    Balances are read for the rows shown (ledger.selectors.balances_of), so counting and paging
    touch the customer table only."""
    customers = Customer.objects.filter(hub=hub)
    if status in PersonStatus.values:
        customers = customers.filter(_status_condition(status, now or timezone.now()))
    elif archived is not None:
        customers = customers.filter(archived_at__isnull=not archived)
    words = search_words(query)
    for word in words:
        customers = customers.filter(search_text__contains=word)
    if tag:
        customers = customers.filter(tags__name=tag)
    if running_low:
        customers = customers.filter(
            account_id__in=accounts_below(hub_id=hub.id, below_minor=credit_settings_of(hub=hub).low_balance_minor)
        )
    if order in ("balance", "-balance"):
        # Lowest balance first (or highest): for the running-low list, whose rows are few.
        customers = customers.annotate(sort_balance=balance_subquery())
        return customers.order_by(order.replace("balance", "sort_balance"), "last_name", "first_name", "id")
    if words:
        # Matches are few: sorting them beats walking the name index past every non-match, which
        # the planner otherwise picks for a LIMIT (the index has no lower-cased names).
        return customers.order_by(Lower("last_name"), Lower("first_name"), "id")
    return customers.order_by("last_name", "first_name", "id")


def customer_get(*, hub: Hub, customer_id: int) -> Customer | None:
    return Customer.objects.filter(hub=hub).filter(id=customer_id).select_related("account").first()


def tag_names(*, hub: Hub) -> list[str]:
    return list(Tag.objects.filter(hub=hub).order_by("name").values_list("name", flat=True))


def customer_record_of_user(*, user_id: int, hub_slug: str) -> Customer | None:
    """A person's own customer record at one hub (None if they have none there)."""
    return customer_records_of_user(user_id=user_id).filter(hub__slug=hub_slug).first()


def customer_records_of_user(*, user_id: int) -> QuerySet[Customer]:
    """The customer records linked to a person, at every hub, for their own portal."""
    return (
        Customer.objects.across_hubs()  # the person's own records, at every hub
        .filter(user_id=user_id, archived_at__isnull=True)
        .select_related("hub", "account")
        .order_by("hub__name")
    )


def customers_by_account(*, hub: Hub, account_ids: list[int]) -> dict[int, Customer]:
    return {c.account_id: c for c in Customer.objects.filter(hub=hub).filter(account_id__in=account_ids)}


def customers_in_use(*, hub: Hub, tag: str = "") -> QuerySet[Customer]:
    """The hub's customers not archived, or those of them with `tag`: whom a bulk action reaches."""
    customers = Customer.objects.filter(hub=hub).filter(archived_at__isnull=True)
    return customers.filter(tags__name=tag) if tag else customers


def activity_list(*, hub: Hub, customer: Customer, limit: int = 100) -> list[Activity]:
    """What happened to the person, newest first: their timeline."""
    return list(
        Activity.objects.filter(hub=hub)
        .filter(customer=customer)
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:limit]
    )


def figures_of(*, hub: Hub, customer: Customer) -> CustomerFigures:
    """The person's kept figures (all empty before anything happened)."""
    found = CustomerFigures.objects.filter(hub=hub).filter(customer=customer).first()
    return found or CustomerFigures(customer=customer, hub=hub)
