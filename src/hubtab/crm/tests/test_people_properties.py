"""The one selector of people (crm.people.people_matching) against a plain Python filter: for people
made up at random (tags, orders with their dates, totals, cycles, cancellations and refunds, balances,
archived or not, source, consent, the day they were added) and filters made up at random (any
condition, AND-ed groups of OR-ed conditions, the search box), the selector finds exactly the people
that the conditions, read as a hub manager reads them, describe. Sorting by a column keeps the same
people, each once, in the column's order."""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hubtab.accounts.credit_settings import credit_settings_update
from hubtab.core.models import Hub, User
from hubtab.core.services import hub_create
from hubtab.crm.activity import ActivityKind, Ref, activity_record
from hubtab.crm.consent import consent_set
from hubtab.crm.crm_settings import crm_settings_update
from hubtab.crm.filters import KINDS, Condition, PeopleFilter, Takes, condition_check
from hubtab.crm.models import ConsentSource, Customer, PersonStatus, Source
from hubtab.crm.people import people_matching, people_sorted
from hubtab.crm.search import search_words
from hubtab.crm.services import customer_archive, customer_create
from hubtab.testing import Books

pytestmark = pytest.mark.django_db

# A Sunday morning when Europe moves its clocks forward: local days are 23 hours long around it.
NOW = datetime(2025, 3, 30, 9, 30, tzinfo=UTC)
ZONES = ["Europe/Paris", "Pacific/Auckland", "America/New_York", "UTC"]
TAGS = ["veg box", "eggs", "Bread", "école", "bread"]  # "Bread" and "bread" are two tags
CYCLES = [9001, 9002, 9003]  # order cycles' ids, as the shop writes them on order activity
FIRST_NAMES = ["Marie", "Hugo", "Léa", "Zoé", "ÉLISE", "Noah", "ann"]
LAST_NAMES = ["Dubois", "Martin", "O'Neil", "Petit", "", "de la Tour"]
CODES = ["", "", "A12", "b_7", "50%", "K9"]
DAY = timedelta(days=1)


@dataclass
class Order:
    cycle: int
    placed_at: datetime
    completed_at: datetime | None  # None: still open, or cancelled
    total_minor: int
    cancelled: bool
    refunded_minor: int


@dataclass
class Person:
    first_name: str
    last_name: str
    code: str
    tags: list[str]
    source: str
    consent: bool
    created_at: datetime
    archived: bool
    balance_minor: int
    orders: list[Order] = field(default_factory=list)
    email: str = ""

    @property
    def completed(self) -> list[Order]:
        return [order for order in self.orders if order.completed_at is not None]

    @property
    def last_order_at(self) -> datetime | None:
        return max((order.completed_at for order in self.completed if order.completed_at), default=None)

    @property
    def spent_minor(self) -> int:
        return sum(order.total_minor - order.refunded_minor for order in self.completed)


def _moment(hours_ago: int) -> datetime:
    return NOW - timedelta(hours=hours_ago)


HOURS_BACK = 24 * 7 * 40  # 40 weeks


