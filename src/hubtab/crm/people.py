"""The one selector for lists of people: who matches a filter (crm.filters), in which order. The
list page, its export, copying emails, the API, saved segments and campaigns all read it, so a
segment holds the same people wherever it is used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hubtab.accounts.selectors import credit_settings_of
from hubtab.core.models import Hub
from hubtab.crm.cycles import cycle_current
from hubtab.crm.filters import NO, YES, Condition, PeopleFilter
from hubtab.crm.models import Activity, ActivityKind, CrmSettings, Customer, Note, PersonStatus, Tag
from hubtab.crm.search import search_words
from hubtab.ledger.selectors import accounts_between, balance_subquery, spendable_subquery


@dataclass(frozen=True)
class Column:
    code: str
    label: Any
    numeric: bool = False
    shown: bool = False  # shown until crew choose otherwise


COLUMNS: dict[str, Column] = {
    c.code: c
    for c in [
        Column("name", _("Name"), shown=True),
        Column("email", _("Email"), shown=True),
        Column("phone", _("Phone")),
        Column("tags", _("Tags"), shown=True),
        Column("status", _("Status"), shown=True),
        Column("source", _("Source")),
        Column("created", pgettext_lazy("the date a person was added", "Added")),
        Column("last_purchase", _("Last purchase"), shown=True),
        Column("orders", _("Orders"), numeric=True),
        Column("spent", _("Total purchases"), numeric=True),
        Column("average", _("Average basket"), numeric=True),
        Column("balance", _("Balance"), numeric=True, shown=True),
        Column("spendable", _("Spendable"), numeric=True),
        Column("consent", _("Consent")),
        Column("notes", _("Notes"), numeric=True),
    ]
}
DEFAULT_COLUMNS = [code for code, column in COLUMNS.items() if column.shown]
DEFAULT_LAPSED_WEEKS = 8


def lapsed_after(*, hub: Hub) -> timedelta:
    """How long without a completed order makes a customer lapsed, at this hub."""
    weeks = CrmSettings.objects.filter(hub=hub).values_list("lapsed_after_weeks", flat=True).first()
    return timedelta(weeks=weeks or DEFAULT_LAPSED_WEEKS)


def status_of(*, archived: bool, last_order_at: datetime | None, now: datetime, lapsed: timedelta) -> str:
    if archived:
        return PersonStatus.ARCHIVED
    if last_order_at is None:
        return PersonStatus.LEAD
    return PersonStatus.CUSTOMER if last_order_at >= now - lapsed else PersonStatus.LAPSED


def status_condition(status: str, now: datetime, lapsed: timedelta) -> Q:
    """The people of one status, as a filter (the same rule as status_of)."""
    live = Q(archived_at__isnull=True)
    if status == PersonStatus.ARCHIVED:
        return Q(archived_at__isnull=False)
    if status == PersonStatus.LEAD:
        return live & (Q(figures__isnull=True) | Q(figures__last_order_at__isnull=True))
    if status == PersonStatus.CUSTOMER:
        return live & Q(figures__last_order_at__gte=now - lapsed)
    return live & Q(figures__last_order_at__lt=now - lapsed)


@dataclass(frozen=True)
class _Context:
    hub: Hub
    now: datetime
    lapsed: timedelta
    zone: ZoneInfo


def people_matching(
    *, hub: Hub, people: PeopleFilter, now: datetime | None = None, everyone: bool = False
) -> QuerySet[Customer]:
    """The hub's people that `people` lets in (the archived only when a status condition names
    them, or with `everyone`), unordered: sort with people_sorted."""
    context = _Context(hub, now or timezone.now(), lapsed_after(hub=hub), ZoneInfo(hub.timezone))
    matching = Customer.objects.filter(hub=hub)
    if not people.names_status() and not everyone:
        matching = matching.filter(archived_at__isnull=True)
    for word in search_words(people.query):
        matching = matching.filter(search_text__contains=word)
    for group in people.groups():
        either = Q()
        for condition in group:
            either |= _condition_q(condition, context)
        matching = matching.filter(either)
    return matching


def _tagged(names: list[str]) -> Exists:
    return Exists(Customer.tags.through.objects.filter(customer_id=OuterRef("pk"), tag__name__in=names))


def _day_start(value: str, zone: ZoneInfo) -> datetime:
    from datetime import date

    return datetime.combine(date.fromisoformat(value), time.min, tzinfo=zone)


def _ordered_in(cycle_id: int, hub: Hub) -> Exists:
    """An order in the cycle that was not cancelled."""
    cancelled = Activity.objects.filter(hub=hub).filter(cycle_id=cycle_id, kind=ActivityKind.ORDER_CANCELLED)
    placed = Activity.objects.filter(hub=hub).filter(
        cycle_id=cycle_id, kind=ActivityKind.ORDER_PLACED, customer_id=OuterRef("pk")
    )
    return Exists(placed.exclude(ref_id__in=cancelled.values("ref_id")))


def _condition_q(c: Condition, ctx: _Context) -> Q:
    kind, hub = c.kind, ctx.hub
    if kind == "tags_any":
        return Q(_tagged(c.tags()))
    if kind == "tags_all":
        return Q(*[_tagged([name]) for name in c.tags()])
    if kind == "tags_none":
        return ~Q(_tagged(c.tags()))
    if kind == "status":
        return status_condition(c.value, ctx.now, ctx.lapsed)
    if kind == "consent":
        return Q(marketing_consent=c.value == YES) if c.value in (YES, NO) else Q()
    if kind == "balance_min":
        return Q(account_id__in=accounts_between(hub_id=hub.id, at_least_minor=c.number()))
    if kind == "balance_max":
        return Q(account_id__in=accounts_between(hub_id=hub.id, below_minor=c.number() + 1))
    if kind == "running_low":
        low = credit_settings_of(hub=hub).low_balance_minor
        return Q(account_id__in=accounts_between(hub_id=hub.id, below_minor=low))
    if kind == "in_debt":
        return Q(account_id__in=accounts_between(hub_id=hub.id, below_minor=0))
    if kind == "spent_min":
        return Q(figures__spent_minor__gte=c.number())
    if kind == "spent_max":
        return Q(figures__spent_minor__lte=c.number()) | Q(figures__isnull=True)
    if kind == "last_within":
        return Q(figures__last_order_at__gte=ctx.now - timedelta(weeks=c.number()))
    if kind == "last_before":
        return Q(figures__last_order_at__lt=_day_start(c.value, ctx.zone))
    if kind == "last_after":
        return Q(figures__last_order_at__gte=_day_start(c.value, ctx.zone))
    if kind == "never_ordered":
        return Q(figures__isnull=True) | Q(figures__orders_completed=0)
    if kind in ("in_cycle", "not_in_cycle"):
        cycle = int(c.value) if c.value else getattr(cycle_current(hub=hub), "id", None)
        if cycle is None:  # no cycle yet: nobody ordered in it
            return Q(pk__in=[]) if kind == "in_cycle" else Q()
        return Q(_ordered_in(cycle, hub)) if kind == "in_cycle" else ~Q(_ordered_in(cycle, hub))
    if kind == "orders_min":
        return Q(figures__orders_completed__gte=c.number()) if c.number() > 0 else Q()
    if kind == "orders_max":
        return Q(figures__orders_completed__lte=c.number()) | Q(figures__isnull=True)
    if kind == "source":
        return Q(source=c.value)
    if kind == "created_after":
        return Q(created_at__gte=_day_start(c.value, ctx.zone))
    if kind == "created_before":
        return Q(created_at__lt=_day_start(c.value, ctx.zone))
    if kind == "text":
        words = search_words(c.value)
        return Q(*[Q(search_text__contains=word) for word in words]) if words else Q()
    raise ValueError(f"unknown condition {kind}")


# Sorting: each column's key. Money and dates empty for leads sort last either way.
_NAME = ("last_name", "first_name", "id")


def _status_rank(now: datetime, lapsed: timedelta) -> Case:
    return Case(
        When(archived_at__isnull=False, then=Value(3)),
        When(figures__last_order_at__isnull=True, then=Value(0)),
        When(figures__last_order_at__gte=now - lapsed, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def _first_tag(hub: Hub) -> Subquery:
    tags = Tag.objects.filter(hub=hub).filter(customers=OuterRef("pk")).values("customers")
    return Subquery(tags.annotate(first=Min("name")).values("first")[:1])


def _notes_count(hub: Hub) -> Coalesce:
    notes = Note.objects.filter(hub=hub).filter(customer=OuterRef("pk")).values("customer")
    return Coalesce(Subquery(notes.annotate(n=Count("id")).values("n")[:1]), 0)


def _average() -> Case:
    per_order = F("figures__spent_minor") / F("figures__orders_completed")
    return Case(When(figures__orders_completed__gt=0, then=per_order), default=None, output_field=IntegerField())


_SORT_KEYS: dict[str, Any] = {
    "email": lambda hub, now: F("email"),
    "phone": lambda hub, now: F("phone"),
    "tags": lambda hub, now: _first_tag(hub),
    "status": lambda hub, now: _status_rank(now, lapsed_after(hub=hub)),
    "source": lambda hub, now: F("source"),
    "created": lambda hub, now: F("created_at"),
    "last_purchase": lambda hub, now: F("figures__last_order_at"),
    "orders": lambda hub, now: Coalesce("figures__orders_completed", 0),
    "spent": lambda hub, now: Coalesce("figures__spent_minor", 0),
    "average": lambda hub, now: _average(),
    "balance": lambda hub, now: balance_subquery(),
    "spendable": lambda hub, now: spendable_subquery(),
    "consent": lambda hub, now: F("marketing_consent"),
    "notes": lambda hub, now: _notes_count(hub),
}


def sort_options() -> set[str]:
    return {*COLUMNS, *(f"-{code}" for code in COLUMNS)}


def people_sorted(
    people: QuerySet[Customer], *, hub: Hub, order: str, now: datetime | None = None, few: bool = False
) -> QuerySet[Customer]:
    """People in the order of a column ("-" first: descending), then by name; by name for an
    unknown order. Empty values (a lead's last purchase) come last either way. `few`: the people
    are a search's few matches, which are sorted rather than found by walking the name index (the
    planner's choice for a LIMIT otherwise)."""
    descending, column = order.startswith("-"), order.lstrip("-")
    key = _SORT_KEYS[column](hub, now or timezone.now()) if column in _SORT_KEYS else None
    if key is None:
        if column == "name" and descending:
            return people.order_by("-last_name", "-first_name", "-id")
        return people.order_by(Lower("last_name"), Lower("first_name"), "id") if few else people.order_by(*_NAME)
    by_key = F("sort_key").desc(nulls_last=True) if descending else F("sort_key").asc(nulls_last=True)
    return people.annotate(sort_key=key).order_by(by_key, *_NAME)
