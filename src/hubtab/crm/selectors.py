"""Reads of customer records, shared by the pages, exports and the API."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import QuerySet

from hubtab.core.models import Hub
from hubtab.crm.filters import Condition, PeopleFilter
from hubtab.crm.models import Activity, Customer, CustomerFigures, Note, PersonStatus, Tag
from hubtab.crm.people import people_matching, people_sorted
from hubtab.crm.search import search_words


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
    are running low (people who use credit, below the hub's threshold or in debt); the archived ones alone with
    `archived`, everyone with `archived=None`; or the people of one `status` (lead, customer,
    lapsed, archived), whatever `archived` says. A short form of crm.people.people_matching."""
    conditions = [Condition("tags_any", tag)] if tag else []
    if status in PersonStatus.values:
        conditions.append(Condition("status", status))
    elif archived:
        conditions.append(Condition("status", PersonStatus.ARCHIVED))
    if running_low:
        conditions.append(Condition("running_low"))
    people = people_matching(
        hub=hub, people=PeopleFilter(tuple(conditions), query), now=now, everyone=archived is None and not status
    )
    return people_sorted(people, hub=hub, order=order, now=now, few=bool(search_words(query)))


def running_low_count(*, hub: Hub) -> int:
    """How many people run low: the list's "running low" filter, counted, so that the overview's
    figure and the list it links to always agree."""
    return people_matching(hub=hub, people=PeopleFilter((Condition("running_low"),))).count()


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


def customers_in_use(*, hub: Hub, tag: str = "", ids: list[int] | None = None) -> QuerySet[Customer]:
    """The hub's customers not archived, those of them with `tag`, or those of them among `ids` (a
    selection): whom a bulk action reaches."""
    customers = Customer.objects.filter(hub=hub).filter(archived_at__isnull=True)
    if ids is not None:
        customers = customers.filter(id__in=ids)
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


# --- notes --------------------------------------------------------------------------------------


def notes_of(*, hub: Hub, customer: Customer) -> QuerySet[Note]:
    """What crew wrote about the person: pinned notes first, then the newest."""
    return (
        Note.objects.filter(hub=hub)
        .filter(customer=customer)
        .select_related("author")
        .order_by("-pinned", "-created_at", "-id")
    )


def note_get(*, hub: Hub, customer: Customer, note_id: int) -> Note | None:
    """One of the person's notes (None for another person's or another hub's)."""
    return Note.objects.filter(hub=hub).filter(customer=customer, id=note_id).select_related("customer").first()


def follow_ups_due(*, hub: Hub, today: date, limit: int = 50) -> list[Note]:
    """Open follow-ups due on or before `today` (the hub's date), the oldest first, with their person."""
    return list(
        Note.objects.filter(hub=hub)
        .filter(follow_up_on__lte=today, follow_up_done_at__isnull=True)
        .select_related("customer", "author")
        .order_by("follow_up_on", "id")[:limit]
    )