@st.composite
def orders(draw: st.DrawFn) -> Order:
    placed = draw(st.integers(1, HOURS_BACK))
    fate = draw(st.sampled_from(["completed", "completed", "open", "cancelled"]))
    total = draw(st.integers(100, 9000))
    completed_at = _moment(placed - draw(st.integers(0, min(placed - 1, 72)))) if fate == "completed" else None
    refunded = draw(st.sampled_from([0, 0, total // 3, total])) if fate == "completed" else 0
    return Order(draw(st.sampled_from(CYCLES)), _moment(placed), completed_at, total, fate == "cancelled", refunded)


@st.composite
def persons(draw: st.DrawFn) -> Person:
    return Person(
        first_name=draw(st.sampled_from(FIRST_NAMES)),
        last_name=draw(st.sampled_from(LAST_NAMES)),
        code=draw(st.sampled_from(CODES)),
        tags=draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True)),
        source=draw(st.sampled_from(Source.values)),
        consent=draw(st.booleans()),
        created_at=_moment(draw(st.integers(0, HOURS_BACK))),
        archived=draw(st.integers(0, 4)) == 0,
        balance_minor=draw(st.sampled_from([0, 0, 499, 500, -1, 1, -2500, 12000])) if draw(st.booleans())
        else draw(st.integers(-20000, 20000)),
        orders=draw(st.lists(orders(), max_size=3)),
    )  # fmt: skip


@dataclass
class World:
    people: list[Person]
    zone: str
    low_balance_minor: int
    lapsed_weeks: int


worlds = st.builds(
    World,
    people=st.lists(persons(), min_size=1, max_size=7),
    zone=st.sampled_from(ZONES),
    low_balance_minor=st.sampled_from([500, 0, 2000]),
    lapsed_weeks=st.sampled_from([8, 4, 12]),
)

_hubs = itertools.count()


def _world_written(world: World, actor: User) -> tuple[Hub, dict[int, Person]]:
    """The people of `world` at a new hub, written through the services (orders as the shop's events
    write them); returns the hub and each person's record id."""
    hub = hub_create(slug=f"prop-{next(_hubs)}", name="Property hub", currency="EUR", timezone=world.zone)
    credit_settings_update(hub=hub, actor=actor, default_floor_minor=-30000, low_balance_minor=world.low_balance_minor)
    crm_settings_update(hub=hub, actor=actor, lapsed_after_weeks=world.lapsed_weeks)
    books = Books(hub)
    ids = {}
    order_ids = itertools.count(1)
    for n, person in enumerate(world.people):
        plain = unicodedata.normalize("NFKD", person.first_name).encode("ascii", "ignore").decode().lower()
        person.email = f"{plain}.{n}@example.org"
        record = customer_create(
            hub=hub, email=person.email, first_name=person.first_name, last_name=person.last_name,
            code=person.code, tags=person.tags, source=person.source,
        )  # fmt: skip
        # The day the person was added (an import or a sign-up of long ago): only a test moves it.
        Customer.objects.filter(hub=hub, id=record.id).update(created_at=person.created_at)
        if person.consent:
            consent_set(hub=hub, customer=record, given=True, source=ConsentSource.CREW)
        if person.balance_minor > 0:
            books.top_up(record.account, person.balance_minor)
        elif person.balance_minor < 0:
            books.spend(record.account, -person.balance_minor)
        for order in person.orders:
            _order_written(record, order, next(order_ids))
        if person.archived:
            customer_archive(hub=hub, customer=record)
        ids[record.id] = person
    return hub, ids


def _order_written(customer: Customer, order: Order, order_id: int) -> None:
    """What crm.events' callers in the shop write for an order (shop.events)."""
    about = {"ref": Ref("order", order_id), "cycle_id": order.cycle, "unit": "EUR"}
    activity_record(
        customer=customer, kind=ActivityKind.ORDER_PLACED, key=f"order:{order_id}:placed",
        occurred_at=order.placed_at, amount_minor=order.total_minor, **about,
    )  # fmt: skip
    if order.cancelled:
        activity_record(
            customer=customer, kind=ActivityKind.ORDER_CANCELLED, key=f"order:{order_id}:cancelled",
            occurred_at=order.placed_at + timedelta(hours=1), amount_minor=order.total_minor, **about,
        )  # fmt: skip
    if order.completed_at is not None:
        activity_record(
            customer=customer, kind=ActivityKind.ORDER_COMPLETED, key=f"order:{order_id}:completed",
            occurred_at=order.completed_at, amount_minor=order.total_minor, **about,
        )  # fmt: skip
    if order.refunded_minor:
        activity_record(
            customer=customer, kind=ActivityKind.ORDER_REFUNDED, key=f"order:{order_id}:refund",
            occurred_at=order.completed_at, amount_minor=order.refunded_minor, **about,
        )  # fmt: skip


# --- filters made up from the people, so that values fall on and beside their figures ---------------


def _local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


@st.composite
def conditions(draw: st.DrawFn, world: World) -> Condition:
    kind = draw(st.sampled_from(sorted(KINDS)))
    takes = KINDS[kind].takes
    people = world.people
    value = ""
    if takes == Takes.TAGS:
        names = draw(st.lists(st.sampled_from([*TAGS, "nobody's tag"]), min_size=1, max_size=3, unique=True))
        value = ", ".join(names)
    elif takes == Takes.STATUS:
        value = draw(st.sampled_from(PersonStatus.values))
    elif takes == Takes.SOURCE:
        value = draw(st.sampled_from(Source.values))
    elif takes == Takes.YES_NO:
        value = draw(st.sampled_from(["yes", "no"]))
    elif takes == Takes.AMOUNT:
        figures = [p.balance_minor for p in people] if kind.startswith("balance") else [p.spent_minor for p in people]
        value = str(draw(st.sampled_from(figures)) + draw(st.sampled_from([-1, 0, 0, 1])))
        value = draw(st.sampled_from([value, value, str(draw(st.integers(-5000, 20000)))]))
    elif takes == Takes.COUNT:
        value = str(draw(st.integers(0, 4)))
    elif takes == Takes.WEEKS:
        value = str(draw(st.sampled_from([1, 2, 4, 8, 12, 30, 520])))
    elif takes == Takes.DATE:
        moments = [p.created_at for p in people] + [p.last_order_at for p in people if p.last_order_at]
        day = _local_day(draw(st.sampled_from(moments)), world.zone) + draw(st.sampled_from([-1, 0, 0, 1])) * DAY
        value = day.isoformat()
    elif takes == Takes.CYCLE:
        value = str(draw(st.sampled_from(["", *CYCLES])))
    elif takes == Takes.TEXT:
        value = draw(_search_text(world))
    join = draw(st.sampled_from(["and", "or"]))
    return condition_check(Condition(kind, value, join))


@st.composite
def _search_text(draw: st.DrawFn, world: World) -> str:
    """A piece of someone's name, email or code (in any case), or words nobody has."""
    person = draw(st.sampled_from(world.people))
    source = draw(st.sampled_from([person.first_name, person.last_name, person.email, person.code]))
    if not source.strip() or draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(["zzz", "marie dubois", "ÉLISE", "a_", "%", "o'n"]))
    start = draw(st.integers(0, len(source) - 1))
    piece = source[start : start + draw(st.integers(1, 6))].strip() or source.strip()
    return draw(st.sampled_from([piece, piece.upper(), piece.lower()]))


