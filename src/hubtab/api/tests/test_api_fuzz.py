"""Schemathesis sends what the OpenAPI document allows and much that it doesn't, to every endpoint:
none of it may give a server error. Bounded examples per endpoint, so that it fits the suite."""

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from hubtab.api.models import Scope
from hubtab.api.services import token_create
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.filters import Condition, PeopleFilter
from hubtab.crm.segments import segment_save
from hubtab.crm.services import customer_create
from hubtab.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def in_test_transaction():
    """As Django's test client does: requests must not close the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth(hub, in_test_transaction):
    customer_create(hub=hub, email="someone@example.org", tags=["veg box"])  # something to find
    owner = user_create(email="owner@example.org", password=None)  # CRM writes are made as the token's maker
    membership_grant(hub=hub, user=owner, role=Role.OWNER)
    segment_save(hub=hub, actor=owner, name="Veg", people=PeopleFilter((Condition("tags_any", "veg box"),)),
                 columns=[], order="-spent")  # fmt: skip
    secret = token_create(hub=hub, name="fuzz", scopes=list(Scope.values), created_by=owner)[1]
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_request_gives_a_server_error(case, auth):
    key = uuid.uuid4().hex  # a fresh key per request, so that every POST reaches its handler
    case.call_and_validate(headers={**auth, "Idempotency-Key": key}, checks=[not_a_server_error])
