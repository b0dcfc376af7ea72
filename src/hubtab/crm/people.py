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
    FilteredRelation,
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
from hubtab.crm.models import Activity, ActivityKind, CrmSettings, Customer, CustomerFigures, Note, PersonStatus, Tag
from hubtab.crm.search import search_words


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


def _has_figures(hub: Hub, **lookups: Any) -> Exists:
    """Whether the person's figures meet `lookups`. "Has no such figures" is written ~_has_figures,
    which the database answers by an anti-join (one pass, or a lookup per person when the list
    stops at a page) rather than a join of every person's figures filtered afterwards."""
    return Exists(CustomerFigures.objects.filter(hub=hub).filter(customer_id=OuterRef("pk"), **lookups))


def status_condition(status: str, now: datetime, lapsed: timedelta, hub: Hub) -> Q:
    """The people of one status, as a filter (the same rule as status_of)."""
    live = Q(archived_at__isnull=True)
    if status == PersonStatus.ARCHIVED:
        return Q(archived_at__isnull=False)
    if status == PersonStatus.LEAD:
        return live & ~Q(_has_figures(hub, last_order_at__isnull=False))
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
    """The hub's people that `people` lets in (the archived only when a condition asks for the
    archived status, or with `everyone`), unordered: sort with people_sorted."""
    context = _Context(hub, now or timezone.now(), lapsed_after(hub=hub), ZoneInfo(hub.timezone))
    matching = Customer.objects.filter(hub=hub)
    # "Came from crew, or lapsed" means the people in use: only asking for the archived brings them in.
    asks_for_archived = any(c.kind == "status" and c.value == PersonStatus.ARCHIVED for c in people.conditions)
    if not asks_for_archived and not everyone:
        matching = matching.filter(archived_at__isnull=True)
    if any(c.kind in _BALANCE_KINDS for c in people.conditions):
        matching = with_balance_row(matching)
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


_BALANCE_KINDS = frozenset({"balance_min", "balance_max", "running_low", "in_debt"})
# A condition everyone meets. Not Q(): an empty Q is dropped from an OR ("orders at least 0 or
# balance at most 10" would read as "balance at most 10").
_EVERYONE = Q(pk__isnull=False)


def _condition_q(c: Condition, ctx: _Context) -> Q:
    kind, hub = c.kind, ctx.hub
    if kind == "tags_any":
        return Q(_tagged(c.tags()))
    if kind == "tags_all":
        return Q(*[_tagged([name]) for name in c.tags()])
    if kind == "tags_none":
        return ~Q(_tagged(c.tags()))
    if kind == "status":
        return status_condition(c.value, ctx.now, ctx.lapsed, hub)
    if kind == "consent":
        return Q(marketing_consent=c.value == YES) if c.value in (YES, NO) else _EVERYONE
    # Balances are read from the joined balance row (people_matching joins it for these), which a
    # sort by balance shares: one pass over the balances for the count and the page.
    if kind == "balance_min":
        return Q(balance_row__balance_minor__gte=c.number())
    if kind == "balance_max":
        return Q(balance_row__balance_minor__lte=c.number())
    if kind == "running_low":
        # Among people who use credit: a lead whose account never moved sits at 0 without running
        # low. The balance row's version counts the account's entries (ledger verify holds it so).
        low_minor = credit_settings_of(hub=hub).low_balance_minor
        return Q(balance_row__balance_minor__lt=low_minor, balance_row__version__gt=0)
    if kind == "in_debt":
        return Q(balance_row__balance_minor__lt=0)
    if kind in ("spent_min", "spent_max"):
        at_least = kind == "spent_min"
        within = Q(figures__spent_minor__gte=c.number()) if at_least else Q(figures__spent_minor__lte=c.number())
        # Someone with no figures yet has spent 0: in when 0 is within the bound, so only those
        # whose figures fall outside it are left out.
        if c.number() <= 0 if at_least else c.number() >= 0:
            outside = {"spent_minor__lt" if at_least else "spent_minor__gt": c.number()}
            return ~Q(_has_figures(hub, **outside))
        return within
    if kind == "last_within":
        return Q(figures__last_order_at__gte=ctx.now - timedelta(weeks=c.number()))
    if kind == "last_before":
        return Q(figures__last_order_at__lt=_day_start(c.value, ctx.zone))
    if kind == "last_after":
        return Q(figures__last_order_at__gte=_day_start(c.value, ctx.zone))
    if kind == "never_ordered":
        return ~Q(_has_figures(hub, orders_completed__gt=0))
    if kind in ("in_cycle", "not_in_cycle"):
        cycle = int(c.value) if c.value else getattr(cycle_current(hub=hub), "id", None)
        if cycle is None:  # no cycle yet: nobody ordered in it
            return Q(pk__in=[]) if kind == "in_cycle" else _EVERYONE
        return Q(_ordered_in(cycle, hub)) if kind == "in_cycle" else ~Q(_ordered_in(cycle, hub))
    if kind == "orders_min":
        return Q(figures__orders_completed__gte=c.number()) if c.number() > 0 else _EVERYONE
    if kind == "orders_max":
        return ~Q(_has_figures(hub, orders_completed__gt=c.number()))
    if kind == "source":
        return Q(source=c.value)
    if kind == "created_after":
        return Q(created_at__gte=_day_start(c.value, ctx.zone))
    if kind == "created_before":
        return Q(created_at__lt=_day_start(c.value, ctx.zone))
    if kind == "text":
        words = search_words(c.value)
        return Q(*[Q(search_text__contains=word) for word in words]) if words else _EVERYONE
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
    "balance": lambda hub, now: F("balance_row__balance_minor"),
    "spendable": lambda hub, now: spendable_of("balance_row"),
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
    if column in ("balance", "spendable"):
        people = with_balance_row(people)
    return people.annotate(sort_key=key).order_by(by_key, *_NAME)


def balance_row() -> FilteredRelation:
    """The person's account's balance row, joined: a customer's account has one, shard 0 (see
    ledger.selectors.balance_subquery). Sorting thousands of people by balance then takes one pass
    over the balances, where a subquery per person took a lookup each (and, its cost estimated
    high, the database's JIT compiler, some 100 ms more per page)."""
    return FilteredRelation("account__balances", condition=Q(account__balances__shard=0))


def with_balance_row(people: QuerySet[Customer]) -> QuerySet[Customer]:
    """The people with `balance_row` joined (once, whoever asks first)."""
    return people if "balance_row" in people.query.annotations else people.annotate(balance_row=balance_row())


def spendable_of(row: str) -> Any:
    """What may still be spent (balance - held - floor), from a joined balance row, as
    ledger.selectors.spendable_subquery reads it."""
    return F(f"{row}__balance_minor") - F(f"{row}__held_minor") - Coalesce(f"{row}__floor_minor", 0)