@st.composite
def filters(draw: st.DrawFn, world: World) -> PeopleFilter:
    chosen = draw(st.lists(conditions(world), max_size=4))
    query = draw(_search_text(world)) if draw(st.integers(0, 5)) == 0 else ""
    return PeopleFilter(tuple(chosen), query)


# --- the plain Python reading of a filter --------------------------------------------------------------


def _status(person: Person, world: World) -> str:
    if person.archived:
        return PersonStatus.ARCHIVED
    last = person.last_order_at
    if last is None:
        return PersonStatus.LEAD
    return PersonStatus.CUSTOMER if last >= NOW - timedelta(weeks=world.lapsed_weeks) else PersonStatus.LAPSED


def _found_by(person: Person, text: str) -> bool:
    """Every word typed is part of the person's name, email or code (phone numbers are search's own tests)."""
    haystack = " ".join([person.first_name, person.last_name, person.email, person.code]).lower()
    return all(word in haystack for word in search_words(text))


def _ordered_in(person: Person, cycle: int) -> bool:
    return any(order.cycle == cycle and not order.cancelled for order in person.orders)


def _holds(condition: Condition, person: Person, world: World) -> bool:
    kind, value = condition.kind, condition.value
    tags = set(person.tags)
    last = person.last_order_at
    if kind == "tags_any":
        return bool(tags & set(condition.tags()))
    if kind == "tags_all":
        return set(condition.tags()) <= tags
    if kind == "tags_none":
        return not tags & set(condition.tags())
    if kind == "status":
        return _status(person, world) == value
    if kind == "consent":
        return person.consent == (value == "yes")
    if kind == "balance_min":
        return person.balance_minor >= int(value)
    if kind == "balance_max":
        return person.balance_minor <= int(value)
    if kind == "running_low":
        # Only people who use credit: here, whose account moved (a balance of 0 never did).
        return person.balance_minor != 0 and person.balance_minor < world.low_balance_minor
    if kind == "in_debt":
        return person.balance_minor < 0
    if kind == "spent_min":
        return person.spent_minor >= int(value)
    if kind == "spent_max":
        return person.spent_minor <= int(value)
    if kind == "last_within":
        return last is not None and last >= NOW - timedelta(weeks=int(value))
    if kind == "last_before":
        return last is not None and _local_day(last, world.zone) < date.fromisoformat(value)
    if kind == "last_after":
        return last is not None and _local_day(last, world.zone) >= date.fromisoformat(value)
    if kind == "never_ordered":
        return not person.completed
    if kind == "in_cycle":  # the hub has no cycle of the shop: "the current cycle" is none
        return bool(value) and _ordered_in(person, int(value))
    if kind == "not_in_cycle":
        return not value or not _ordered_in(person, int(value))
    if kind == "orders_min":
        return len(person.completed) >= int(value)
    if kind == "orders_max":
        return len(person.completed) <= int(value)
    if kind == "source":
        return person.source == value
    if kind == "created_after":
        return _local_day(person.created_at, world.zone) >= date.fromisoformat(value)
    if kind == "created_before":
        return _local_day(person.created_at, world.zone) < date.fromisoformat(value)
    if kind == "text":
        return _found_by(person, value)
    raise AssertionError(f"no plain reading of {kind}")


