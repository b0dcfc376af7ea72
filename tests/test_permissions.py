"""Every hub URL x every role, from the one permission matrix (hubtab.core.permissions).

Members whose roles lack the page's permission get 403; people from another hub get 404 (the hub
might as well not exist); anonymous visitors are sent to log in.
"""

import pytest
from django.urls import reverse

from hubtab.core.models import Role, User
from hubtab.core.permissions import MATRIX
from hubtab.core.services import membership_grant
from hubtab.testing import hub_page_patterns, shop_objects

pytestmark = pytest.mark.django_db


HUB_PAGES = hub_page_patterns()
PEOPLE = ["owner", "finance", "support", "customer", "anonymous", "other_hub_owner"]


def test_every_hub_page_is_guarded_by_a_permission():
    assert HUB_PAGES, "no hub pages found"
    unguarded = [p.name for p in HUB_PAGES if not hasattr(p.callback, "hub_permission")]
    assert unguarded == []


@pytest.fixture
def people(hub, other_hub):
    users = {}
    for role in (Role.OWNER, Role.FINANCE, Role.SUPPORT, Role.CUSTOMER):
        users[role.value] = User.objects.create_user(f"{role}@example.org", "pw-long-enough")
        membership_grant(hub=hub, user=users[role.value], role=role)
    users["other_hub_owner"] = User.objects.create_user("other@example.org", "pw-long-enough")
    membership_grant(hub=other_hub, user=users["other_hub_owner"], role=Role.OWNER)
    return users


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("pattern", HUB_PAGES, ids=lambda p: p.name)
def test_each_person_gets_what_the_matrix_says(client, hub, people, hub_page_url, pattern, person):
    if person != "anonymous":
        client.force_login(people[person])
    response = client.get(hub_page_url(pattern, hub.slug))
    permission = pattern.callback.hub_permission
    if person == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif person == "other_hub_owner":
        assert response.status_code == 404
    elif permission in MATRIX[Role(person)]:
        if response.status_code == 405:  # an action page: allowed people POST to it and are sent on,
            response = client.post(hub_page_url(pattern, hub.slug))  # or shown the empty form's errors
            assert response.status_code in (200, 302)
        else:
            assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_a_hub_that_does_not_exist_is_404_for_everyone(client, people, hub_page_url):
    client.force_login(people["owner"])
    for pattern in HUB_PAGES:
        assert client.get(hub_page_url(pattern, "no-such-hub")).status_code == 404


def test_another_hubs_customer_is_404_even_through_my_own_hub(client, hub, other_hub, people):
    from hubtab.crm.services import customer_create

    theirs = customer_create(hub=other_hub, email="theirs@example.org")
    client.force_login(people["owner"])
    url = reverse("customer_detail", kwargs={"slug": hub.slug, "customer_id": theirs.id})
    assert client.get(url).status_code == 404


def test_support_never_gets_to_move_money():
    from hubtab.core.permissions import Permission

    assert Permission.MOVE_MONEY not in MATRIX[Role.SUPPORT]
    assert Permission.MOVE_MONEY in MATRIX[Role.FINANCE] and Permission.MOVE_MONEY in MATRIX[Role.OWNER]


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("name", ["portal_hub", "portal_statement", "shop", "shop_cart", "my_orders"])
def test_a_customers_own_pages_are_theirs_alone(client, hub, people, name, person):
    """My account at a hub: its customer sees it; nobody else learns it exists, crew of the hub included."""
    from hubtab.crm.models import Customer
    from hubtab.crm.services import customer_create

    record = customer_create(hub=hub, email="customer@example.org")
    Customer.objects.across_hubs().filter(id=record.id).update(user=people["customer"])
    kwargs = {"hub_slug": hub.slug, **({"fmt": "pdf"} if name == "portal_statement" else {})}
    if person != "anonymous":
        client.force_login(people[person])
    response = client.get(reverse(name, kwargs=kwargs))
    if person == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif person == "customer":
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("person", ["owner", "finance", "support"])
@pytest.mark.parametrize("action", ["extra_open", "extra_completed"])
def test_an_extra_on_a_completed_order_takes_money_so_it_needs_a_money_role(client, hub, people, person, action):
    """On an open order an extra only changes what completing will take: all crew. On a completed
    one it is taken at once: finance and the owner (ORDER_ACTIONS)."""
    from hubtab.core.permissions import ORDER_ACTIONS
    from hubtab.crm.services import customer_create
    from hubtab.ledger.selectors import account_state
    from hubtab.shop.services import order_complete
    from hubtab.testing import Books

    customer = customer_create(hub=hub, email="buyer@example.org", first_name="Buyer")
    Books(hub).top_up(customer.account, 2000)
    order_id = shop_objects(hub, customer)["order_id"]
    if action == "extra_completed":
        order_complete(hub=hub, actor=None, order_id=order_id)
    before = account_state(hub_id=hub.id, account_id=customer.account_id).balance_minor
    client.force_login(people[person])
    url = reverse("shop_order", kwargs={"slug": hub.slug, "order_id": order_id})
    page = client.get(url).content.decode()
    response = client.post(url + "extras/", {"extra-key": "x1", "extra-name": "Bag", "extra-quantity": "1",
                                             "extra-unit_price": "1.00"})  # fmt: skip
    allowed = ORDER_ACTIONS[action] in MATRIX[Role(person)]
    assert ("Add an extra" in page) == allowed
    assert response.status_code == (302 if allowed else 403)
    after = account_state(hub_id=hub.id, account_id=customer.account_id).balance_minor
    assert before - after == (100 if allowed and action == "extra_completed" else 0)
