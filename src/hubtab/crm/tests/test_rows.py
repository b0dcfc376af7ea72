"""A person's row reads the same on the page (a page of people, read after it is chosen) and in an
export (every person, streamed from one query): tags, balance, what is spendable, figures, status
and notes; and reading a whole list leaves the database connection as it found it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hubtab.core.services import user_create
from hubtab.crm.activity import activity_record
from hubtab.crm.filters import PeopleFilter
from hubtab.crm.models import ActivityKind, Customer
from hubtab.crm.notes import note_add
from hubtab.crm.people import people_matching, people_sorted
from hubtab.crm.rows import customer_rows, customer_rows_iter
from hubtab.crm.services import customer_archive, customer_create
from hubtab.ledger.services import account_floor_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(books):
    """Marie: two tags, three orders, two notes, in credit with a debt limit; Hugo: one order long
    ago, in debt; Léa: a lead with no tag; Zoé: archived."""
    hub = books.hub
    author = user_create(email="crew@example.org", password=None, email_verified=True)
    marie = customer_create(hub=hub, email="marie@example.org", first_name="Marie", tags=["veg box", "eggs"])
    hugo = customer_create(hub=hub, email="hugo@example.org", first_name="Hugo", last_name="Martin", tags=["eggs"])
    lea = customer_create(hub=hub, email="lea@example.org", first_name="Léa")
    zoe = customer_create(hub=hub, email="zoe@example.org", first_name="Zoé", tags=["veg box"])
    account_floor_set(hub_id=hub.id, account_id=marie.account_id, floor_minor=-2000)
    books.top_up(marie.account, 5000)
    account_floor_set(hub_id=hub.id, account_id=hugo.account_id, floor_minor=-5000)
    books.spend(hugo.account, 1234)
    for i, (person, weeks_ago, amount_minor) in enumerate([(marie, 1, 3000), (marie, 2, 2500), (marie, 3, 1000),
                                                           (hugo, 30, 4000), (zoe, 2, 500)]):  # fmt: skip
        activity_record(
            customer=person, kind=ActivityKind.ORDER_COMPLETED, key=f"test:{i}", amount_minor=amount_minor,
            occurred_at=timezone.now() - timedelta(weeks=weeks_ago), unit="EUR",
        )  # fmt: skip
    note_add(hub=hub, customer=marie, author=author, body="Prefers Saturdays.")
    note_add(hub=hub, customer=marie, author=author, body="Asks for eggs.")
    customer_archive(hub=hub, customer=zoe)
    return {"marie": marie, "hugo": hugo, "lea": lea, "zoe": zoe}


def _seen(row):
    return (
        row.customer.email, row.customer.full_name, row.tags, row.balance_minor, row.spendable_minor,
        row.last_order_at, row.orders_completed, row.spent_minor, row.average_minor, row.status, row.notes_count,
    )  # fmt: skip


def test_a_row_reads_the_same_on_the_page_and_in_an_export(books, people):
    hub = books.hub
    everyone = people_sorted(people_matching(hub=hub, people=PeopleFilter(), everyone=True), hub=hub, order="name")
    on_page = customer_rows(hub=hub, customers=list(everyone))
    exported = list(customer_rows_iter(hub=hub, people=everyone))
    assert [_seen(row) for row in exported] == [_seen(row) for row in on_page]
    marie = next(row for row in on_page if row.customer.email == "marie@example.org")
    assert marie.tags == ["eggs", "veg box"] and marie.balance_minor == 5000 and marie.spendable_minor == 7000
    assert (marie.orders_completed, marie.spent_minor, marie.average_minor, marie.notes_count) == (3, 6500, 2166, 2)
    hugo = next(row for row in exported if row.customer.email == "hugo@example.org")
    assert (hugo.balance_minor, hugo.spendable_minor, hugo.status) == (-1234, 3766, "lapsed")
    lea = next(row for row in exported if row.customer.email == "lea@example.org")
    assert (lea.tags, lea.last_order_at, lea.orders_completed, lea.average_minor, lea.status) == (
        [],
        None,
        0,
        None,
        "lead",
    )
    zoe = next(row for row in exported if row.customer.email == "zoe@example.org")
    assert zoe.status == "archived"


def test_rows_of_another_hubs_people_are_empty_not_theirs(books, people, other_hub):
    theirs = customer_create(hub=other_hub, email="theirs@example.org", first_name="Theirs", tags=["secret"])
    row = customer_rows(hub=books.hub, customers=[Customer.objects.filter(hub=other_hub).get(id=theirs.id)])[0]
    assert (row.tags, row.balance_minor, row.spendable_minor, row.orders_completed) == ([], 0, None, 0)


def _planner_settings():
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting FROM pg_settings WHERE name IN ('jit', 'cursor_tuple_fraction')")
        return dict(cursor.fetchall())


def test_reading_a_whole_list_leaves_the_connection_as_it_found_it(books, people):
    """The export asks PostgreSQL to plan its one query as read whole; the next query on the same
    connection is planned as before."""
    before = _planner_settings()
    people_in_use = people_sorted(people_matching(hub=books.hub, people=PeopleFilter()), hub=books.hub, order="-name")
    read = [row.customer.email for row in customer_rows_iter(hub=books.hub, people=people_in_use)]
    assert read == ["hugo@example.org", "marie@example.org", "lea@example.org"]
    assert _planner_settings() == before