def _in(person: Person, people: PeopleFilter, world: World) -> bool:
    """In the list: every group has a condition that holds, the search finds them, and the archived
    only when the filter asks for archived people."""
    if person.archived and not any(c.kind == "status" and c.value == PersonStatus.ARCHIVED for c in people.conditions):
        return False
    if not _found_by(person, people.query):
        return False
    return all(any(_holds(c, person, world) for c in group) for group in people.groups())


# --- the properties ------------------------------------------------------------------------------------

# Writing a made-up hub costs most (some 0.1 s a person), reading a filter little: few hubs, many
# filters on each.
EXAMPLES = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,  # the same examples on every run and both databases: no flaky run
    # No shrinking: each example writes a hub's people, and the failure message already names the
    # filter and each person found or missed.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def actor(db):
    return User.objects.create_user("owner@example.org", "pw-long-enough")


def _explained(people: PeopleFilter, world: World, found: set[str], wanted: set[str]) -> str:
    extra, missing = sorted(found - wanted), sorted(wanted - found)
    by_email = {p.email: p for p in world.people}
    return (
        f"filter {people.to_json()} in {world.zone} (low {world.low_balance_minor}, lapsed "
        f"{world.lapsed_weeks} weeks)\n found but not meant: {[by_email[e] for e in extra]}"
        f"\n meant but not found: {[by_email[e] for e in missing]}"
    )


@EXAMPLES
@given(data=st.data(), world=worlds)
def test_the_selector_finds_exactly_the_people_a_plain_reading_of_the_filter_finds(actor, data, world):
    with transaction.atomic():
        hub, _ = _world_written(world, actor)
        for _ in range(30):
            wanted_filter = data.draw(filters(world), label="filter")
            found = set(people_matching(hub=hub, people=wanted_filter, now=NOW).values_list("email", flat=True))
            wanted = {p.email for p in world.people if _in(p, wanted_filter, world)}
            assert found == wanted, _explained(wanted_filter, world, found, wanted)
        transaction.set_rollback(True)


SORT_KEYS = {
    "orders": lambda p, w: len(p.completed),
    "spent": lambda p, w: p.spent_minor,
    "average": lambda p, w: p.spent_minor // len(p.completed) if p.completed else None,
    "balance": lambda p, w: p.balance_minor,
    "last_purchase": lambda p, w: p.last_order_at,
    "created": lambda p, w: p.created_at,
    "consent": lambda p, w: p.consent,
    "source": lambda p, w: p.source,
    "status": lambda p, w: ["lead", "customer", "lapsed", "archived"].index(_status(p, w)),
}


@settings(EXAMPLES, max_examples=5)
@given(data=st.data(), world=worlds)
def test_sorting_by_a_column_keeps_the_same_people_once_each_in_that_columns_order(actor, data, world):
    with transaction.atomic():
        hub, people_by_id = _world_written(world, actor)
        for _ in range(12):
            wanted_filter = data.draw(filters(world), label="filter")
            column = data.draw(st.sampled_from(sorted(SORT_KEYS)), label="column")
            descending = data.draw(st.booleans(), label="descending")
            matching = people_matching(hub=hub, people=wanted_filter, now=NOW)
            ids = list(
                people_sorted(matching, hub=hub, order=f"{'-' if descending else ''}{column}", now=NOW).values_list(
                    "id", flat=True
                )
            )
            assert len(ids) == len(set(ids)) == matching.count()
            assert set(ids) == set(matching.values_list("id", flat=True))
            keys = [SORT_KEYS[column](people_by_id[i], world) for i in ids]
            present = [key for key in keys if key is not None]
            assert keys == present + [None] * (len(keys) - len(present)), f"empty values last: {column} {keys}"
            assert present == sorted(present, reverse=descending), f"{column} {'desc' if descending else 'asc'}: {keys}"
        transaction.set_rollback(True)
