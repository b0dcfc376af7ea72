"""Leads: people who sign up at a hub's shop (through the link the hub shares), people crew add by
hand, the hub's CRM settings (when a customer counts as lapsed, whether sign-ups are open), and a
lead becoming a customer at their first completed order."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from hubtab.accounts.services import credit_settings_update
from hubtab.core.errors import DomainError
from hubtab.core.models import AuditEvent, Membership, Role, User
from hubtab.core.services import membership_grant, user_create
from hubtab.crm.activity import activity_record
from hubtab.crm.crm_settings import crm_settings_update
from hubtab.crm.joining import customer_join
from hubtab.crm.models import Activity, ActivityKind, CrmSettings, Customer, Source
from hubtab.crm.selectors import customer_list
from hubtab.crm.services import customer_archive, customer_create
from hubtab.ledger.selectors import account_state
from hubtab.shop.services import order_complete
from hubtab.testing import Books, mail_text, run_in_threads, shop_objects

pytestmark = pytest.mark.django_db

PASSWORD = "green-beans-2026"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # allauth's sign-up limits count in the cache
    yield
    cache.clear()


@pytest.fixture
def owner(hub):
    user = user_create(email="owner@example.org", password=PASSWORD, email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.OWNER)
    return user


def _member(hub, role: Role, email: str) -> User:
    user = user_create(email=email, password=PASSWORD, email_verified=True)
    membership_grant(hub=hub, user=user, role=role)
    return user


def _kinds(customer) -> list[str]:
    return list(Activity.objects.across_hubs().filter(customer=customer).order_by("id").values_list("kind", flat=True))


def _records(hub, email: str):
    return Customer.objects.across_hubs().filter(hub=hub, email__iexact=email)


def _joins(hub) -> int:
    return AuditEvent.objects.across_hubs().filter(hub=hub, action="customer.join").count()


# --- 1. registered leads ------------------------------------------------------------------------


def test_a_visitor_follows_the_hubs_link_signs_up_confirms_and_joins_as_a_lead(client, hub, smtp_server):
    credit_settings_update(hub=hub, actor=None, default_floor_minor=-5000)  # crew's customers may owe 50 €
    join = reverse("hub_join", args=[hub.slug])
    page = client.get(join)
    assert page.status_code == 200 and "Shop at Green Valley Food Hub" in page.content.decode()
    signup = re.search(r'href="([^"]*/accounts/signup/[^"]*)"', page.content.decode()).group(1).replace("&amp;", "&")
    assert "next=%2Fjoin%2Fgreen-valley%2F" in signup

    response = client.post(signup, {"email": "Nina@Example.org", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert not _records(hub, "nina@example.org").exists()  # nobody joins before proving the address
    path = re.search(r"https?://\S+", mail_text(smtp_server[0])).group(0).split("testserver", 1)[-1]
    response = client.post(path, follow=True)
    assert response.redirect_chain[-1][0] == join  # back where they started, now logged in
    assert "You join as nina@example.org" in response.content.decode()

    response = client.post(join, {"marketing_consent": "on"})
    assert response["Location"] == reverse("shop", args=[hub.slug])
    nina = _records(hub, "nina@example.org").get()
    user = User.objects.get(email="nina@example.org")
    assert nina.source == Source.REGISTERED and nina.user_id == user.id
    assert nina.marketing_consent and nina.consent_source == "signup" and nina.consent_changed_at is not None
    assert Membership.objects.across_hubs().filter(hub=hub, user=user, role=Role.CUSTOMER).exists()
    assert [c.id for c in customer_list(hub=hub, status="lead")] == [nina.id]
    assert _kinds(nina) == ["customer_added", "consent_given"]
    added = Activity.objects.across_hubs().get(customer=nina, kind="customer_added")
    assert added.data == {"source": "registered"} and added.actor_id == user.id
    audit = AuditEvent.objects.across_hubs().get(hub=hub, action="customer.join")
    assert audit.actor_id == user.id and audit.subject_id == nina.id and audit.data["marketing_consent"] is True
    # A stranger from the web gets no credit line: the hub's -50 € is for people crew know.
    assert account_state(hub_id=hub.id, account_id=nina.account_id).floor_minor == 0
    shop = client.get(reverse("shop", args=[hub.slug]))
    assert shop.status_code == 200 and "Welcome to Green Valley Food Hub" in shop.content.decode()


def test_a_signed_in_person_joins_in_one_click_without_consent_and_crew_see_a_registered_lead(client, hub, owner):
    marie = user_create(email="marie@example.org", password=PASSWORD, email_verified=True,
                        first_name="Marie", last_name="Dubois")  # fmt: skip
    client.force_login(marie)
    assert client.post(reverse("hub_join", args=[hub.slug]))["Location"] == reverse("shop", args=[hub.slug])
    record = _records(hub, "marie@example.org").get()
    assert (record.full_name, record.marketing_consent, record.consent_source) == ("Marie Dubois", False, "")
    assert _kinds(record) == ["customer_added"]
    client.force_login(owner)
    page = client.get(reverse("customer_detail", args=[hub.slug, record.id])).content.decode()
    assert "Lead" in page and "Registered" in page and "Record created: Registered" in page
    assert "Signed up at the shop" in page  # the audit line


def test_joining_twice_keeps_one_record_and_a_member_is_sent_to_the_shop(client, hub):
    marie = user_create(email="marie@example.org", password=PASSWORD, email_verified=True)
    first = customer_join(hub=hub, user=marie)
    again = customer_join(hub=hub, user=marie, marketing_consent=True)
    assert first.created and not again.created and again.customer.id == first.customer.id
    client.force_login(marie)
    join = reverse("hub_join", args=[hub.slug])
    assert client.get(join)["Location"] == reverse("shop", args=[hub.slug])
    assert client.post(join, {"marketing_consent": "on"})["Location"] == reverse("shop", args=[hub.slug])
    assert _records(hub, "marie@example.org").count() == 1
    assert _joins(hub) == 1
    # Ticking the box the second time records the consent, once.
    assert _kinds(first.customer) == ["customer_added", "consent_given"]


@pytest.mark.django_db(transaction=True)
def test_two_joins_at_the_same_moment_make_one_record(hub):
    """A double click: two requests, each on its own connection, released together (on PostgreSQL they
    meet at the person's row lock; SQLite's write lock lines them up)."""
    marie = user_create(email="marie@example.org", password=PASSWORD, email_verified=True)
    results = []
    errors = run_in_threads(lambda n: results.append(customer_join(hub=hub, user=marie, marketing_consent=True)), 2)
    assert errors == []
    assert sorted(r.created for r in results) == [False, True]
    record = _records(hub, "marie@example.org").get()
    assert {r.customer.id for r in results} == {record.id}
    assert _joins(hub) == 1
    assert _kinds(record) == ["customer_added", "consent_given"]
    assert Membership.objects.across_hubs().filter(hub=hub, user=marie).count() == 1


def test_a_person_whose_record_was_archived_is_told_so_and_nothing_changes(client, hub, owner):
    marie = user_create(email="marie@example.org", password=PASSWORD, email_verified=True)
    record = customer_join(hub=hub, user=marie).customer
    customer_archive(hub=hub, customer=record, actor=owner)
    client.force_login(marie)
    join = reverse("hub_join", args=[hub.slug])
    for response in (client.get(join), client.post(join, {"marketing_consent": "on"})):
        page = response.content.decode()
        assert response.status_code == 200
        assert "Your account at Green Valley Food Hub is closed" in page and "Join Green Valley" not in page
    record.refresh_from_db()
    assert record.archived_at is not None and not record.marketing_consent
    assert _records(hub, "marie@example.org").count() == 1 and _joins(hub) == 1
    with pytest.raises(DomainError) as refused:
        customer_join(hub=hub, user=marie)
    assert refused.value.code == "customer_archived"


def test_an_archived_record_crew_kept_under_the_address_is_not_joined_around(client, hub, owner):
    kept = customer_create(hub=hub, email="hugo@example.org", actor=owner)
    customer_archive(hub=hub, customer=kept, actor=owner)
    hugo = user_create(email="hugo@example.org", password=PASSWORD, email_verified=True)
    client.force_login(hugo)
    page = client.post(reverse("hub_join", args=[hub.slug])).content.decode()
    assert "is closed" in page
    kept.refresh_from_db()
    assert kept.user_id is None and _records(hub, "hugo@example.org").count() == 1


def test_a_record_crew_kept_under_the_proven_address_is_linked_not_doubled(client, hub, owner):
    kept = customer_create(hub=hub, email="hugo@example.org", first_name="Hugo", actor=owner)  # before his login
    hugo = user_create(email="hugo@example.org", password=PASSWORD, email_verified=True)
    client.force_login(hugo)
    client.post(reverse("hub_join", args=[hub.slug]))
    kept.refresh_from_db()
    assert kept.user_id == hugo.id and kept.source == Source.CREW  # still the crew's record
    assert _records(hub, "hugo@example.org").count() == 1
    assert _kinds(kept) == ["customer_added", "joined"]
    audit = AuditEvent.objects.across_hubs().get(hub=hub, action="customer.join")
    assert audit.data["created"] is False and "linked" in audit.summary


def test_an_address_not_yet_proven_is_asked_to_confirm_first(client, hub):
    unproven = user_create(email="nina@example.org", password=PASSWORD, email_verified=False)
    client.force_login(unproven)
    join = reverse("hub_join", args=[hub.slug])
    for response in (client.get(join), client.post(join, {"marketing_consent": "on"})):
        assert "Confirm your email address first" in response.content.decode()
    assert not _records(hub, "nina@example.org").exists() and _joins(hub) == 0


def test_a_hub_that_closed_sign_ups_is_not_found_but_its_members_still_shop(client, hub, owner):
    member = user_create(email="member@example.org", password=PASSWORD, email_verified=True)
    customer_join(hub=hub, user=member)
    crm_settings_update(hub=hub, actor=owner, joining_open=False)
    join = reverse("hub_join", args=[hub.slug])
    assert client.get(join).status_code == 404  # a visitor
    stranger = user_create(email="nina@example.org", password=PASSWORD, email_verified=True)
    client.force_login(stranger)
    assert client.get(join).status_code == 404
    assert client.post(join, {"marketing_consent": "on"}).status_code == 404
    assert not _records(hub, "nina@example.org").exists()
    with pytest.raises(DomainError) as refused:
        customer_join(hub=hub, user=stranger)
    assert refused.value.code == "joining_closed"
    client.force_login(member)
    assert client.get(join)["Location"] == reverse("shop", args=[hub.slug])


def test_joining_one_hub_touches_no_other_and_an_unknown_hub_is_not_found(client, hub, other_hub):
    theirs = _member(other_hub, Role.OWNER, "riverside-owner@example.org")
    client.force_login(theirs)
    assert client.get(reverse("hub_join", args=["no-such-hub"])).status_code == 404
    client.post(reverse("hub_join", args=[hub.slug]))
    assert _records(hub, "riverside-owner@example.org").count() == 1  # a customer here too, now
    assert not _records(other_hub, "riverside-owner@example.org").exists()
    assert Membership.objects.across_hubs().filter(hub=other_hub, user=theirs).values_list("role", flat=True).get() == (
        "owner"
    )


# --- 2. leads added by hand ---------------------------------------------------------------------


def test_support_adds_a_person_by_hand_who_is_a_lead_from_crew(client, hub):
    support = _member(hub, Role.SUPPORT, "support@example.org")
    client.force_login(support)
    new = reverse("customer_new", args=[hub.slug])
    form = client.get(new).content.decode()
    assert "Add a person" in form and "lead until their first completed order" in form
    response = client.post(new, {"email": "lea@example.org", "first_name": "Léa", "last_name": "Petit"})
    lea = _records(hub, "lea@example.org").get()
    assert response["Location"] == reverse("customer_detail", args=[hub.slug, lea.id])
    assert lea.source == Source.CREW and lea.user_id is None
    page = client.get(response["Location"]).content.decode()
    assert 'status-lead">Lead' in page and "Created by crew" in page
    listing = client.get(reverse("customer_index", args=[hub.slug]), {"c": "status", "v": "lead", "j": "and"})
    assert "Léa" in listing.content.decode()
    # Support looks after people, never money: adding someone moved none, and the hub's limit applies.
    assert account_state(hub_id=hub.id, account_id=lea.account_id).balance_minor == 0


@pytest.mark.parametrize("role", [Role.FINANCE, Role.CUSTOMER])
def test_roles_that_may_not_edit_people_cannot_add_one(client, hub, role):
    client.force_login(_member(hub, role, f"{role}@example.org"))
    new = reverse("customer_new", args=[hub.slug])
    assert client.get(new).status_code == 403
    assert client.post(new, {"email": "lea@example.org"}).status_code == 403
    assert not _records(hub, "lea@example.org").exists()


# --- 3. the CRM settings page -------------------------------------------------------------------


def _bought(customer, weeks_ago: int) -> None:
    at = timezone.now() - timedelta(weeks=weeks_ago)
    activity_record(customer=customer, kind=ActivityKind.ORDER_COMPLETED, key=f"test-order-{customer.id}",
                    occurred_at=at, amount_minor=1200, unit="EUR")  # fmt: skip


def test_the_owner_chooses_when_a_customer_counts_as_lapsed_and_the_change_is_audited(client, hub, owner):
    hugo = customer_create(hub=hub, email="hugo@example.org", first_name="Hugo")
    _bought(hugo, weeks_ago=5)
    client.force_login(owner)
    detail = reverse("customer_detail", args=[hub.slug, hugo.id])
    assert 'status-customer">Customer' in client.get(detail).content.decode()  # 5 weeks < the default 8
    url = reverse("crm_settings", args=[hub.slug])
    page = client.get(url).content.decode()
    assert 'value="8"' in page and f"http://testserver{reverse('hub_join', args=[hub.slug])}" in page
    response = client.post(url, {"lapsed_after_weeks": "4", "joining_open": "on"})
    assert response["Location"] == url
    assert 'status-lapsed">Lapsed' in client.get(detail).content.decode()
    assert [c.id for c in customer_list(hub=hub, status="lapsed")] == [hugo.id]
    audit = AuditEvent.objects.across_hubs().get(hub=hub, action="crm_settings.update")
    assert audit.actor_id == owner.id and audit.data == {"lapsed_after_weeks": [8, 4]}
    client.post(url, {"lapsed_after_weeks": "4", "joining_open": "on"})  # saved again unchanged
    assert AuditEvent.objects.across_hubs().filter(hub=hub, action="crm_settings.update").count() == 1


def test_the_owner_turns_sign_ups_off_from_the_settings_page(client, hub, owner):
    client.force_login(owner)
    client.post(reverse("crm_settings", args=[hub.slug]), {"lapsed_after_weeks": "8"})  # the box left unticked
    assert CrmSettings.objects.across_hubs().get(hub=hub).joining_open is False
    page = client.get(reverse("crm_settings", args=[hub.slug])).content.decode()
    assert "Sign-ups are off" in page
    client.logout()
    assert client.get(reverse("hub_join", args=[hub.slug])).status_code == 404
    audit = AuditEvent.objects.across_hubs().get(hub=hub, action="crm_settings.update")
    assert audit.data == {"joining_open": [True, False]}


@pytest.mark.parametrize("typed", ["0", "-3", "1e9", "1,5", "1.5", "eight", "", "105", "1000000000", "١٢", "8 weeks"])
def test_weeks_that_are_not_a_whole_number_from_1_to_104_are_refused_and_change_nothing(client, hub, owner, typed):
    crm_settings_update(hub=hub, actor=owner, lapsed_after_weeks=6)
    client.force_login(owner)
    response = client.post(reverse("crm_settings", args=[hub.slug]), {"lapsed_after_weeks": typed})
    assert response.status_code == 200
    page = response.content.decode()
    assert "whole number of weeks from 1 to 104" in page or "This field is required" in page
    settings = CrmSettings.objects.across_hubs().get(hub=hub)
    assert (settings.lapsed_after_weeks, settings.joining_open) == (6, True)
    assert AuditEvent.objects.across_hubs().filter(hub=hub, action="crm_settings.update").count() == 1


@pytest.mark.parametrize("weeks", [0, -1, 105, 10**9, True, "8", 1.5])
def test_the_service_refuses_bad_weeks_too(hub, owner, weeks):
    with pytest.raises(DomainError) as refused:
        crm_settings_update(hub=hub, actor=owner, lapsed_after_weeks=weeks)
    assert refused.value.code == "validation_error"
    assert not CrmSettings.objects.across_hubs().filter(hub=hub).exists()


@pytest.mark.parametrize("role", [Role.FINANCE, Role.SUPPORT, Role.CUSTOMER])
def test_only_the_owner_changes_crm_settings(client, hub, role):
    client.force_login(_member(hub, role, f"{role}@example.org"))
    url = reverse("crm_settings", args=[hub.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, {"lapsed_after_weeks": "2"}).status_code == 403
    assert not CrmSettings.objects.across_hubs().filter(hub=hub).exists()
    listing = client.get(reverse("customer_index", args=[hub.slug])).content.decode()
    assert "CRM settings" not in listing


def test_another_hubs_owner_does_not_reach_this_hubs_settings(client, hub, other_hub, owner):
    client.force_login(_member(other_hub, Role.OWNER, "riverside-owner@example.org"))
    url = reverse("crm_settings", args=[hub.slug])
    assert client.get(url).status_code == 404
    assert client.post(url, {"lapsed_after_weeks": "2"}).status_code == 404
    assert not CrmSettings.objects.across_hubs().filter(hub=hub).exists()
    client.force_login(owner)  # and the owner here finds the page from the people list and credit settings
    assert (
        reverse("crm_settings", args=[hub.slug])
        in client.get(reverse("customer_index", args=[hub.slug])).content.decode()
    )
    assert (
        reverse("crm_settings", args=[hub.slug])
        in client.get(reverse("credit_settings", args=[hub.slug])).content.decode()
    )


# --- 4. a lead becomes a customer by themselves -------------------------------------------------


def test_a_registered_lead_becomes_a_customer_at_the_first_completed_order_and_the_timeline_says_so(client, hub, owner):
    nina = customer_join(hub=hub, user=user_create(email="nina@example.org", password=PASSWORD,
                                                   email_verified=True)).customer  # fmt: skip
    Books(hub).top_up(nina.account, 2000)
    client.force_login(owner)
    detail = reverse("customer_detail", args=[hub.slug, nina.id])
    assert 'status-lead">Lead' in client.get(detail).content.decode()
    order_complete(hub=hub, actor=owner, order_id=shop_objects(hub, nina)["order_id"])
    page = client.get(detail).content.decode()
    assert 'status-customer">Customer' in page and "Became a customer: first order completed" in page
    assert [c.id for c in customer_list(hub=hub, status="customer")] == [nina.id]
    order_complete(hub=hub, actor=owner, order_id=shop_objects(hub, nina)["order_id"])
    assert _kinds(nina).count("became_customer") == 1  # the first order only
    assert _kinds(nina)[:2] == ["customer_added", "order_placed"]
