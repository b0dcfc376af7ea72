"""Tenancy fails loudly: inside a hub's page or service, a query on a hub's rows that does not
name its hub raises, instead of serving another hub's rows; work across hubs says so."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from hubtab.core.access import hub_view
from hubtab.core.models import Role
from hubtab.core.permissions import Permission
from hubtab.core.services import membership_grant, user_create
from hubtab.core.tenancy import TenancyError, all_hubs
from hubtab.crm.models import Customer
from hubtab.crm.services import customer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_hubs(hub, other_hub):
    mine = customer_create(hub=hub, email="marie@example.org")
    theirs = customer_create(hub=other_hub, email="paul@example.org")
    return mine, theirs


def test_a_query_by_id_alone_raises_inside_a_hubs_page(hub, two_hubs):
    """The classic leak: a view that looks a row up by the id in the URL and forgets the hub."""
    _mine, theirs = two_hubs
    owner = user_create(email="owner@example.org", password=None, email_verified=True)
    membership_grant(hub=hub, user=owner, role=Role.OWNER)

    @hub_view(Permission.VIEW_CUSTOMERS)
    def careless(request, hub, customer_id):
        return HttpResponse(Customer.objects.get(id=customer_id).email)

    @hub_view(Permission.VIEW_CUSTOMERS)
    def careful(request, hub, customer_id):
        found = Customer.objects.filter(hub=hub, id=customer_id).first()
        return HttpResponse(found.email if found else "not found")

    request = RequestFactory().get("/")
    request.user = owner
    with pytest.raises(TenancyError, match="Customer does not name its hub"):
        careless(request, hub.slug, theirs.id)
    assert careful(request, hub.slug, theirs.id).content == b"not found"


@pytest.mark.parametrize(
    "query",
    [
        lambda theirs: Customer.objects.filter(id=theirs.id).first(),
        lambda theirs: Customer.objects.filter(email=theirs.email).exists(),
        lambda theirs: Customer.objects.count(),
        lambda theirs: Customer.objects.filter(id=theirs.id).update(first_name="Hacked"),
        lambda theirs: Customer.objects.filter(id=theirs.id).delete(),
        lambda theirs: list(Customer.objects.all().iterator()),
        # An OR that names the hub on one side only still reaches every hub.
        lambda theirs: list(Customer.objects.filter(hub=theirs.hub) | Customer.objects.filter(id=theirs.id)),
    ],
)
def test_every_way_of_reading_or_writing_without_the_hub_raises(two_hubs, query):
    _mine, theirs = two_hubs
    with pytest.raises(TenancyError):
        query(theirs)
    theirs.refresh_from_db()
    assert theirs.first_name == ""


def test_a_query_that_names_its_hub_or_a_row_of_it_runs(hub, two_hubs):
    mine, _theirs = two_hubs
    assert Customer.objects.filter(hub=hub).count() == 1
    assert Customer.objects.filter(hub__slug=hub.slug, id=mine.id).get() == mine
    assert [t.name for t in mine.tags.all()] == []  # a related manager: the row was read in its hub
    assert mine.activities.count() == 1  # reached through the customer, a row of the hub


def test_work_across_hubs_says_so(two_hubs):
    assert Customer.objects.across_hubs().count() == 2
    with all_hubs():
        assert Customer.objects.count() == 2
    with pytest.raises(TenancyError):
        Customer.objects.count()  # the context ended
